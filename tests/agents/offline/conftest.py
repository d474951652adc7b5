"""Fixtures: a fast offline model (hashing encoder: keyword-led routing, no weights), the MiniLM-backed model
(session-wide, for @pytest.mark.slow tests) and a world of real in-process servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agents.offline import HashingEncoder, OfflineModel
from tests.agents.offline.world import World, open_world


@pytest.fixture(scope="session")
def fast_model() -> OfflineModel:
    return OfflineModel(HashingEncoder())


@pytest.fixture(scope="session")
def minilm_model() -> OfflineModel:
    model = OfflineModel()
    model.warm_up()
    return model


@pytest.fixture
async def world(session_factory, tmp_path: Path) -> AsyncIterator[World]:  # type: ignore[no-untyped-def]
    w = await open_world(session_factory, tmp_path)
    try:
        yield w
    finally:
        await w.close()
