"""Does the composed answer answer the question? A small logistic model over what the chosen sentences hold,
calibrated on the dev questions only (``benchmarks/calibrate_answer_check.py`` fits it with leave-one-out
cross-validation and prints the constants below; the frozen and held-out sets are never used to fit).

Features of one (question, chosen sentences) pair (content words: the question's words less function words, numbers
and the word after "how", which shapes the question rather than naming its topic):
- ``top_dense``: the best chunk's dense cosine (is the area covered at all?);
- ``best_sim``: the cosine between the question and its best sentence (does one sentence say it?);
- ``coverage``: IDF-weighted mean over the content words of how well the chosen sentences (with their headings)
  hold each (1 when they contain it, else its best word-embedding cosine with their words);
- ``worst_rare``: that value for the worse of the two rarest content words (the thing asked about is missing);
- ``absent``: IDF-weighted share of content words the playbooks never use and the retrieved passages hold no
  near-synonym of ("laptop", "loyalty": the area is covered, the asked thing is not);
- ``type_fit``: whether a chosen sentence holds the kind of fact asked for (a role for "who", a duration for "how
  long", an amount for "how much", a system for "which system");
- ``slot_match``: whether the question names an amount and a chosen sentence states a range holding it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from knowledge.answerability import GENERIC_WORDS, WordVectors, surface_words
from knowledge.lexical import tokenize

FEATURES = ("top_dense", "best_sim", "coverage", "worst_rare", "absent", "type_fit", "slot_match")
# Fitted by benchmarks/calibrate_answer_check.py on the dev questions (standardised features, L2 logistic regression);
# the threshold is the one leave-one-out cross-validation chose (dev, LOO: 5% of answerable refused, 80% of
# unanswerable refused together with the first verdict). Re-run the script after changing a feature.
MEAN = (0.5335, 0.5566, 0.7380, 0.6027, 0.1792, 1.0000, 0.0571)
SCALE = (0.1447, 0.1657, 0.1797, 0.2688, 0.2427, 1.0000, 0.2321)
WEIGHTS = (0.6283, 1.1276, 0.5215, 0.1095, -0.8919, 0.0000, 0.4087)
BIAS = 0.3622
THRESHOLD = 0.21
SYNONYM_MIN = 0.62  # as in the answerability check: a word cosine that counts as a near-synonym
_HAS_LETTERS = re.compile(r"[a-z]{2,}")
_WORDS = re.compile(r"(?<![0-9$€£])[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*")
_AFTER_HOW = re.compile(r"\bhow\s+([a-z]+)", re.I)


@dataclass
class CheckFeatures:
    """The signals one answer is judged on (reported with the answer's warnings when it is refused)."""

    top_dense: float
    best_sim: float
    coverage: float
    worst_rare: float
    absent: float
    type_fit: float
    slot_match: float = 0.0

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, f) for f in FEATURES], dtype=np.float64)

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class AnswerModel:
    """A standardised logistic model and its decision threshold."""

    mean: tuple[float, ...] = MEAN
    scale: tuple[float, ...] = SCALE
    weights: tuple[float, ...] = WEIGHTS
    bias: float = BIAS
    threshold: float = THRESHOLD

    def probability(self, features: CheckFeatures) -> float:
        z = (features.vector() - np.array(self.mean)) / np.array(self.scale)
        return float(1.0 / (1.0 + math.exp(-(float(z @ np.array(self.weights)) + self.bias))))

    def answers(self, features: CheckFeatures) -> bool:
        return self.probability(features) >= self.threshold


def content_words(question: str) -> list[tuple[str, str]]:
    """(surface word, token) of the question's content words, in order."""
    shaping = {m.group(1).lower() for m in _AFTER_HOW.finditer(question)}
    out: list[tuple[str, str]] = []
    for word in _WORDS.findall(question):
        low = word.lower().removesuffix("'s")
        toks = tokenize(low)
        if low in GENERIC_WORDS or low in shaping or not toks or not _HAS_LETTERS.search(toks[0]):
            continue
        if toks[0] not in {t for _, t in out}:
            out.append((low, toks[0]))
    return out


def coverage_of(
    question: str, units: list[str], context: str, idf: Callable[[str], float] | None, words: WordVectors | None,
    vocabulary: set[str] | None = None, pool: str = "",
) -> tuple[float, float, float]:  # fmt: skip
    """(coverage, worst_rare, absent) of the chosen ``units`` for the question; see the module docstring."""
    q = content_words(question)
    if not q:
        return 1.0, 1.0, 0.0
    weight = idf or (lambda _t: 1.0)
    text = " ".join(units) + " " + context
    have = set(tokenize(text))
    held = {t: 1.0 for _, t in q if t in have}
    ask = [(w, t) for w, t in q if t not in held]
    vocab = sorted(surface_words(text) - GENERIC_WORDS)
    if ask and vocab and words is not None:
        best = (words.get([w for w, _ in ask]) @ words.get(vocab).T).max(axis=1)
        held.update({t: max(0.0, float(b)) for (_, t), b in zip(ask, best, strict=True)})
    value = {t: held.get(t, 0.0) for _, t in q}
    weights = {t: weight(t) for _, t in q}
    total = sum(weights.values()) or 1.0
    coverage = sum(weights[t] * value[t] for t in value) / total
    rare = sorted(value, key=lambda t: -weights[t])[:2]
    worst_rare = min(value[t] for t in rare)
    absent = 0.0
    unknown = [(w, t) for w, t in q if vocabulary is not None and t not in vocabulary]
    near = sorted(surface_words(f"{text} {pool}") - GENERIC_WORDS)
    if unknown and near and words is not None:  # a word the playbooks never use, with no near-synonym retrieved
        best = (words.get([w for w, _ in unknown]) @ words.get(near).T).max(axis=1)
        absent = sum(weights[t] for (_, t), b in zip(unknown, best, strict=True) if b < SYNONYM_MIN) / total
    return coverage, worst_rare, absent
