"""Intent routing: embedding similarity to the labelled examples plus keyword rules, and splitting a request that
spans several domains into parts, one per agent."""

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

from agents.offline.encoder import TextEncoder
from agents.offline.examples import EXAMPLES, INTENT_AGENT, Intent

TOP_K = 3  # an intent's similarity is the mean of its best 3 examples: one odd example cannot dominate
_CACHE_SIZE = 512

# (intent, pattern, bonus): a strong cue adds to the embedding similarity (cosine, roughly 0.2-0.9).
_STATUS_CHANGE_RE = re.compile(r"\b(change|set|update|move|mark)\b.{0,40}\bstatus\b|\bstatus\b.{0,80}\bto\b", re.I)
_PERFORMANCE_RE = re.compile(r"\b(perform\w*|doing|roas|results|metrics|ctr|conversions?)\b", re.I)
_CREATE_VERB_RE = re.compile(r"\b(create|set ?up|spin up|kick off|new|make|build|register)\b", re.I)

KEYWORD_RULES: list[tuple[Intent, re.Pattern[str], float]] = [
    ("create_campaign", re.compile(r"\b(create|set ?up|start|open|spin up|kick off|new|make|build|register|need|"
                                   r"add|launch)\b(?:(?!\btask).){0,50}\bcampaign\b", re.I), 0.3),
    ("create_campaign", re.compile(r"\bnew campaign\b|\bcampaign\s*:", re.I), 0.2),
    ("add_task", re.compile(r"\b(add|create|new|log|put|schedule|need)\b.{0,60}\b(task|to-?do|subtask|work item)\b",
                            re.I), 0.35),
    ("add_task", re.compile(r"^\s*(please\s+|can you\s+)?(add|put)\s+X\b", re.I), 0.3),
    ("update_task_status", re.compile(r"\b(mark|set|move|change|update|reopen|re-open|close|tick|flag|complete)\b"
                                      r".{0,60}\b(done|complete|completed|finished|in progress|not started|status|"
                                      r"closed?|off)\b", re.I), 0.3),
    ("update_task_status", re.compile(r"\b(is|are|it's|its)\s+(done|finished|complete|completed)\b|\breopen\b|"
                                      r"\bclose out\b|\bbegan\b|\bisn'?t done\b", re.I), 0.25),
    ("assign_task", re.compile(r"\b(assign\w*|reassign|delegate|assignee|responsible for|responsible)\b|"
                               r"\blet \w+ handle\b|\b(give|hand)\b.{0,50}\b(to|over to)\s+[A-Z@]", re.I), 0.4),
    ("project_status", re.compile(r"\b(status|progress|on track|along|behind|overdue|left|remaining|open tasks?|"
                                  r"task breakdown|health|percent complete)\b", re.I), 0.2),
    ("approvals", re.compile(r"\bapprovals?\b(?!\s+threshold)|\bsign-?off\b|\bapproved my\b|\bwaiting on my\b",
                             re.I), 0.3),
    ("campaign_performance", re.compile(r"\b(perform\w*|roas|ctr|cpa|cvr|conversions?|conversion rate|clicks?|"
                                        r"impressions?|spend|spent|revenue|metrics|results|did .* do|cost per)\b",
                                        re.I), 0.25),
    ("compare_campaigns", re.compile(r"\b(compare\w*|vs\.?|versus|rank\w*|stack up|side by side)\b", re.I), 0.4),
    ("compare_campaigns", re.compile(r"\b(better|best|worst|highest|lowest|most|least|top \d+)\b", re.I), 0.25),
    ("list_campaigns", re.compile(r"\b(list|show|which|what)\b.{0,40}\bcampaigns\b|\b(owner|owns|planned budget|"
                                  r"budget of|when does|launch date|details|tracking keys|tell me about|end\?)\b",
                                  re.I), 0.2),
    ("draft_messaging", re.compile(r"\b(messag\w*|positioning|tagline|value propositions?|key messages?|pillars?|"
                                   r"creative brief|proof points)\b", re.I), 0.25),
    ("draft_messaging", re.compile(r"\b(draft|write|propose|prepare|come up|put together)\b", re.I), 0.15),
    ("list_strategies", re.compile(r"\bstrateg(y|ies)\b.{0,40}\b(approved|pending|review|versions?|exist|rejected|"
                                   r"already|current|latest)\b|\b(show|list|get|which|what)\b.{0,30}\bstrateg(y|ies)\b",
                                   re.I), 0.35),
    ("playbook_question", re.compile(r"\b(playbooks?|guidelines?|guide|policy|policies|according to|rules?|specs?|"
                                     r"voice|tone|logo|standards?|steps|process|should (i|we)|how (do|should) we)\b",
                                     re.I), 0.25),
    ("playbook_question", re.compile(r"\b(what|how)\b.{0,40}\b(playbooks?|polic\w+|guide\w*)\b.{0,12}\bsays?\b|"
                                     r"\baccording to\b|\bper the\b", re.I), 0.3),
    ("smalltalk", re.compile(r"^\s*(hi|hello|hey|thanks?|thank you|good (morning|afternoon|evening)|bye|ok|okay|"
                             r"help)\b[\s!.,]*(there|a lot|you|that'?s all|bye)?[\s!.,]*$", re.I), 0.5),
    ("smalltalk", re.compile(r"\bwhat (can|are) you\b.*\b(do|help)\b|\bwho are you\b|\bwhat can you do\b", re.I), 0.4),
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Classification:
    """The chosen intent, its agent (None: the supervisor answers itself), its score and every intent's score."""

    intent: Intent
    agent: str | None
    score: float
    scores: dict[str, float]
    keyword_hit: bool


@dataclass(frozen=True, slots=True)
class Part:
    """One agent's share of a request."""

    agent: str | None
    intent: Intent
    request: str


# Clause boundaries: sentence ends, semicolons, "then", "also", "plus", and a plain " and " (accepted only when the
# two sides route to different agents, so "compare A and B" stays whole).
_BOUNDARY_RE = re.compile(
    r"(?<=[.?!])\s+(?=[A-Za-z])|\s*;\s*(?:then\s+|and\s+)?|,?\s+(?:and\s+then|then|and\s+also|also|plus)\s+|"
    r",\s*and\s+|\s+and\s+(?=(?:what|how|which|who|why|when|tell|show|draft|write|create|add|assign|mark|set|"
    r"compare|list|give|explain|check|is|are|do|does|can|please)\b)",
    re.I,
)
_LEAD_RE = re.compile(r"^\s*(?:and\s+)?(?:also|then|plus)\b[\s,]*", re.I)
_QUOTED_RE = re.compile(r"\"[^\"]*\"|“[^”]*”|‘[^’]*’|(?<![\w])'[^']*'(?![\w])")
_PRONOUN_RE = re.compile(r"\b(it|this|that|them|this campaign|that campaign|the campaign)\b", re.I)
CONTEXT_MARK = " — referring to: "


class Router:
    """Routes texts to intents. ``encoder`` embeds texts (MiniLM by default, see OfflineModel); the examples'
    embeddings are computed once, on first use, or read from ``cache_dir`` when given."""

    def __init__(
        self,
        encoder: TextEncoder,
        examples: dict[Intent, tuple[str, ...]] | None = None,
        cache_dir: Path | None = None,
        cache_key: str | None = None,
        min_confidence: float | None = None,
    ) -> None:
        self.encoder = encoder
        # below this similarity, with no keyword cue, a request is out of scope (the supervisor says so)
        self.min_confidence = min_confidence
        self.examples = examples or EXAMPLES
        self.cache_dir = cache_dir
        self.cache_key = cache_key
        self._labels: list[Intent] = [i for i, texts in self.examples.items() for _ in texts]
        self._texts: list[str] = [t for texts in self.examples.values() for t in texts]
        self._rows = {i: np.flatnonzero([label == i for label in self._labels]) for i in self.examples}
        self._matrix: np.ndarray | None = None
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()

    # --- embeddings ------------------------------------------------------------------------------------------

    def _example_matrix(self) -> np.ndarray:
        if self._matrix is None:
            with self._lock:
                if self._matrix is None:
                    self._matrix = self._load_cached() if self.cache_dir and self.cache_key else None
                    if self._matrix is None:
                        self._matrix = np.asarray(self.encoder.encode(self._texts), dtype=np.float32)
                        self._store_cached(self._matrix)
        return self._matrix

    def _cache_file(self) -> Path | None:
        if not (self.cache_dir and self.cache_key):
            return None
        digest = hashlib.sha256(json.dumps([self.cache_key, self._texts]).encode()).hexdigest()[:20]
        return self.cache_dir / f"offline-router-{digest}.npy"

    def _load_cached(self) -> np.ndarray | None:
        path = self._cache_file()
        if path is None or not path.is_file():
            return None
        try:
            matrix = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None  # a damaged cache is recomputed, never trusted
        return matrix if matrix.shape[0] == len(self._texts) else None

    def _store_cached(self, matrix: np.ndarray) -> None:
        path = self._cache_file()
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                np.save(fh, matrix, allow_pickle=False)
            os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the whole new one
        except OSError:
            return  # the cache is an optimisation; routing works without it

    def _embed(self, text: str) -> np.ndarray:
        key = text.strip().lower()
        vec = self._queries.get(key)
        if vec is None:
            vec = np.asarray(self.encoder.encode([key]), dtype=np.float32)[0]
            self._queries[key] = vec
            if len(self._queries) > _CACHE_SIZE:
                self._queries.popitem(last=False)
        return vec

    def warm_up(self) -> None:
        """Load the encoder and embed the examples now instead of on the first request."""
        self._example_matrix()
        self._embed("hello")

    # --- classification ----------------------------------------------------------------------------------------

    def scores(self, text: str) -> tuple[dict[str, float], set[str]]:
        """Per-intent score (embedding similarity + keyword bonus) and the intents whose keyword rules fired."""
        matrix = self._example_matrix()
        sims = matrix @ self._embed(_without_quotes(text))
        out: dict[str, float] = {}
        for intent, rows in self._rows.items():
            best = np.sort(sims[rows])[::-1][:TOP_K]
            out[intent] = float(best.mean()) if best.size else 0.0
        hits: set[str] = set()
        bare = _without_quotes(text)
        for intent, pattern, bonus in KEYWORD_RULES:
            if intent in out and pattern.search(bare):
                out[intent] += bonus
                hits.add(intent)
        asks_not_create = _STATUS_CHANGE_RE.search(bare) or _PERFORMANCE_RE.search(bare)
        if asks_not_create and not _CREATE_VERB_RE.search(bare) and "create_campaign" in out:
            # "Change the status of (how is) the Spring ... Launch campaign (performing)": a word of the name is
            # not a request to create one.
            out["create_campaign"] -= 0.3
            hits.discard("create_campaign")
        return out, hits

    def classify(self, text: str, agent: str | None = None) -> Classification:
        """The best intent for ``text``; with ``agent``, only that agent's intents compete."""
        scores, hits = self.scores(text)
        allowed = [i for i in scores if agent is None or INTENT_AGENT[i] == agent]  # type: ignore[index]
        if not allowed:
            raise ValueError(
                f"agent {agent!r} has no intents; expected one of {sorted(set(INTENT_AGENT.values()) - {None})}"
            )  # type: ignore[arg-type]
        best: Intent = max(allowed, key=lambda i: scores[i])  # type: ignore[assignment]
        return Classification(best, INTENT_AGENT[best], scores[best], scores, best in hits)

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
        """Parts of ``text`` in order: clauses that route to the same agent (or, within ``agent``, the same intent)
        are merged; a clause without a clear intent of its own joins the part before it."""
        clauses = self.clauses(text)
        parts: list[tuple[Classification, list[str]]] = []
        for clause in clauses:
            c = self.classify(clause, agent)
            if agent is None and not c.keyword_hit and self.min_confidence and c.score < self.min_confidence:
                c = Classification("smalltalk", None, c.score, c.scores, False)
            key = c.intent if agent else c.agent
            clear = c.keyword_hit and len(clause.split()) >= 2 and c.intent != "smalltalk"
            if parts and (not clear or key == (parts[-1][0].intent if agent else parts[-1][0].agent)):
                prev, texts = parts[-1]
                parts[-1] = (prev if prev.keyword_hit or not clear else c, [*texts, clause])
                continue
            parts.append((c, [clause]))
        if not parts:
            c = self.classify(text, agent)
            return [Part(c.agent, c.intent, text.strip())]
        if len(parts) > 1 and parts[0][0].intent == "smalltalk" and not agent:
            parts = parts[1:]  # "hi, how is the summit doing?": the greeting needs no part of its own
        merged = parts[: max_parts - 1] + ([_merge(parts[max_parts - 1 :])] if len(parts) >= max_parts else [])
        out: list[Part] = []
        for c, texts in merged:
            request = " and ".join(texts) if agent is None else "; ".join(texts)
            if len(texts) == 1 and agent is None:
                request = texts[0]
            out.append(Part(c.agent, c.intent, request))
        return _with_context(out) if agent is None else out


def _merge(parts: list[tuple[Classification, list[str]]]) -> tuple[Classification, list[str]]:
    return parts[0][0], [t for _, texts in parts for t in texts]


def _without_quotes(text: str) -> str:
    # quoted names ('Design banner') say nothing about the intent and mislead the embedding: they become "X"
    return _QUOTED_RE.sub(" X ", text).strip()


def _with_context(parts: list[Part]) -> list[Part]:
    """A later part that only says "it" / "this campaign" gets the first part's words as context."""
    out = [parts[0]]
    for part in parts[1:]:
        if _PRONOUN_RE.search(part.request) and not _QUOTED_RE.search(part.request):
            part = Part(part.agent, part.intent, part.request + CONTEXT_MARK + parts[0].request)
        out.append(part)
    return out


def own_words(request: str) -> tuple[str, str]:
    """(the part's own words, the context the router appended to it, or "")."""
    own, _, context = request.partition(CONTEXT_MARK)
    return own, context
