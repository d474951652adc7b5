from __future__ import annotations

from typing import Any

import pytest

from tests.agents.graph.support import World, make_world


@pytest.fixture
def world(engine: Any) -> World:
    """The demo tenant in a fresh migrated database (SQLite, and PostgreSQL when configured)."""
    return make_world(engine)
