"""Eval worlds: each case world is a new ``App`` on its own copied home, opened through the normal wiring, with the
process's model, embedder, knowledge base and tool schemas handed in. Two worlds open at once in one process stay
apart: each writes its audit rows, approvals and call records into its own database."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from evals.world import EvalApp, Shared, Worlds, build_shared, open_world
from mcc.settings import Settings, load_settings
from spine.approvals import ApprovalStore
from spine.audit import AuditLog

TODAY = dt.date(2026, 11, 2)


@pytest.fixture
async def setup(tmp_path: Path, clean_env: None, fast_embedder: None) -> AsyncIterator[tuple[Settings, Shared, Worlds]]:
    base = load_settings()
    worlds = Worlds(base, tmp_path / "worlds")
    shared = build_shared(base, worlds.root, None, offline=True)
    yield base, shared, worlds
    worlds.close()


async def _call(app: EvalApp, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """``tool`` of the world's spine server, called as maya.chen of acme."""
    async with Client(app.server_for("spine", app.principal("maya.chen", "acme"))) as client:
        result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def test_two_worlds_in_one_process_write_into_their_own_databases(
    setup: tuple[Settings, Shared, Worlds],
) -> None:
    base, shared, worlds = setup
    template = await worlds.template("demo", TODAY)
    first_home, second_home = worlds.new_home(template, "first"), worlds.new_home(template, "second")
    async with open_world(base, shared, first_home) as first, open_world(base, shared, second_home) as second:
        assert first.sessions is not second.sessions and first.engine.url != second.engine.url
        start = (AuditLog(first.sessions).head()[0], AuditLog(second.sessions).head()[0])
        assert start[0] == start[1]  # the same template
        await _call(first, "list_campaigns", {})
        await _call(second, "list_campaigns", {"name_contains": "Launch"})
        await _call(first, "list_campaigns", {"limit": 5})
        first_rows = AuditLog(first.sessions).tail(limit=10)
        second_rows = AuditLog(second.sessions).tail(limit=10)
        assert [r.seq for r in first_rows if r.seq > start[0]] == [start[0] + 1, start[0] + 2]
        assert [r.seq for r in second_rows if r.seq > start[1]] == [start[1] + 1]
        assert first.audit_log().verify().ok and second.audit_log().verify().ok  # each keyed chain intact
        assert [c.arguments for c in first.recorder.calls] == [{}, {"limit": 5}]
        assert [c.arguments for c in second.recorder.calls] == [{"name_contains": "Launch"}]


async def test_an_approval_asked_for_in_one_world_is_not_in_another(setup: tuple[Settings, Shared, Worlds]) -> None:
    base, shared, worlds = setup
    template = await worlds.template("demo", TODAY)
    homes = worlds.new_home(template, "asks"), worlds.new_home(template, "other")
    async with open_world(base, shared, homes[0]) as asks, open_world(base, shared, homes[1]) as other:
        args = {"name": "World Split", "tier": 2, "type": "product_launch", "launch_date": "2026-12-01",
                "owner_id": "maya.chen", "budget_planned": {"amount": "40000", "currency": "USD"}}  # fmt: skip
        answer = await _call(asks, "create_campaign", args)
        assert answer["status"] == "approval_required"
        approval_id = answer["approval_id"]
        assert ApprovalStore(asks.sessions).get("acme", approval_id).status == "pending"
        assert approval_id not in {a.approval_id for a in ApprovalStore(other.sessions).list("acme")}


async def test_worlds_share_the_model_knowledge_and_tool_schemas_but_not_their_servers(
    setup: tuple[Settings, Shared, Worlds],
) -> None:
    base, shared, worlds = setup
    template = await worlds.template("demo", TODAY)
    homes = worlds.new_home(template, "a"), worlds.new_home(template, "b")
    async with open_world(base, shared, homes[0]) as a, open_world(base, shared, homes[1]) as b:
        assert a.chat_model() is b.chat_model() is shared.model
        assert a.knowledge is b.knowledge is shared.knowledge and a.embedder is shared.embedder
        maya = a.principal("maya.chen", "acme")
        listings = []
        for app in (a, b):
            servers = app.servers_for(maya)
            assert servers["spine"] is app.server_for("spine", maya)  # built once per world
            async with Client(servers["spine"]) as client:
                listings.append([t.model_dump() for t in (await client.list_tools()).tools])
        assert a.server_for("spine", maya) is not b.server_for("spine", maya)
        assert listings[0] == listings[1] and len(listings[0]) > 10


async def test_a_worlds_setup_worker_stops_with_the_world_so_the_next_one_runs_its_own(
    setup: tuple[Settings, Shared, Worlds],
) -> None:
    import dbos._dbos as dbos_internals

    base, shared, worlds = setup
    template = await worlds.template("demo", TODAY)
    runs = []
    for label in ("first", "second"):  # one after another, as the runner opens them
        async with open_world(base, shared, worlds.new_home(template, label)) as app:
            fields = {"name": f"World {label} push", "type": "standard", "tier": 3, "launch_date": "2027-03-01",
                      "owner_id": "maya.chen"}  # fmt: skip
            made = await _call(app, "create_campaign", fields)
            runs.append(await _call(app, "start_campaign_setup", {"campaign_id": made["id"]}))
            assert dbos_internals._dbos_global_instance is not None
        assert dbos_internals._dbos_global_instance is None  # stopped with its world
    assert [r["status"] for r in runs] == ["SUCCESS", "SUCCESS"] and runs[0]["template"] == "t3-quick"
    assert runs[0]["workflow_id"] != runs[1]["workflow_id"]
