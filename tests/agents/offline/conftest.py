"""Fixtures: a fast offline model (hashing encoder: keyword-led routing, no weights), the MiniLM-backed model
(session-wide, for @pytest.mark.slow tests) and a world of real in-process servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import knowledge
from agents.offline import HashingEncoder, OfflineModel
from knowledge.service import KnowledgeBase
from tests.agents.offline.world import World, open_world
from tests.knowledge.conftest import HashingEmbedder


@pytest.fixture(scope="session")
def fast_model() -> OfflineModel:
    return OfflineModel(HashingEncoder())


@pytest.fixture(scope="session")
def minilm_model() -> OfflineModel:
    model = OfflineModel()
    model.warm_up()
    return model


PLAYBOOKS = Path(knowledge.__file__).parent / "playbooks"


@pytest.fixture(scope="session")
def hashed_playbooks(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The shipped playbooks in a knowledge base with a hashing embedder (fast; retrieval quality not judged)."""
    kb = KnowledgeBase(persist_dir=tmp_path_factory.mktemp("kb-hashed"), embedder=HashingEmbedder())
    kb.ingest([PLAYBOOKS])
    return kb


@pytest.fixture(scope="session")
def minilm_playbooks(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The shipped playbooks embedded with the packaged MiniLM (slow: loads the model and embeds every chunk)."""
    kb = KnowledgeBase(persist_dir=tmp_path_factory.mktemp("kb-minilm"))
    kb.ingest([PLAYBOOKS])
    return kb


@pytest.fixture
async def world(session_factory, tmp_path: Path) -> AsyncIterator[World]:  # type: ignore[no-untyped-def]
    w = await open_world(session_factory, tmp_path)
    try:
        yield w
    finally:
        await w.close()


@pytest.fixture
async def playbook_world(session_factory, tmp_path: Path, hashed_playbooks: KnowledgeBase) -> AsyncIterator[World]:  # type: ignore[no-untyped-def]
    w = await open_world(session_factory, tmp_path, hashed_playbooks)
    try:
        yield w
    finally:
        await w.close()
