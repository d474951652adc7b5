"""The campaign-creation workflow in one process: both routes, the step record, a repeat, a refused request."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from spine.audit import AuditLog
from spine.models import ErrorLog, SystemRef, WorkItem
from sync.campaign_setup import STEPS, serving
from sync.durable import DurableConfig, launch_durable
from sync.setup_client import CampaignSetupClient
from sync.setup_templates import choose_template
from tests.sync.setup_world import (
    AUDIT_KEY,
    TENANT,
    campaign_fields,
    counts,
    existing_campaign,
    seed_world,
    services,
)


def dbos_config(engine: Engine, tmp_path: Path) -> tuple[DurableConfig, str | None]:
    """SQLite: a file under tmp_path; PostgreSQL: a schema of its own (dropped by the caller)."""
    if engine.dialect.name == "sqlite":
        return DurableConfig(f"sqlite:///{tmp_path / 'dbos.sqlite'}", polling_interval_sec=0.1), None
    schema = f"dbos_{uuid.uuid4().hex[:10]}"
    url = engine.url.render_as_string(hide_password=False)
    return DurableConfig(url, schema=schema, polling_interval_sec=0.1), schema


@pytest.fixture
def world(engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[CampaignSetupClient]:
    seed_world(session_factory, tmp_path)
    config, schema = dbos_config(engine, tmp_path)
    try:
        with serving(services(session_factory, tmp_path)), launch_durable(config):
            yield CampaignSetupClient(config)
    finally:
        if schema is not None:
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_campaigns_are_set_up_in_the_routed_system(
    world: CampaignSetupClient, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    keys = {kind: f"setup-{kind}-{uuid.uuid4().hex[:8]}" for kind in ("standard", "event")}
    runs = {
        kind: world.start(tenant_id=TENANT, actor="maya.chen", fields=campaign_fields(kind), idempotency_key=key,
                          wait_seconds=60)
        for kind, key in keys.items()
    }  # fmt: skip
    for run in runs.values():
        assert run.status == "SUCCESS", run.error
        assert [(s.name, s.state) for s in run.steps] == [(name, "done") for name in STEPS]
    assert runs["standard"].result["system"] == "workfront"
    assert runs["event"].result["system"] == "asana"

    # Template sections become parents (Workfront task groups / Asana sections' items), tasks under them.
    standard = choose_template("standard", 2)
    event = choose_template("event", 2)
    items = {kind: sum(1 + len(sec.tasks) for sec in t.sections) for kind, t in (("standard", standard),
                                                                                   ("event", event))}  # fmt: skip
    assert runs["standard"].result["work_items"] == sum(len(sec.tasks) for sec in standard.sections)
    seen = counts(session_factory, tmp_path)
    assert seen["wf_projects"] == 1 and seen["wf_tasks"] == items["standard"]
    assert seen["asana_projects"] == 1 and seen["asana_tasks"] == sum(len(sec.tasks) for sec in event.sections)
    assert seen["campaign.created"] == 2 and seen["campaign.synced"] == 2

    with session_factory() as s:
        project_ref = s.scalars(select(SystemRef).where(SystemRef.entity_type == "campaign")).all()
        assert {(r.system, r.canonical_id) for r in project_ref} == {
            ("workfront", runs["standard"].result["campaign_id"]),
            ("asana", runs["event"].result["campaign_id"]),
        }
        launch = s.scalars(select(WorkItem).where(WorkItem.name == "Launch campaign")).one()
        assert launch.assignee_id is not None  # the owner's Workfront identity, from the directory

    # The same request again is the same workflow: nothing new anywhere.
    again = world.start(tenant_id=TENANT, actor="maya.chen", fields=campaign_fields("standard"),
                        idempotency_key=keys["standard"], wait_seconds=10)  # fmt: skip
    assert again.workflow_id == runs["standard"].workflow_id and again.status == "SUCCESS"
    assert counts(session_factory, tmp_path) == seen
    assert [r.workflow_id for r in world.list()] == [runs["event"].workflow_id, runs["standard"].workflow_id]
    assert AuditLog(session_factory, key=AUDIT_KEY).verify().ok


def test_a_refused_request_fails_at_validate_and_is_logged(
    world: CampaignSetupClient, session_factory: sessionmaker[Session]
) -> None:
    run = world.start(tenant_id=TENANT, actor="maya.chen", fields=campaign_fields(owner_id="nobody.here"),
                      idempotency_key=f"bad-{uuid.uuid4().hex[:8]}", wait_seconds=30)  # fmt: skip
    assert run.status == "ERROR"
    assert "owner" in (run.error or "") or "user_id" in (run.error or "")
    assert [(s.name, s.state) for s in run.steps][:2] == [("validate", "failed"), ("policy", "pending")]
    with session_factory() as s:
        logged = s.scalars(select(ErrorLog)).all()
    assert [(e.step, e.request_id) for e in logged] == [("validate", run.request_id)]


def test_an_existing_campaign_adopts_its_linked_project_and_refuses_a_mismatch(
    world: CampaignSetupClient, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    campaign_id, project_id = existing_campaign(session_factory, tmp_path)
    before = counts(session_factory, tmp_path)
    key = f"ex-{uuid.uuid4().hex[:8]}"
    run = world.start(tenant_id=TENANT, actor="maya.chen", fields=None, campaign_id=campaign_id,
                      project_id=project_id, idempotency_key=key, wait_seconds=60)  # fmt: skip
    assert run.status == "SUCCESS", run.error
    assert run.result["project_id"] == project_id and run.result["campaign_id"] == campaign_id
    seen = counts(session_factory, tmp_path)
    template = choose_template("standard", 2)
    assert seen["wf_projects"] == before["wf_projects"] == 1  # adopted, not created
    assert seen["wf_tasks"] == sum(1 + len(sec.tasks) for sec in template.sections)
    assert seen["campaign.created"] == before["campaign.created"] and seen["campaign.synced"] == 1

    # Another project than the linked one, a campaign linked elsewhere than its rule, a project that does not exist.
    event_id, _ = existing_campaign(session_factory, tmp_path, "event")
    with session_factory.begin() as s:  # relink the event campaign to Workfront only: its rule says Asana
        ref = s.scalars(select(SystemRef).where(SystemRef.canonical_id == event_id)).one()
        ref.system = "workfront"
    fresh, _ = existing_campaign(session_factory, tmp_path)
    with session_factory.begin() as s:
        s.execute(SystemRef.__table__.delete().where(SystemRef.canonical_id == fresh))
    cases = {
        "choose_system: project_id": (campaign_id, "0" * 32),
        "choose_system: campaign": (event_id, None),
        "create_project: project_id": (fresh, "f" * 32),
    }
    for start, (cid, pid) in cases.items():
        bad = world.start(tenant_id=TENANT, actor="maya.chen", fields=None, campaign_id=cid, project_id=pid,
                          idempotency_key=f"bad-{uuid.uuid4().hex[:8]}", wait_seconds=60)  # fmt: skip
        assert bad.status == "ERROR" and (bad.error or "").startswith(start), (start, bad.error)
