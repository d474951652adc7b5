"""Creating a campaign through the assistant, as ``mcc chat`` does it (the real App wiring, the offline model, the
demo world in sandboxes): create_campaign (through its budget approval), the project, then start_campaign_setup on
the new campaign. This process was no worker: the first setup call starts one inline, closed with the App."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import dbos._dbos as dbos_internals
import pytest
from langgraph.store.memory import InMemoryStore
from mcp import Client
from sqlalchemy import func, select

from agents.assistant import Assistant, TurnResult, UserInfo
from agents.checkpoints import open_checkpointer
from agents.offline import HashingEncoder, OfflineModel
from mcc.demo_world import seed_demo_world
from mcc.settings import Settings
from mcc.wiring import App
from mcp_servers.guard.identity import FixedPrincipal
from spine.demo import DEMO_TENANT
from spine.models import EventLog, SystemRef
from sync.setup_templates import choose_template

TODAY = dt.date(2026, 11, 2)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    settings = Settings(home=tmp_path, audit_key="a" * 40, campaign_setup_wait_sec=60)
    app = App.open(settings)
    try:
        yield app
    finally:
        app.close()
    assert dbos_internals._dbos_global_instance is None  # the inline worker stopped with the App


def _calls(turn: TurnResult) -> list[tuple[str, str]]:
    return [(f"{c.server}.{c.tool}", c.result_status) for c in turn.tool_calls]


async def test_a_campaign_created_in_chat_is_set_up_by_the_durable_workflow(app: App, tmp_path: Path) -> None:
    await seed_demo_world(app, TODAY)
    maya = app.principal("maya.chen", DEMO_TENANT)
    user = UserInfo(user_id=maya.user_id, tenant_id=DEMO_TENANT, groups=sorted(maya.groups))
    model = OfflineModel(HashingEncoder())
    ask = "Please create a standard campaign 'Harbor Lights Promo' tier 2 launching March 9 with a $30k budget"
    async with (
        open_checkpointer(f"sqlite:///{tmp_path / 'cp.db'}") as saver,
        Assistant(model, app.servers_for(maya), saver, user, store=InMemoryStore(), today=TODAY,
                  work_routing=app.work_routing()) as chat,
    ):  # fmt: skip
        turn = await chat.send(ask)
        assert turn.waiting, turn.reply
        approval_id = turn.approvals[0].approval_id
        dana = app.principal("dana.reyes", DEMO_TENANT)
        async with Client(app.spine_server(FixedPrincipal(dana))) as client:
            done = await client.call_tool("resolve_approval", {"approval_id": approval_id, "decision": "approve"})
        assert not done.is_error
        resumed = await chat.resume_waiting(approval_id)
    assert resumed is not None and not resumed.waiting
    assert _calls(resumed)[-3:] == [("spine.create_campaign", "ok"), ("workfront.create_project", "ok"),
                                    ("spine.start_campaign_setup", "ok")]  # fmt: skip
    assert [c for c, _ in _calls(resumed)].count("spine.start_campaign_setup") == 1
    runs = app.campaign_setup.list()
    assert len(runs) == 1 and runs[0].status == "SUCCESS", runs
    run, wid = runs[0], runs[0].workflow_id
    assert f"Setup workflow {wid}" in resumed.reply and "t2-campaign" in resumed.reply

    campaign_id, project_id = run.result["campaign_id"], run.result["project_id"]
    template = choose_template("standard", 2)
    wf = sqlite3.connect(tmp_path / "sandboxes" / DEMO_TENANT / "workfront" / "workfront_sandbox.sqlite3")
    try:
        projects = wf.execute("select id from wf_project where name = ?", ("Harbor Lights Promo",)).fetchall()
        names = {r[0] for r in wf.execute("select name from wf_task where project_id = ?", (project_id,))}
    finally:
        wf.close()
    assert projects == [(project_id,)]  # the agent's project was adopted: no second one
    assert {t.name for sec in template.sections for t in sec.tasks} <= names
    with app.sessions() as s:
        synced = s.scalar(select(func.count()).where(EventLog.event_type == "campaign.synced",
                                                     EventLog.aggregate_id == campaign_id))  # fmt: skip
        links = s.scalars(select(SystemRef.external_id).where(SystemRef.entity_type == "campaign",
                                                              SystemRef.canonical_id == campaign_id)).all()  # fmt: skip
    assert synced == 1 and links == [project_id]


async def test_with_an_external_worker_the_reply_says_the_setup_is_queued_and_how_to_follow_it(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, audit_key="a" * 40, campaign_setup_worker="external")
    app = App.open(settings)
    try:
        await seed_demo_world(app, TODAY)
        maya = app.principal("maya.chen", DEMO_TENANT)
        user = UserInfo(user_id=maya.user_id, tenant_id=DEMO_TENANT, groups=sorted(maya.groups))
        ask = "Please create a standard campaign 'Quiet Harbor' tier 3 launching March 9 with no budget"
        async with (
            open_checkpointer(f"sqlite:///{tmp_path / 'cp.db'}") as saver,
            Assistant(OfflineModel(HashingEncoder()), app.servers_for(maya), saver, user, store=InMemoryStore(),
                      today=TODAY, work_routing=app.work_routing()) as chat,
        ):  # fmt: skip
            turn = await chat.send(ask)
        assert _calls(turn)[-1] == ("spine.start_campaign_setup", "ok"), _calls(turn)
        runs = app.campaign_setup.list()
        assert [r.status for r in runs] == ["ENQUEUED"]  # nothing ran here: a `mcc workflows worker` will
        assert "still running" in turn.reply and f"mcc workflows show {runs[0].workflow_id}" in turn.reply
        assert dbos_internals._dbos_global_instance is None
    finally:
        app.close()
