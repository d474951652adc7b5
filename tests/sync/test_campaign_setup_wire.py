"""The campaign-setup workflow against local servers speaking the Workfront and Asana REST APIs: a 500 (before or
after the create was applied) and a 429 during the creates are retried, and nothing is created twice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.asana.client import AsanaRestClient
from connectors.asana.idempotency import SpineIdempotency
from connectors.workfront.client import WorkfrontRestClient
from spine.audit import AuditLog
from spine.models import ErrorLog, User
from sync.campaign_setup import serving
from sync.durable import launch_durable
from sync.setup_client import SetupRun
from sync.setup_systems import AsanaSetup, SetupSystem, SystemName, WorkfrontSetup
from sync.setup_templates import choose_template
from tests.sync.setup_world import AUDIT_KEY, PEOPLE, TENANT, _wf_id, campaign_fields, seed_world, services
from tests.sync.test_campaign_setup import dbos_config
from tests.wire.asana_server import AsanaWireServer, asana_wire_server  # noqa: F401  (fixture)
from tests.wire.workfront_server import (  # noqa: F401  (fixtures)
    TOKEN,
    WorkfrontWireServer,
    workfront_wire,
    workfront_wire_server,
)

ASANA_TOKEN = "asana-wire-token-0123456789"


def _run(
    engine: Engine, sessions: sessionmaker[Session], home: Path, kind: str,
    systems: Callable[[str, SystemName], SetupSystem],
) -> SetupRun:  # fmt: skip
    from sync.setup_client import CampaignSetupClient

    config, _ = dbos_config(engine, home)
    with serving(services(sessions, home, systems=systems, retry_interval_sec=0.05)), launch_durable(config):
        return CampaignSetupClient(config).start(tenant_id=TENANT, actor="maya.chen", fields=campaign_fields(kind),
                                                 idempotency_key=f"wire-{kind}-0001", wait_seconds=60)  # fmt: skip


@pytest.fixture
def sqlite_only(db_backend: str) -> None:
    if db_backend != "sqlite":
        pytest.skip("the external API is what is under test; the spine backend is covered elsewhere")


@pytest.mark.usefixtures("sqlite_only")
def test_workfront_500_and_429_on_creates_are_retried_without_duplicates(
    engine: Engine,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    workfront_wire: WorkfrontWireServer,  # noqa: F811
) -> None:
    seed_world(session_factory, tmp_path)
    users = [{"ID": _wf_id(u), "name": n, "emailAddr": f"{u}@acme.example.com"} for u, n, _ in PEOPLE]
    workfront_wire.state.load(users=users, teams=[], portfolios=[], templates=[])
    workfront_wire.state.fail_next(500, method="POST")  # refused before Workfront did anything
    workfront_wire.state.fail_next(500, method="POST", after=True)  # the project WAS created; the answer was lost
    workfront_wire.state.fail_next(429, retry_after="0", method="POST")

    def systems(tenant: str, system: SystemName) -> SetupSystem:
        assert system == "workfront"
        client = WorkfrontRestClient(workfront_wire.base_url, TOKEN, rate_per_minute=100_000, backoff_base=0.01,
                                     backoff_cap=0.05, timeout=5.0)  # fmt: skip
        return WorkfrontSetup(client)

    run = _run(engine, session_factory, tmp_path, "standard", systems)
    assert run.status == "SUCCESS", run.error
    template = choose_template("standard", 2)
    objects = workfront_wire.state.objects
    assert len(objects["PROJ"]) == 1
    assert len(objects["TASK"]) == sum(1 + len(sec.tasks) for sec in template.sections)
    keys = [o["extRefID"] for code in ("PROJ", "TASK") for o in objects[code].values()]
    assert len(keys) == len(set(keys)) and all(k.endswith(tuple("0123456789")) for k in keys)
    # A refused POST, then one applied whose answer was lost: the next attempt found the project by its key.
    assert len(workfront_wire.state.requests("POST", "/proj")) == 2
    assert not workfront_wire.state.injected
    assert AuditLog(session_factory, key=AUDIT_KEY).verify().ok


@pytest.mark.usefixtures("sqlite_only")
def test_asana_500_and_429_on_creates_are_retried_without_duplicates(
    engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path,
    asana_wire_server: Callable[[], AsanaWireServer],  # noqa: F811
) -> None:  # fmt: skip
    seed_world(session_factory, tmp_path)
    wire = asana_wire_server()
    ws = wire.state.add_workspace("Acme")
    with session_factory.begin() as s:  # the directory's Asana identities are this server's users
        for i, (user, name, _) in enumerate(PEOPLE):
            gid = wire.state.add_user(name, f"{user}@acme.example.com", ws, token=ASANA_TOKEN if i == 0 else None)
            s.execute(update(User).where(User.tenant_id == TENANT, User.user_id == user).values(asana_user_gid=gid))
    wire.inject(500)
    wire.inject(429, retry_after="0")

    def systems(tenant: str, system: SystemName) -> SetupSystem:
        assert system == "asana"
        client = AsanaRestClient(wire.base_url, token=ASANA_TOKEN, workspace_gid=ws, backoff_base=0.001,
                                 backoff_max=0.01, idempotency=SpineIdempotency(session_factory, tenant))  # fmt: skip
        return AsanaSetup(client)

    run = _run(engine, session_factory, tmp_path, "event", systems)
    assert run.status == "SUCCESS", run.error
    template = choose_template("event", 2)
    assert len(wire.state.projects) == 1
    assert len(wire.state.tasks) == sum(len(sec.tasks) for sec in template.sections)
    assert {t["assignee"] is not None for t in wire.state.tasks.values()} == {True}
    assert AuditLog(session_factory, key=AUDIT_KEY).verify().ok


@pytest.mark.usefixtures("sqlite_only")
def test_a_workfront_that_keeps_failing_ends_the_workflow_at_its_step_and_logs_it(
    engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path,
    workfront_wire: WorkfrontWireServer,  # noqa: F811
) -> None:  # fmt: skip
    seed_world(session_factory, tmp_path)
    users = [{"ID": _wf_id(u), "name": n, "emailAddr": f"{u}@acme.example.com"} for u, n, _ in PEOPLE]
    workfront_wire.state.load(users=users, teams=[], portfolios=[], templates=[])
    workfront_wire.state.fail_next(503, times=20, method="POST")

    def systems(tenant: str, system: SystemName) -> SetupSystem:
        client = WorkfrontRestClient(workfront_wire.base_url, TOKEN, rate_per_minute=100_000, backoff_base=0.01,
                                     backoff_cap=0.05, timeout=5.0)  # fmt: skip
        return WorkfrontSetup(client)

    run = _run(engine, session_factory, tmp_path, "standard", systems)
    assert run.status == "ERROR" and "503" in (run.error or "") and "4 attempts" in (run.error or "")
    assert {s.name: s.state for s in run.steps}["create_project"] == "failed"
    assert not workfront_wire.state.objects["PROJ"]
    with session_factory() as s:
        logged = s.scalars(select(ErrorLog)).all()
    assert [(e.step, e.request_id) for e in logged] == [("create_project", run.request_id)]
    assert logged[0].campaign_id is not None  # the campaign was recorded before the project step
