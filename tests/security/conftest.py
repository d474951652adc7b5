"""A seeded demo world on the shared database fixtures (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from mcc.demo_world import seed_demo_world
from mcc.settings import load_settings
from mcc.wiring import App
from spine.db import make_session_factory


@pytest.fixture
async def app(engine: Engine, tmp_path: Path) -> AsyncIterator[App]:
    settings = load_settings(home=tmp_path, policy_mode="enforce")
    app = App(settings=settings, engine=engine, sessions=make_session_factory(engine))
    await seed_demo_world(app, today=dt.date(2026, 11, 1))
    yield app
    await app.aclose_backends()
