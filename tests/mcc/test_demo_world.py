"""The demo world: every spine mapping to Workfront/Asana points at a real object of that tenant's sandbox."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from mcc.demo_world import load_demo_world
from mcc.settings import load_settings
from mcc.wiring import App, open_app
from spine.repositories import open_store


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for var in ("MCC_DATABASE_URL", "MCC_WORKFRONT_BACKEND", "MCC_ASANA_BACKEND"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MCC_HOME", str(tmp_path))
    with open_app(load_settings()) as app:
        yield app


async def _check_tenant(app: App, tenant: str) -> int:
    wf, asana = app.workfront_backend(tenant), app.asana_backend(tenant)
    checked = 0
    with open_store(app.sessions, tenant) as store:
        campaigns = store.campaigns.list(limit=100)
        items = store.work_items.list()
    for c in campaigns:
        for system, ext in c.external_refs.items():
            project = await (wf.get_project(ext) if system == "workfront" else asana.get_project(ext))
            name = project.project.name if system == "workfront" else project.name
            assert name == c.name
            checked += 1
    for item in items:
        if item.source_system == "workfront":
            task = (await wf.search("TASK", {"ID": item.external_id})).items[0]
            assert task["name"] == item.name
        else:
            task = await asana.get_task(item.external_id)
            assert task.name == item.name and task.completed == (item.status == "completed")
        checked += 1
    return checked


def test_spine_refs_resolve_in_each_tenants_sandbox_and_loading_twice_adds_nothing(app: App) -> None:
    first = load_demo_world(app, today=dt.date(2026, 11, 1))
    assert first.created
    for tenant in ("acme", "globex"):
        assert asyncio.run(_check_tenant(app, tenant)) > 10
    again = load_demo_world(app, today=dt.date(2026, 11, 1))
    assert not again.created and again.work_items == first.work_items
    projects = asyncio.run(app.workfront_backend("acme").search("PROJ", {}, limit=100))
    assert len(projects.items) == 7  # one per non-draft Workfront campaign of acme, none twice
