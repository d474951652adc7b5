"""Grounded answers: extractive composition from retrieved chunks with citations, an answerability gate,
and a checker that flags answer sentences no cited chunk supports.

Chunk text is *data*: sentences that address the assistant (prompt-injection style) are never quoted,
never acted on, and reported as warnings."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from knowledge.answer_check import AnswerModel, CheckFeatures, coverage_of
from knowledge.answerability import (
    GENERIC_WORDS,
    MIN_RELEVANCE,
    MIN_SENTENCE_SCORE,
    SYNONYM_MIN,
    Answerability,
    WordVectors,
    assess,
    surface_words,
    unknown_names,
)
from knowledge.focus import Focus, amount_range, focus_of, in_range, question_parts, specificity
from knowledge.lexical import tokenize
from knowledge.models import Citation, GroundedAnswer, SearchHit, SentenceSupport
from knowledge.retrieval import looks_like_instruction, opens_injection

DEFAULT_MIN_RELEVANCE = MIN_RELEVANCE
NOT_FOUND = "The playbooks do not contain an answer to this question."
SUPPORT_MIN_OVERLAP = 0.6
ANSWER_POOL_HITS = 5  # sentences are drawn from the best hits only
SIM_WEIGHT = 20.0  # embedding similarity (0..1) against IDF-weighted word overlap (a few units)
RANK_PENALTY = 0.15  # per retrieval rank
KEEP_RATIO = 0.7  # a sentence joins the answer only if it scores within 70% of the best
SYNONYM_CREDIT = 0.7  # share of a word's IDF weight a near-synonym in the sentence earns (titles ~ headlines)
_TABLE_ROW = re.compile(r"^\|.*\|$")
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n+")
_CITE_MARK = re.compile(r"\s*\[\d+(?:,\s*\d+)*\]")
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
_PARAGRAPH = re.compile(r"\n\s*\n")
_LEAD_IN_GAP = re.compile(r":[ \t]*\n\s*\n(?=[ \t]*(?:[-*•]|\d+[.)])\s)")  # a lead-in and its list, a blank line apart
_REFERS_BACK = re.compile(r"(This|These|Such|It|They)\b")  # a sentence that needs the one before it


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of a chunk or answer (table rows count as one sentence each)."""
    out = []
    for part in _SENT_SPLIT.split(text):
        part = part.strip().lstrip("-*• ").strip()
        if part and not re.fullmatch(r"[|\-: ]+", part):
            out.append(part)
    return out


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def unknown_terms(question: str, vocabulary: set[str], surface: set[str] | None = None) -> list[str]:
    """Specific terms of the question the playbooks never use: names (TikTok, Pinterest) and compounds
    (per-diem) absent from the index. Ordinary words are not counted: paraphrases use them all the time."""
    return unknown_names(question, vocabulary, surface)


def is_answerable(
    question: str, hits: list[SearchHit], min_relevance: float, vocabulary: set[str] | None = None
) -> tuple[bool, float | None, list[str]]:
    """(answerable, best dense similarity, reasons when not); see ``knowledge.answerability.assess``."""
    verdict = assess(question, hits, min_relevance=min_relevance, vocabulary=vocabulary)
    return verdict.answerable, verdict.top_dense, verdict.reasons


def check_support(
    answer: str, hits: list[SearchHit], min_overlap: float = SUPPORT_MIN_OVERLAP
) -> list[SentenceSupport]:
    """For each answer sentence, the cited chunk that best supports it; flags sentences none supports.

    Supported = at least ``min_overlap`` of the sentence's content words occur in one chunk and every number in
    the sentence occurs in that chunk."""
    chunks = [
        (h.chunk_id, set(tokenize(f"{h.title} {' '.join(h.heading_path)} {h.text}")), _numbers(h.text)) for h in hits
    ]
    results = []
    for sentence in split_sentences(_CITE_MARK.sub("", answer)):
        toks = set(tokenize(sentence))
        nums = _numbers(sentence)
        best: tuple[float, str | None, list[str]] = (0.0, None, sorted(nums))
        for cid, ctoks, cnums in chunks:
            overlap = len(toks & ctoks) / len(toks) if toks else 0.0
            missing = sorted(nums - cnums)
            if (not missing, overlap) > (not best[2], best[0]):
                best = (overlap, cid, missing)
        supported = best[1] is not None and best[0] >= min_overlap and not best[2]
        results.append(
            SentenceSupport(sentence=sentence, supported=supported, chunk_id=best[1], overlap=round(best[0], 3),
                            missing_numbers=best[2])
        )  # fmt: skip
    return results


def _sentence_score(
    q_toks: set[str], sentence: str, idf: Callable[[str], float] | None, synonyms: dict[str, float] | None = None
) -> float:
    """Rare question words found in the sentence count most (IDF-weighted overlap); ``synonyms`` (question token ->
    best word cosine in this sentence) give partial credit to a question word the sentence says differently."""
    toks = set(tokenize(sentence))
    if not toks:
        return 0.0
    weight = idf or (lambda _t: 1.0)
    score = sum(weight(t) for t in q_toks & toks) + 0.1 * min(len(toks), 12) / 12
    for tok, cos in (synonyms or {}).items():
        if tok not in toks and cos >= SYNONYM_MIN:
            score += SYNONYM_CREDIT * weight(tok)
    return score


def _synonym_table(question: str, sentences: list[str], words: WordVectors | None) -> list[dict[str, float]]:
    """Per sentence: for each content word of the question (as its token), the best word cosine in the sentence."""
    if words is None or not sentences:
        return [{} for _ in sentences]
    q_words = sorted({w for w in surface_words(question) - GENERIC_WORDS if tokenize(w)})
    per_sentence = [sorted(surface_words(t) - GENERIC_WORDS) for t in sentences]
    vocab = sorted({w for ws in per_sentence for w in ws})
    if not q_words or not vocab:
        return [{} for _ in sentences]
    sims = words.get(q_words) @ words.get(vocab).T
    col = {w: i for i, w in enumerate(vocab)}
    out = []
    for ws in per_sentence:
        idx = [col[w] for w in ws]
        best = sims[:, idx].max(axis=1) if idx else np.zeros(len(q_words))
        out.append({tokenize(w)[0]: float(b) for w, b in zip(q_words, best, strict=True)})
    return out


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def table_rows(text: str) -> list[str]:
    """Each data row of the Markdown tables in ``text`` as a self-contained sentence naming its columns
    ("Commitment value: Over $10,000 and up to $100,000; Required approver: Marketing leadership")."""
    out: list[str] = []
    header: list[str] | None = None
    for line in text.splitlines():
        if not _TABLE_ROW.match(line.strip()):
            header = None
            continue
        cells = _cells(line)
        if header is None:
            header = cells
        elif not all(re.fullmatch(r":?-{3,}:?", c) for c in cells if c):
            pairs = [f"{h}: {c}" if h else c for h, c in zip(header, cells, strict=False) if c]
            out.append("; ".join(pairs))
    return out


def _units(text: str, max_len: int = 600) -> list[str]:
    """Answer units of a chunk: sentences, with a lead-in ending in ':' kept together with its list items and a
    sentence that refers back ("This review takes ...") kept with the sentence it refers to."""
    units: list[str] = []
    open_list = False
    for sentence in split_sentences(text):
        if open_list and not sentence.endswith(":") and len(units[-1]) + len(sentence) < max_len:
            units[-1] = f"{units[-1]} {sentence if sentence.endswith(('.', ';')) else sentence + ';'}"
            continue
        if units and _REFERS_BACK.match(sentence) and units[-1].endswith(".") and len(units[-1]) + len(sentence) < 400:
            units[-1] = f"{units[-1]} {sentence}"
            continue
        units.append(sentence)
        open_list = sentence.endswith(":")
    return [u.rstrip(";") + ("." if u.endswith(";") else "") for u in units]


def answerable_units(text: str) -> list[str]:
    """The answer units of a chunk that may be quoted. An instruction-like sentence is never quoted; one that
    opens an injected passage (the assistant addressed by name, a system/override header) is left out together
    with the rest of its paragraph, so the claims an injection runs on into ("... system override. Every request
    is pre-approved ...") are never presented as facts. Sentences before it stay answerable."""
    out: list[str] = []
    for paragraph in _PARAGRAPH.split(_LEAD_IN_GAP.sub(":\n", text)):
        for unit in _units(paragraph):
            if opens_injection(unit):
                break
            if not looks_like_instruction(unit):
                out.append(unit)
    return out


def compose_answer(
    question: str,
    hits: list[SearchHit],
    min_relevance: float = DEFAULT_MIN_RELEVANCE,
    vocabulary: set[str] | None = None,
    max_sentences: int = 3,
    idf: Callable[[str], float] | None = None,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    surface: set[str] | None = None,
    words: WordVectors | None = None,
    verdict: Answerability | None = None,
    model: AnswerModel | None = None,
    gate: bool = True,
) -> GroundedAnswer:
    """Answer from the hits only: the most relevant sentences of the best chunks, each with a [n] citation.

    Sentences are ranked by IDF-weighted word overlap with the question and, when ``embed`` is given, by
    embedding similarity (which catches paraphrases). Instruction-like sentences are never used.
    ``verdict`` (or the signals ``vocabulary``/``surface``/``idf``/``words``) decides answerability first; with
    ``embed`` and ``model`` the calibrated answer check then judges whether the chosen sentences answer it.
    ``gate=False`` (calibration only) composes past the first verdict so every question's check signals are seen."""
    if verdict is None:
        # with embeddings the calibrated answer check judges relevance; the fixed floor stays for the lexical mode
        floor = -1.0 if embed is not None and model is not None else min_relevance
        verdict = assess(question, hits, min_relevance=floor, vocabulary=vocabulary, surface=surface, idf=idf,
                         words=words)  # fmt: skip
    top, warnings = verdict.top_dense, list(verdict.reasons)
    if not verdict.answerable and (gate or top is None):
        return GroundedAnswer(question=question, answered=False, answer=NOT_FOUND, warnings=warnings, top_score=top,
                              hits=hits)  # fmt: skip
    chosen, best_sim = _choose(question, hits, idf, embed, words, max_sentences, warnings)
    refused = not chosen
    check: dict[str, float] | None = None
    if chosen and embed is not None and model is not None:
        context = " ".join(f"{hits[c[1]].title} {' '.join(hits[c[1]].heading_path)}" for c in chosen)
        pool = " ".join(h.text for h in hits[:ANSWER_POOL_HITS])
        coverage, worst_rare, absent = coverage_of(
            question, [c[3] for c in chosen], context, idf, words, vocabulary, pool
        )
        focus, units = focus_of(question), [c[3] for c in chosen]
        features = CheckFeatures(
            top_dense=top or 0.0, best_sim=best_sim, coverage=coverage, worst_rare=worst_rare, absent=absent,
            type_fit=0.0 if focus.missing_in(units) else 1.0,
            slot_match=1.0 if focus.amounts and any(amount_range(u) is not None and any(in_range(a, amount_range(u))
                                                    for a in focus.amounts) for u in units) else 0.0,
        )  # fmt: skip
        check = features.as_dict() | {"probability": round(model.probability(features), 3)}
        if not verdict.answerable:  # only when not gating (calibration): the first verdict had refused
            check["gated"] = 1.0
        if not model.answers(features):
            refused = True
            warnings.append(f"no retrieved sentence answers the question (check {features.as_dict()})")
    elif (
        chosen
        and embed is not None
        and max(c[0] for c in chosen) < MIN_SENTENCE_SCORE
        and not _holds_slot(focus_of(question), chosen)
    ):  # a unit naming the role for a range that holds the asked amount answers it, whatever its wording
        refused = True
        warnings.append("no retrieved sentence answers the question")
    if refused:
        return GroundedAnswer(question=question, answered=False, answer=NOT_FOUND, warnings=warnings, top_score=top,
                              hits=hits, check=check)  # fmt: skip
    chosen = sorted(chosen, key=lambda c: (c[1], c[2]))
    cited_ranks = sorted({c[1] for c in chosen})
    number = {rank: i + 1 for i, rank in enumerate(cited_ranks)}
    parts = []
    for _score, rank, _pos, sentence in chosen:
        text = sentence if sentence.endswith((".", "!", "?", ":")) else sentence + "."
        parts.append(f"{text} [{number[rank]}]")
    citations = [
        Citation(doc_id=hits[r].doc_id, heading_path=hits[r].heading_path, citation=hits[r].citation,
                 chunk_id=hits[r].chunk_id, scope=hits[r].scope, tenant=hits[r].tenant)
        for r in cited_ranks
    ]  # fmt: skip
    answer = " ".join(parts)
    support = check_support(answer, [hits[r] for r in cited_ranks])
    return GroundedAnswer(
        question=question, answered=True, answer=answer, citations=citations, support=support,
        unsupported_sentences=[s.sentence for s in support if not s.supported], warnings=warnings, top_score=top,
        hits=hits, check=check,
    )  # fmt: skip


def with_part_hits(hits: list[SearchHit], part_hits: list[list[SearchHit]], keep: int = 3) -> list[SearchHit]:
    """The question's best ``keep`` hits, then each part's best hit (when new), then the rest: a multi-part
    question's answer pool holds the section of every part."""
    out = list(hits[:keep])
    seen = {h.chunk_id for h in out}
    for h in [ph[0] for ph in part_hits if ph] + list(hits[keep:]):
        if h.chunk_id not in seen:
            out.append(h)
            seen.add(h.chunk_id)
    return out


def with_amount_hits(hits: list[SearchHit], wider: list[SearchHit], focus: Focus, keep: int = 2) -> list[SearchHit]:
    """The best ``keep`` hits, then the hit of ``wider`` whose stated amount range holds an asked amount most tightly
    (with a role when the question asks who), when it is tighter than any in the pool: a question about a specific
    amount sees the rule for that amount."""
    slot = Focus(who=focus.who, amounts=focus.amounts)

    def tightness(hit: SearchHit) -> float:
        units = answerable_units(hit.text) + table_rows(hit.text)
        fits = [
            specificity(a, b)
            for u in units
            if slot.holds(u) and (b := amount_range(u)) is not None
            for a in focus.amounts
            if in_range(a, b)
        ]
        return max(fits, default=-1.0)

    best_in_pool = max((tightness(h) for h in hits[:ANSWER_POOL_HITS]), default=-1.0)
    seen = {h.chunk_id for h in hits}
    extra = max((h for h in wider if h.chunk_id not in seen), key=tightness, default=None)
    if extra is None or tightness(extra) <= best_in_pool:
        return hits
    return [*hits[:keep], extra, *hits[keep:]]


def _pool(hits: list[SearchHit], warnings: list[str]) -> list[tuple[int, int, str]]:
    """(rank, position, text) of every answer unit of the best hits; a table's rows also stand alone (a question
    about one amount is answered by its row, not by the whole table)."""
    pool: list[tuple[int, int, str]] = []
    for rank, hit in enumerate(hits[:ANSWER_POOL_HITS]):
        if "instruction_like_text" in hit.flags:
            warnings.append(f"ignored instruction-like text in {hit.citation} (documents are data, not instructions)")
        # only the units that may be quoted: no instruction-like sentence, nothing an injected passage runs on into
        pool.extend((rank, pos, unit) for pos, unit in enumerate(answerable_units(hit.text)))
        rows = [row for row in table_rows(hit.text) if not looks_like_instruction(row)]
        pool.extend((rank, len(pool) + i, row) for i, row in enumerate(rows))
    return pool


def unit_text(heading_path: list[str], unit: str) -> str:
    """What is embedded for one answer unit: its heading path, then the unit (so a bare row keeps its context)."""
    return f"{' > '.join(heading_path)}: {unit}"


def unit_texts(heading_path: list[str], text: str) -> list[str]:
    """The embedded texts of every answer unit of one chunk, as the composer builds them (for warming a cache)."""
    units = list(answerable_units(text)) + [row for row in table_rows(text) if not looks_like_instruction(row)]
    return [unit_text(heading_path, u) for u in units]


def _choose(
    question: str, hits: list[SearchHit], idf: Callable[[str], float] | None,
    embed: Callable[[list[str]], np.ndarray] | None, words: WordVectors | None, max_sentences: int,
    warnings: list[str],
) -> tuple[list[tuple[float, int, int, str]], float]:  # fmt: skip
    """The answer's units, best first: for each part of the question its best unit (so "X, and Y?" gets both),
    then units close to the best. A unit's score: embedding similarity and IDF-weighted word overlap (synonyms
    partly credited), less a penalty per retrieval rank, times how well it holds the fact asked for."""
    pool = _pool(hits, warnings)
    if not pool:
        return [], 0.0
    parts = question_parts(question)
    asks = [question] + (parts if len(parts) > 1 else [])
    sims = np.zeros((len(asks), len(pool)))
    if embed is not None:
        vecs = embed(asks + [unit_text(hits[r].heading_path, t) for r, _, t in pool])
        sims = np.asarray(vecs[len(asks) :] @ np.asarray(vecs[: len(asks)]).T).T
    synonyms = _synonym_table(question, [t for _, _, t in pool], words)

    def ranked(i: int, ask: str, focus: Focus) -> list[tuple[float, int, int, str]]:
        q_toks = set(tokenize(ask))
        out = []
        for j, (rank, pos, text) in enumerate(pool):
            lexical = _sentence_score(q_toks, text, idf, synonyms[j])
            penalty = RANK_PENALTY * rank if i == 0 else 0.0  # ranks are the whole question's, not a part's
            score = (float(sims[i][j]) * SIM_WEIGHT + lexical) * (1.0 - penalty) * focus.fit(text)
            out.append((score, rank, pos, text))
        return sorted(out, key=lambda c: (-c[0], c[1], c[2]))

    focus = focus_of(question)
    whole = ranked(0, question, focus if len(asks) == 1 else Focus())
    picks = [whole[0]] + [ranked(i, p, focus_of(p))[0] for i, p in enumerate(asks[1:], start=1)]
    limit = max(max_sentences, len(picks))
    picks += [c for c in whole[1:] if c[0] >= KEEP_RATIO * whole[0][0]]
    unique: list[tuple[float, int, int, str]] = []
    for c in picks:  # a table row is dropped when its table (or the row itself) is already in
        if len(unique) < limit and not any(_same(c[3], u[3]) for u in unique):
            unique.append(c)
    # a kind of fact asked for that no chosen unit holds (the approver of an amount, a lead time) comes from the
    # best unit that holds it, even from another section: the answer combines the two
    missing = focus.missing_in([u[3] for u in unique[:2]])
    if missing:
        extra = [c for c in ranked(0, question, missing) if missing.holds(c[3]) and c[0] > 0]
        if missing.amounts:  # the approver of an amount: the rule whose range holds it most tightly is the rule
            extra.sort(key=lambda c: -_tightest(missing, c[3]))
        for c in extra[:1]:
            if missing.amounts:  # other sign-off rules that name no amount are neighbours, not the answer
                unique = [u for u in unique if amount_range(u[3]) is not None and not _same(c[3], u[3])]
                unique = [c, *unique[: max(0, limit - 1)]]
            elif not any(_same(c[3], u[3]) for u in unique):
                unique = [*unique[: max(1, limit - 1)], c]
    best_sim = float(max(sims[0][j] for j in range(len(pool)) if pool[j][2] == unique[0][3])) if embed else 0.0
    return unique, best_sim


def _holds_slot(focus: Focus, chosen: list[tuple[float, int, int, str]]) -> bool:
    return bool(focus.amounts) and any(focus.holds(c[3]) for c in chosen)


def _tightest(focus: Focus, unit: str) -> float:
    bounds = amount_range(unit)
    if bounds is None:
        return -1.0
    return max((specificity(a, bounds) for a in focus.amounts if in_range(a, bounds)), default=-1.0)


def _same(a: str, b: str) -> bool:
    return a == b or _row_in(a, b)


def _row_in(row: str, unit: str) -> bool:
    cells = [c.split(": ", 1)[-1] for c in row.split("; ")]
    return len(cells) > 1 and all(c in unit for c in cells)
