"""Fuzzy matching of what the user wrote against real names from tool results (campaigns, tasks, people).

Token overlap weighted by how rare each token is among the candidate names, with difflib for typos; a name that
shares a distinctive word with the request ("the summit") matches even when the rest is left out.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_TOKEN_RE = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
# Words that never identify a campaign or task on their own.
GENERIC = {"the", "a", "an", "of", "and", "for", "to", "in", "on", "at", "by", "with", "our", "my", "campaign",
           "campaigns", "project", "projects", "task", "tasks", "program", "series", "new", "it", "its",
           "is"}  # fmt: skip
_PERIODISH = re.compile(r"^(q[1-4]|\d{4}|\d+)$")


@dataclass(frozen=True, slots=True)
class NameMatch:
    """A candidate name that the text refers to: its index in the candidate list, score 0-1, token spans."""

    index: int
    name: str
    score: float
    spans: tuple[tuple[int, int], ...]


def tokens(text: str) -> list[tuple[str, int, int]]:
    """Lower-case word tokens with their character spans."""
    return [(m.group(0), m.start(), m.end()) for m in _TOKEN_RE.finditer(text.lower())]


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) < 4 or len(b) < 4 or a[0] != b[0]:
        return False
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.85


def match_names(text: str, names: Sequence[str], cutoff: float = 0.55) -> list[NameMatch]:
    """Every candidate in ``names`` that ``text`` refers to with score >= ``cutoff``, best first.

    A name written out in full scores 1.0; otherwise the rarity-weighted share of its words found in the text,
    raised to 0.6 when a word unique to this candidate (not a number, year or quarter) is in the text, or two of
    its words are and one of them is unique.
    """
    text_tokens = tokens(text)
    runs = _title_case_runs(text, text_tokens)  # once per text, not per candidate name
    lowered = " " + " ".join(t for t, _, _ in text_tokens) + " "
    name_tokens = [[t for t, _, _ in tokens(n)] for n in names]
    df = Counter(t for toks in name_tokens for t in set(toks))
    total = max(len(names), 1)
    out: list[NameMatch] = []
    for i, (name, toks) in enumerate(zip(names, name_tokens, strict=True)):
        meaningful = [t for t in toks if t not in GENERIC] or toks
        if not meaningful:
            continue
        if f" {' '.join(toks)} " in lowered:
            spans = _phrase_spans(text_tokens, toks)
            out.append(NameMatch(i, name, 1.0, spans))
            continue
        weight = {t: math.log(1 + total / df[t]) for t in meaningful}
        matched: dict[str, tuple[int, int]] = {}
        for t in meaningful:
            for u, s, e in text_tokens:
                if u not in GENERIC and _same(t, u):
                    matched.setdefault(t, (s, e))
                    break
        if not matched:
            continue
        score = sum(weight[t] for t in matched) / sum(weight.values())
        unique = [t for t in matched if df[t] == 1]
        boost = any(not _PERIODISH.match(t) for t in unique) or (unique and len(matched) >= 2)
        if boost and _names_something_else(runs, matched.values(), set(toks)):
            boost = False
        if boost:
            score = max(score, 0.6)
        if score >= cutoff:
            out.append(NameMatch(i, name, round(score, 3), tuple(sorted(matched.values()))))
    return sorted(out, key=lambda m: (-m.score, m.index))


def _title_case_runs(text: str, text_tokens: list[tuple[str, int, int]]) -> list[list[tuple[str, int, int]]]:
    """Runs of consecutive tokens the user wrote capitalised (or as digits): the names they typed."""
    runs: list[list[tuple[str, int, int]]] = []
    run: list[tuple[str, int, int]] = []
    for tok in text_tokens:
        if text[tok[1]].isupper() or text[tok[1]].isdigit():
            run.append(tok)
            continue
        if run:
            runs.append(run)
        run = []
    if run:
        runs.append(run)
    return runs


def _names_something_else(
    runs: list[list[tuple[str, int, int]]], spans: Iterable[tuple[int, int]], name_toks: set[str]
) -> bool:
    """True when a matched word sits in a Title Case run the user wrote with two or more other words of no part
    of this name ("the Spring Device Launch campaign" is not "Spring Partner Co-Marketing")."""
    hit = set(spans)
    for r in runs:
        if any((s, e) in hit for _, s, e in r):
            other = [t for t, _, _ in r if t not in GENERIC and not any(_same(t, n) for n in name_toks)]
            if len(other) >= 2:
                return True
    return False


def _phrase_spans(text_tokens: list[tuple[str, int, int]], toks: list[str]) -> tuple[tuple[int, int], ...]:
    words = [t for t, _, _ in text_tokens]
    for start in range(len(words) - len(toks) + 1):
        if words[start : start + len(toks)] == toks:
            return ((text_tokens[start][1], text_tokens[start + len(toks) - 1][2]),)
    return ()


def best_match(text: str, names: Sequence[str], cutoff: float = 0.55) -> tuple[NameMatch | None, list[NameMatch]]:
    """(the one match, or None when there is none or it is ambiguous; every match above the cutoff).

    Ambiguous: the best two score within 0.1 of each other and neither was written out in full.
    """
    found = match_names(text, names, cutoff)
    if not found:
        return None, []
    if len(found) > 1 and found[0].score < 1.0 and found[0].score - found[1].score < 0.1:
        return None, found
    return found[0], found


def suggestions(text: str, names: Sequence[str], limit: int = 3) -> list[str]:
    """Names that look a little like the text (for a clarifying question), best first."""
    scored = match_names(text, names, cutoff=0.2)
    if scored:
        return [m.name for m in scored[:limit]]
    return difflib.get_close_matches(text, list(names), n=limit, cutoff=0.3)


@dataclass(frozen=True, slots=True)
class Person:
    """Someone a task can be assigned to in one system."""

    id: str
    name: str
    email: str | None = None


def match_person(written: str, people: Sequence[Person]) -> tuple[Person | None, list[Person]]:
    """(the person ``written`` refers to, or None; every candidate) by id, e-mail, full name or first name."""
    w = written.strip().lstrip("@").lower()
    if not w:
        return None, []
    exact = [p for p in people if w in (p.id.lower(), (p.email or "").lower(), p.name.lower())]
    if exact:
        return (exact[0] if len(exact) == 1 else None), exact
    local = [p for p in people if p.email and p.email.lower().split("@")[0] == w]
    if len(local) == 1:
        return local[0], local
    first = [p for p in people if p.name.lower().split()[0] == w.split()[0] or p.id.lower().split(".")[0] == w]
    if len(first) == 1:
        return first[0], first
    if len(first) > 1:
        return None, first
    close = difflib.get_close_matches(w, [p.name.lower() for p in people], n=3, cutoff=0.75)
    hits = [p for p in people if p.name.lower() in close]
    return (hits[0] if len(hits) == 1 else None), hits
