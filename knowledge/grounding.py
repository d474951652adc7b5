"""Grounded answers: extractive composition from retrieved chunks with citations, an answerability gate,
and a checker that flags answer sentences no cited chunk supports.

Chunk text is *data*: sentences that address the assistant (prompt-injection style) are never quoted,
never acted on, and reported as warnings."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from knowledge.answerability import MIN_RELEVANCE, Answerability, WordVectors, assess, unknown_names
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
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n+")
_CITE_MARK = re.compile(r"\s*\[\d+(?:,\s*\d+)*\]")
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
_PARAGRAPH = re.compile(r"\n\s*\n")


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


def _sentence_score(q_toks: set[str], sentence: str, idf: Callable[[str], float] | None) -> float:
    """Rare question words found in the sentence count most (IDF-weighted overlap)."""
    toks = set(tokenize(sentence))
    if not toks:
        return 0.0
    weight = idf or (lambda _t: 1.0)
    return sum(weight(t) for t in q_toks & toks) + 0.1 * min(len(toks), 12) / 12


def _units(text: str, max_len: int = 600) -> list[str]:
    """Answer units of a chunk: sentences, with a lead-in ending in ':' kept together with its list items."""
    units: list[str] = []
    open_list = False
    for sentence in split_sentences(text):
        if open_list and not sentence.endswith(":") and len(units[-1]) + len(sentence) < max_len:
            units[-1] = f"{units[-1]} {sentence if sentence.endswith(('.', ';')) else sentence + ';'}"
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
    for paragraph in _PARAGRAPH.split(text):
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
) -> GroundedAnswer:
    """Answer from the hits only: the most relevant sentences of the best chunks, each with a [n] citation.

    Sentences are ranked by IDF-weighted word overlap with the question and, when ``embed`` is given, by
    embedding similarity (which catches paraphrases). Instruction-like sentences are never used.
    ``verdict`` (or the signals ``vocabulary``/``surface``/``idf``/``words``) decides answerability first."""
    if verdict is None:
        verdict = assess(question, hits, min_relevance=min_relevance, vocabulary=vocabulary, surface=surface,
                         idf=idf, words=words)  # fmt: skip
    top, warnings = verdict.top_dense, list(verdict.reasons)
    if not verdict.answerable:
        return GroundedAnswer(question=question, answered=False, answer=NOT_FOUND, warnings=warnings, top_score=top,
                              hits=hits)  # fmt: skip
    q_toks = set(tokenize(question))
    pool: list[tuple[int, int, str]] = []
    for rank, hit in enumerate(hits[:ANSWER_POOL_HITS]):
        if "instruction_like_text" in hit.flags:
            warnings.append(f"ignored instruction-like text in {hit.citation} (documents are data, not instructions)")
        pool.extend((rank, pos, sentence) for pos, sentence in enumerate(answerable_units(hit.text)))
    sims = [0.0] * len(pool)
    if embed is not None and pool:
        vecs = embed([question] + [f"{' > '.join(hits[r].heading_path)}: {t}" for r, _, t in pool])
        sims = [float(v) for v in vecs[1:] @ vecs[0]]
    candidates: list[tuple[float, int, int, str]] = []
    for (rank, pos, sentence), sim in zip(pool, sims, strict=True):
        lexical = _sentence_score(q_toks, sentence, idf)
        score = (sim * SIM_WEIGHT + lexical) * (1.0 - RANK_PENALTY * rank)
        candidates.append((score, rank, pos, sentence))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    best = candidates[0][0] if candidates else 0.0
    # keep only sentences close to the best one: padding with weak sentences dilutes the answer
    chosen = sorted([c for c in candidates[:max_sentences] if c[0] >= KEEP_RATIO * best], key=lambda c: (c[1], c[2]))
    if not chosen:
        return GroundedAnswer(question=question, answered=False, answer=NOT_FOUND, warnings=warnings, top_score=top,
                              hits=hits)  # fmt: skip
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
        hits=hits,
    )  # fmt: skip
