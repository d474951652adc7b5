"""BM25 over chunk index texts with ``bm25s``; rebuilt in memory from the store (fast: ~1 s per 10k chunks)."""

from __future__ import annotations

import logging
import math
import re

import bm25s
import numpy as np

# bm25s sets its own logger to DEBUG on import, which prints "Building index" lines through any root handler.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_STOPWORDS_TEXT = """
a an and are as at be been being but by can could did do does doing for from had has have having
how i if in into is it its itself me my of on once or our ours out over own s should so some such
than that the their them then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours i'm i've it's what's
whats we're let's there's
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_SURFACE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*")
_TOKEN = re.compile(r"[a-z0-9]+(?:[._'#$%/-][a-z0-9]+)*|[$#%]\d[\d,.]*", re.IGNORECASE)


def stem(word: str) -> str:
    """A light suffix stripper (plurals, -ed, -ing, final -e) so 'approved', 'approves' and 'approve' meet,
    without a stemmer package."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "xes", "ches", "shes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeioulsfz":
                word = word[:-1]  # planned -> plan
            break
    if word.endswith("e") and len(word) > 3 and not word.endswith("ee"):
        word = word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lowercased word tokens without stopwords; compound tokens (utm_medium, paid-social) also yield parts."""
    out: list[str] = []
    for raw in _TOKEN.findall(text.lower()):
        tok = raw.strip(".,")
        if not tok or tok in STOPWORDS:
            continue
        parts = [p for p in re.split(r"[._'/-]", tok) if p]
        if len(parts) > 1:
            out.append(tok)
            out.extend(stem(p) for p in parts if p not in STOPWORDS)
        else:
            out.append(stem(tok))
    return out


class LexicalIndex:
    """A BM25 index over a fixed list of chunk ids and their index texts."""

    def __init__(self, ids: list[str], texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.ids = ids
        corpus = [tokenize(t) for t in texts]
        self._df: dict[str, int] = {}
        for toks in corpus:
            for tok in set(toks):
                self._df[tok] = self._df.get(tok, 0) + 1
        self.vocabulary: set[str] = set(self._df)
        # unstemmed lowercase word forms: a name in a question must occur in exactly this form
        self.surface: set[str] = {w.lower() for t in texts for w in _SURFACE.findall(t)}
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        self._empty = not ids
        if not self._empty:
            # bm25s needs at least one token per document
            self._bm25.index([toks or ["__empty__"] for toks in corpus], show_progress=False)

    def idf(self, token: str) -> float:
        """BM25-style inverse document frequency of a (tokenized) term; unseen terms get the maximum."""
        n = max(len(self.ids), 1)
        df = self._df.get(token, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (aligned with ``ids``)."""
        if self._empty:
            return np.zeros(0, dtype=np.float32)
        toks = [t for t in tokenize(query) if t in self.vocabulary]
        if not toks:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(toks), dtype=np.float32)

    def top(self, query: str, n: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, score) of the best ``n`` chunks with a positive score, optionally restricted by a boolean mask."""
        s = self.scores(query)
        if s.size == 0:
            return []
        if mask is not None:
            s = np.where(mask, s, 0.0)
        n = min(n, s.size)
        idx = np.argpartition(-s, n - 1)[:n]
        idx = idx[np.argsort(-s[idx], kind="stable")]
        return [(int(i), float(s[i])) for i in idx if s[i] > 0]
