"""Attacks on "an approved call runs once": a crash between two steps of an approved operation, a lost reply, a
retrying client. The identical re-send must converge on the one result, never error and never run twice."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import update

from mcc.wiring import App
from spine.approvals import ApprovalStore
from spine.models.governance import Approval
from tests.security.world import CAMPAIGN, approved, audit_count, call, campaigns_named

# The child runs the approved call and is killed (os._exit) right after the campaign committed, before the
# approval learnt the result: the crash the guard must survive.
_CRASH = """
import asyncio, json, os, sys
from pathlib import Path
from mcp import Client
from mcc.settings import load_settings
from mcc.wiring import App
from mcp_servers.guard.identity import FixedPrincipal
from spine.approvals import ApprovalStore
from spine.db import make_engine, make_session_factory

url, home, aid, args = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
ApprovalStore.complete = lambda *a, **k: os._exit(17)

async def main():
    engine = make_engine(url)
    app = App(settings=load_settings(home=Path(home)), engine=engine, sessions=make_session_factory(engine))
    async with Client(app.server("spine", FixedPrincipal(app.principal("maya.chen", "acme")))) as client:
        await client.call_tool("create_campaign", {**args, "approval_id": aid})

asyncio.run(main())
"""


async def test_resuming_after_the_approved_step_ran_replays_it_and_the_next_step_runs(app: App) -> None:
    aid = await approved(app)
    ok, first = await call(app, "maya.chen", "spine", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert ok and first["name"] == CAMPAIGN["name"]
    # The process died here, before the Workfront project; the resumed conversation re-sends the approved call.
    ok, again = await call(app, "maya.chen", "spine", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert ok, again
    assert again == first and campaigns_named(app, CAMPAIGN["name"]) == [first["id"]]
    ok, project = await call(app, "maya.chen", "workfront", "create_project", {"name": CAMPAIGN["name"]})
    assert ok and project
    assert audit_count(app, "executed", aid) == 1 and audit_count(app, "replayed", aid) == 1


async def test_a_client_whose_reply_was_lost_gets_the_same_result_even_with_a_new_idempotency_key(app: App) -> None:
    aid = await approved(app)
    ok, first = await call(app, "maya.chen", "spine", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert ok
    retry = {**CAMPAIGN, "approval_id": aid, "idempotency_key": "client-retry-0001"}
    ok, again = await call(app, "maya.chen", "spine", "create_campaign", retry)
    assert ok and again["id"] == first["id"]
    assert len(campaigns_named(app, CAMPAIGN["name"])) == 1


async def test_a_replay_is_only_for_the_identical_call_of_the_same_requester(app: App) -> None:
    aid = await approved(app)
    assert (await call(app, "maya.chen", "spine", "create_campaign", {**CAMPAIGN, "approval_id": aid}))[0]
    edited = {**CAMPAIGN, "budget_planned": {"amount": "43000", "currency": "EUR"}, "approval_id": aid}
    ok, text = await call(app, "maya.chen", "spine", "create_campaign", edited)
    assert not ok and "approval" in text
    ok, text = await call(app, "omar.farouk", "spine", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert not ok and "approval" in text
    globex = {**CAMPAIGN, "owner_id": "frank.grimes", "approval_id": aid}
    ok, text = await call(app, "frank.grimes", "spine", "create_campaign", globex, tenant="globex")
    assert not ok and CAMPAIGN["name"] not in text
    assert len(campaigns_named(app, CAMPAIGN["name"])) == 1


async def test_a_process_killed_after_the_side_effect_committed_leaves_a_call_that_converges(
    app: App, tmp_path: Path
) -> None:
    aid = await approved(app)
    url = app.engine.url.render_as_string(hide_password=False)
    child = subprocess.run(
        [sys.executable, "-c", _CRASH, url, str(tmp_path), aid, json.dumps(CAMPAIGN)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert child.returncode == 17, child.stderr[-2000:]
    created = campaigns_named(app, CAMPAIGN["name"])
    assert len(created) == 1  # the side effect committed; the approval never heard of it
    ok, shown = await call(app, "maya.chen", "spine", "get_approval", {"approval_id": aid})
    assert ok and shown["status"] == "in_use"

    # While the dead call's reservation holds, a re-send is told to wait, not that the approval was used.
    ok, text = await call(app, "maya.chen", "spine", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert not ok and "[approval_in_use]" in text and "already used" not in text

    # The reservation lapses (bounded); the identical call re-claims it and converges on the same campaign.
    with app.sessions.begin() as s:
        s.execute(update(Approval).where(Approval.approval_id == aid)
                  .values(reserved_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))  # fmt: skip
    ok, result = await call(app, "maya.chen", "spine", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert ok and result["id"] == created[0]
    assert campaigns_named(app, CAMPAIGN["name"]) == created
    assert ApprovalStore(app.sessions).get("acme", aid).status == "consumed"
    ok, replay = await call(app, "maya.chen", "spine", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert ok and replay["id"] == created[0]
