"""Answer units are embedded once: a warmed knowledge base embeds only the question when it answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from knowledge.grounding import unit_texts
from knowledge.service import KnowledgeBase
from tests.knowledge.conftest import CORPUS_DIR, HashingEmbedder


class RecordingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        return super().encode(texts)


QUESTION = "Who has to approve a campaign budget above the leadership threshold?"


def test_a_warmed_base_embeds_no_answer_unit_and_answers_the_same(tmp_path: Path) -> None:
    cold = KnowledgeBase(persist_dir=tmp_path / "cold", embedder=HashingEmbedder())
    cold.ingest([CORPUS_DIR])
    expected = cold.answer(QUESTION)

    emb = RecordingEmbedder()
    warm = KnowledgeBase(persist_dir=tmp_path / "warm", embedder=emb)
    warm.ingest([CORPUS_DIR])
    units = {t for c in warm.store.all_chunks() for t in unit_texts(c.heading_path, c.text)}
    assert warm.warm_answers() == len(units) > 100

    emb.seen.clear()
    got = warm.answer(QUESTION)
    assert got.model_dump() == expected.model_dump()
    assert emb.seen, "the question itself is embedded"
    assert not units & set(emb.seen), "no answer unit is embedded twice"


def test_without_warming_each_unit_is_embedded_at_most_once(tmp_path: Path) -> None:
    emb = RecordingEmbedder()
    kb = KnowledgeBase(persist_dir=tmp_path / "kb", embedder=emb)
    kb.ingest([CORPUS_DIR])
    emb.seen.clear()
    kb.answer(QUESTION)
    first = set(emb.seen)
    emb.seen.clear()
    kb.answer(QUESTION)
    assert first and not (first & set(emb.seen)) - {QUESTION}
