"""Is the question answerable from the retrieved chunks? Three cross-checked signals, tuned on the dev sets only
(knowledge/eval/qa_dev*.yaml, unanswerable_dev.yaml) and reported on the held-out sets:

1. topical relevance: the best dense cosine must reach ``min_relevance``, unless the best chunk covers nearly all
   of the question's (IDF-weighted) words, which rescues terse lexical questions the embedding scores low;
2. names: a proper name (mid-sentence capital, internal capital) whose exact form the playbooks never use
   (TikTok, Snapchat, YouTube "Shorts") means the playbooks are about something else;
3. concepts: a content word the playbooks never use ("loyalty", "investors", "podcast") must have a near-synonym
   among the words of the top chunks (word-embedding cosine >= ``synonym_min``: supplier~vendor, bill~invoice);
   an unmatched one means a near-miss (the area is covered, the asked thing is not). Only checked while the
   question as a whole matches weakly (dense < ``strong_match``): a strong match tolerates an odd word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from knowledge.lexical import STOPWORDS, tokenize
from knowledge.models import SearchHit

MIN_RELEVANCE = 0.37  # best dense cosine below this: off-topic (dev: answerable >= 0.385, unanswerable 0.13-0.54)
LEXICAL_RESCUE = 0.8  # ...unless the best chunk holds this IDF-weighted share of the question's words
STRONG_MATCH = 0.5  # dense at or above this: on-topic even with an unmatched word (dev plateau 0.50-0.60)
SYNONYM_MIN = 0.62  # word cosine that counts as a near-synonym (dev plateau 0.60-0.65)
MIN_SENTENCE_SCORE = 8.0  # best unit score under this: nothing answers (dev answerable >= 9.8; a floor only)
TOP_HITS = 3  # words of the best chunks only: a synonym must be where the answer would be
_WORD = re.compile(r"(?<![0-9$€£])[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*")

# Function words and generic question words that carry no topic (after the Glasgow IR stop list, without the
# few topic nouns it contains, plus the verbs and adverbs questions are built from).
_GENERIC_TEXT = """
a about above across after afterwards again against all almost alone along already also although always am among
amongst an and another any anyhow anyone anything anyway anywhere are around as at back be became because become
becomes becoming been before beforehand behind being below beside besides between beyond both but by can cannot
cant co could couldnt de do does doing did done down due during each eg either else elsewhere enough etc even ever
every everyone everything everywhere except few first for former formerly from further get gets getting give
given go goes going got had has hasnt have having he hence her here hereafter hereby herein hereupon hers herself
him himself his how however i ie if in inc indeed into is it its itself just keep last latter latterly least
less let like ltd made make makes many may me meanwhile might mine more moreover most mostly much must my myself
namely need needs neither never nevertheless next no nobody none noone nor not nothing now nowhere of off often ok
okay on once only onto or other others otherwise our ours ourselves out over own per perhaps please put rather re
really same say says see seem seemed seeming seems several she should since so some somehow someone something
sometime sometimes somewhere still such take than that the their theirs them themselves then thence there
thereafter thereby therefore therein thereupon these they thing things this those though through throughout thru
thus to together too toward towards un under until up upon us use used using very via want was way we well were
what whatever when whence whenever where whereafter whereas whereby wherein whereupon wherever whether which while
whither who whoever whole whom whose why will with within without would yes yet you your yours yourself
yourselves one two three four five six seven eight nine ten
"""
GENERIC_WORDS = frozenset(_GENERIC_TEXT.split()) | STOPWORDS


@dataclass
class Answerability:
    """The verdict and the signals behind it (reasons say why a question was refused)."""

    answerable: bool
    top_dense: float | None
    coverage: float = 0.0
    unknown_names: list[str] = field(default_factory=list)
    unmatched_words: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


class WordVectors:
    """Embeddings of single words, cached (a few hundred distinct words cover many questions)."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], max_size: int = 50_000) -> None:
        self.embed = embed
        self.max_size = max_size
        self._cache: dict[str, np.ndarray] = {}

    def get(self, words: Iterable[str]) -> np.ndarray:
        """Unit vectors of ``words`` (rows in the given order)."""
        words = list(words)
        missing = sorted({w for w in words if w not in self._cache})
        if missing:
            if len(self._cache) + len(missing) > self.max_size:
                self._cache.clear()  # bounded memory; refilling is cheap
            for w, v in zip(missing, self.embed(missing), strict=True):
                self._cache[w] = np.asarray(v, dtype=np.float32)
        if not words:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._cache[w] for w in words])


def surface_words(text: str) -> set[str]:
    """Lowercased word forms of a text (unstemmed: names must match exactly)."""
    return {m.group(0).lower() for m in _WORD.finditer(text)}


def _question_words(question: str) -> list[tuple[str, bool]]:
    """(word, looks like a name) for each word of the question, possessive 's removed."""
    out = []
    for m in _WORD.finditer(question):
        word = m.group(0)
        if word.lower().endswith("'s"):
            word = word[:-2]
        is_name = (m.start() > 0 and word[0].isupper()) or any(c.isupper() for c in word[1:])
        out.append((word, is_name))
    return out


def unknown_names(question: str, vocabulary: set[str], surface: set[str] | None = None) -> list[str]:
    """Names and hyphenated compounds of the question the playbooks never use (TikTok, per-diem).

    With ``surface`` (the corpus's unstemmed word forms) a name must occur in exactly that form, so "Shorts" is
    not excused by "short"; without it the stemmed vocabulary decides."""
    found = []
    for word, is_name in _question_words(question):
        toks = tokenize(word)
        if not toks or word.lower() in GENERIC_WORDS:  # "OK", "ASAP"-style capitals are not names
            continue
        parts = [t for t in tokenize(word.replace("-", " ")) if t not in STOPWORDS]
        unknown_compound = "-" in word and any(p not in vocabulary for p in parts)
        if surface is not None and is_name and len(word) > 2:
            absent = word.lower() not in surface
        else:
            absent = toks[0] not in vocabulary
        if absent and (is_name or unknown_compound) and word not in found:
            found.append(word)
    return found


def lexical_coverage(question: str, hit: SearchHit, idf: Callable[[str], float] | None) -> float:
    """IDF-weighted share of the question's tokens found in the chunk (title and heading path included)."""
    q = set(tokenize(question))
    if not q:
        return 0.0
    weight = idf or (lambda _t: 1.0)
    chunk = set(tokenize(f"{hit.title} {' '.join(hit.heading_path)} {hit.text}"))
    total = sum(weight(t) for t in q)
    return sum(weight(t) for t in q & chunk) / total if total else 0.0


def unmatched_words(
    question: str, hits: list[SearchHit], vocabulary: set[str], words: WordVectors, synonym_min: float = SYNONYM_MIN
) -> list[str]:
    """Content words of the question absent from the playbooks with no near-synonym in the top chunks."""
    candidates = []
    for word, _is_name in _question_words(question):
        low = word.lower()
        toks = tokenize(low)
        if low in GENERIC_WORDS or not toks or all(t in vocabulary for t in toks) or low in candidates:
            continue
        candidates.append(low)
    if not candidates or not hits:
        return candidates
    context = sorted(
        {w for h in hits[:TOP_HITS] for w in surface_words(f"{h.title} {' '.join(h.heading_path)} {h.text}")}
        - GENERIC_WORDS
    )
    if not context:
        return candidates
    sims = words.get(candidates) @ words.get(context).T
    return [w for w, best in zip(candidates, sims.max(axis=1), strict=True) if best < synonym_min]


def assess(
    question: str,
    hits: list[SearchHit],
    *,
    min_relevance: float = MIN_RELEVANCE,
    vocabulary: set[str] | None = None,
    surface: set[str] | None = None,
    idf: Callable[[str], float] | None = None,
    words: WordVectors | None = None,
) -> Answerability:
    """Whether the hits can answer the question; each signal is used when its inputs are given."""
    dense = [h.scores.dense for h in hits if h.scores.dense is not None]
    top = max(dense) if dense else None
    if top is None:
        return Answerability(False, None, reasons=["nothing relevant was retrieved"])
    coverage = lexical_coverage(question, hits[0], idf) if hits else 0.0
    verdict = Answerability(True, top, coverage=round(coverage, 3))
    if top < min_relevance and coverage < LEXICAL_RESCUE:
        verdict.reasons.append(f"best relevance {round(top, 3)} below {min_relevance}")
    if vocabulary is not None:
        verdict.unknown_names = unknown_names(question, vocabulary, surface)
        if verdict.unknown_names:
            verdict.reasons.append(f"terms not found in the playbooks: {', '.join(verdict.unknown_names)}")
        if words is not None and not verdict.reasons and top < STRONG_MATCH:
            verdict.unmatched_words = unmatched_words(question, hits, vocabulary, words)
            if verdict.unmatched_words:
                verdict.reasons.append(
                    f"the playbooks never mention: {', '.join(verdict.unmatched_words)} (nor a synonym)"
                )
    verdict.answerable = not verdict.reasons
    return verdict
