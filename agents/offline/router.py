"""Intent routing: a calibrated classifier over sentence embeddings (with an explicit *unsure* outcome), explicit
negation, and splitting a request that spans several domains into parts, one per agent (no clause is dropped)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agents.offline.classifier import IntentClassifier, IntentWeights, intents_digest, load_intents, normalise
from agents.offline.encoder import TextEncoder
from agents.offline.examples import INTENT_AGENT, Intent

_CACHE_SIZE = 512

# A clause that tells us NOT to do something: never turned into the action itself.
_NEGATION_RE = re.compile(
    r"^\s*(?:please\s+|pls\s+|and\s+)?(?:don'?t|do not|never|no need to|stop|cancel|forget(?: about)?|"
    r"(?:i|we)\s+(?:don'?t|do not|no longer)\s+(?:want|need)(?:\s+you)?\s+to|there'?s no need to)\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Classification:
    """The chosen intent, its agent (None: the supervisor answers itself), its calibrated probability, every
    intent's probability, and whether the classifier is sure (else the supervisor asks which reading is meant)."""

    intent: Intent
    agent: str | None
    score: float
    scores: dict[str, float]
    sure: bool

    def readings(self, n: int = 2) -> list[str]:
        """The ``n`` likeliest intents, best first."""
        return [i for i, _ in sorted(self.scores.items(), key=lambda kv: -kv[1])[:n]]


@dataclass(frozen=True, slots=True)
class Part:
    """One agent's share of a request."""

    agent: str | None
    intent: str
    request: str
    alternatives: tuple[str, ...] = ()  # an unsure part's likeliest readings; a declined part's action


# Clause boundaries: sentence ends, semicolons, "then", "also", "plus", and a plain " and " (accepted only when the
# two sides route to different agents, so "compare A and B" stays whole).
_BOUNDARY_RE = re.compile(
    r"(?<=[.?!])\s+(?=[A-Za-z])|\s*;\s*(?:then\s+|and\s+)?|,?\s+(?:and\s+then|then|and\s+also|also|plus)\s+|"
    r"(?:,|\s[—–])\s*(?:but\s+(?:(?:just|only|instead|rather)\s*,?\s+)?|(?:just|only|instead|rather)\s*,?\s+)"
    r"(?=(?:tell|show|give|list|let|check|explain|say|report|find|look|pull|get|what|which|how|who)\b)|"
    r",\s*and\s+|\s+and\s+(?=(?:what|how|which|who|why|when|tell|show|draft|write|create|add|assign|mark|set|"
    r"compare|list|give|explain|check|is|are|do|does|can|please)\b)",
    re.I,
)
_LEAD_RE = re.compile(r"^\s*(?:and\s+)?(?:also|then|plus|but|just|instead|rather)\b[\s,]*", re.I)
_QUOTED_RE = re.compile(r"\"[^\"]*\"|“[^”]*”|‘[^’]*’|(?<![\w])'[^']*'(?![\w])")
_PRONOUN_RE = re.compile(r"\b(it|this|that|them|this campaign|that campaign|the campaign)\b", re.I)
CONTEXT_MARK = " — referring to: "


class Router:
    """Routes texts to intents with the calibrated classifier (``agents.offline.classifier``). ``encoder`` embeds
    texts (MiniLM by default, see OfflineModel); the classifier's weights are the shipped ones for MiniLM, else
    trained on first use for this encoder (kept in ``cache_dir`` under ``cache_key`` when both are given).
    ``min_probability`` overrides the calibrated threshold of the *unsure* outcome (0: never unsure)."""

    def __init__(
        self,
        encoder: TextEncoder,
        cache_dir: Path | None = None,
        cache_key: str | None = None,
        min_probability: float | None = None,
    ) -> None:
        self.encoder = encoder
        # None: the threshold calibrated with the weights; below it a top-level clause is "unsure" (we ask)
        self.min_probability = min_probability
        self.cache_dir = cache_dir
        self.cache_key = cache_key
        self._classifier: IntentClassifier | None = None
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()

    # --- weights and embeddings ------------------------------------------------------------------------------

    @property
    def classifier(self) -> IntentClassifier:
        if self._classifier is None:
            with self._lock:
                if self._classifier is None:
                    self._classifier = self._load_cached() or IntentClassifier.for_encoder(self.encoder)
                    self._store_cached(self._classifier)
        return self._classifier

    def _cache_file(self) -> Path | None:
        if not (self.cache_dir and self.cache_key):
            return None
        digest = hashlib.sha256(json.dumps([self.cache_key, intents_digest(load_intents())]).encode()).hexdigest()
        return self.cache_dir / f"offline-intents-{digest[:20]}.npz"

    def _load_cached(self) -> IntentClassifier | None:
        path = self._cache_file()
        if path is None or not path.is_file():
            return None
        try:
            return IntentClassifier(IntentWeights.load(path))
        except (OSError, ValueError, KeyError):
            return None  # a damaged cache is retrained, never trusted

    def _store_cached(self, classifier: IntentClassifier) -> None:
        path = self._cache_file()
        if path is None or path.is_file():
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            classifier.weights.save(tmp)
            os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the whole new one
        except OSError:
            return  # the cache is an optimisation; routing works without it

    def _embed(self, text: str) -> np.ndarray:
        key = text.strip().lower()
        with self._lock:
            vec = self._queries.get(key)
        if vec is None:
            vec = np.asarray(self.encoder.encode([key]), dtype=np.float32)[0]
            with self._lock:
                self._queries[key] = vec
                if len(self._queries) > _CACHE_SIZE:
                    self._queries.popitem(last=False)
        return vec

    def warm_up(self) -> None:
        """Load the encoder and the classifier's weights now instead of on the first request."""
        _ = self.classifier
        self._embed("hello")

    # --- classification ----------------------------------------------------------------------------------------

    def classify(self, text: str, agent: str | None = None) -> Classification:
        """The likeliest intent for ``text``; with ``agent``, only that agent's intents compete (renormalised)."""
        allowed = {i for i, a in INTENT_AGENT.items() if agent is None or a == agent}
        if not allowed:
            raise ValueError(
                f"agent {agent!r} has no intents; expected one of {sorted({a for a in INTENT_AGENT.values() if a})}"
            )
        classifier = self.classifier
        prediction = classifier.predict(self._embed(normalise(text)))
        scores = {i: p for i, p in prediction.ranked if i in allowed}
        total = sum(scores.values()) or 1.0
        scores = {i: p / total for i, p in scores.items()}
        best = max(scores, key=lambda i: scores[i])
        threshold = classifier.weights.threshold if self.min_probability is None else self.min_probability
        sure = scores[best] >= threshold
        return Classification(best, INTENT_AGENT.get(best), scores[best], scores, sure)  # type: ignore[arg-type]

    @staticmethod
    def negated(text: str) -> bool:
        """Whether the clause tells us not to do something ("don't create ...", "no need to add ...")."""
        return bool(_NEGATION_RE.search(_without_quotes(text)))

    # --- splitting ---------------------------------------------------------------------------------------------

    def clauses(self, text: str) -> list[str]:
        """``text`` cut at clause boundaries outside quotes (the pieces, stripped, in order)."""
        masked = _QUOTED_RE.sub(lambda m: "\0" * len(m.group(0)), text)
        pieces, last = [], 0
        for m in _BOUNDARY_RE.finditer(masked):
            pieces.append(text[last : m.start()])
            last = m.end()
        pieces.append(text[last:])
        return [_LEAD_RE.sub("", p).strip(" ,") for p in pieces if _LEAD_RE.sub("", p).strip(" ,.")]

    def split(self, text: str, agent: str | None = None, max_parts: int = 4) -> list[Part]:
        """Parts of ``text`` in order, one per clause; neighbouring clauses that route to the same agent (or, within
        ``agent``, the same intent) are merged, and a short clause the classifier is unsure about joins the part
        before it. A clause that says not to do something is a ``declined`` part; at the top level a clause the
        classifier is unsure about is an ``unsure`` part carrying its two likeliest readings (never dropped)."""
        parts: list[tuple[Part, list[str]]] = []
        for clause in self.clauses(text) or [text.strip()]:
            c = self.classify(clause, agent)
            if self.negated(clause):
                part = Part(None, "declined", clause, tuple(c.readings(1)))
            elif agent is None and not c.sure:
                if parts and len(clause.split()) <= 4:
                    prev, texts = parts[-1]
                    parts[-1] = (prev, [*texts, clause])
                    continue
                part = Part(None, "unsure", clause, tuple(c.readings(2)))
            else:
                part = Part(c.agent, c.intent, clause)
            prev_part = parts[-1][0] if parts else None
            same = (
                prev_part is not None
                and part.intent not in ("declined", "unsure")
                and ((prev_part.intent == part.intent) if agent else (prev_part.agent == part.agent and part.agent))
            )
            if same:
                parts[-1] = (prev_part, [*parts[-1][1], clause])  # type: ignore[arg-type]
                continue
            parts.append((part, [clause]))
        if len(parts) > 1 and parts[0][0].intent == "smalltalk" and not agent:
            parts = parts[1:]  # "hi, how is the summit doing?": the greeting needs no part of its own
        merged = parts[: max_parts - 1] + ([_merge(parts[max_parts - 1 :])] if len(parts) >= max_parts else [])
        out = [Part(p.agent, p.intent, (" and " if agent is None else "; ").join(texts), p.alternatives)
               for p, texts in merged]  # fmt: skip
        return _with_context(out) if agent is None else out


def _merge(parts: list[tuple[Part, list[str]]]) -> tuple[Part, list[str]]:
    return parts[0][0], [t for _, texts in parts for t in texts]


def _without_quotes(text: str) -> str:
    # quoted names ('Design banner') say nothing about the intent and mislead the embedding: they become "X"
    return _QUOTED_RE.sub(" X ", text).strip()


def _with_context(parts: list[Part]) -> list[Part]:
    """A later part that only says "it" / "this campaign" gets the first part's words as context."""
    out = [parts[0]]
    for part in parts[1:]:
        if _PRONOUN_RE.search(part.request) and not _QUOTED_RE.search(part.request):
            part = Part(part.agent, part.intent, part.request + CONTEXT_MARK + parts[0].request, part.alternatives)
        out.append(part)
    return out


def own_words(request: str) -> tuple[str, str]:
    """(the part's own words, the context the router appended to it, or "")."""
    own, _, context = request.partition(CONTEXT_MARK)
    return own, context
