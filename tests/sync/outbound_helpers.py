"""Helpers of the outbound tests: a tenant with one campaign, links, edits, the wire project, runs."""

from __future__ import annotations

import uuid
from typing import Any

from dbos import DBOS
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.workfront.client import WorkfrontRestClient
from spine.db import transaction
from spine.models import SyncState
from spine.repositories import SpineStore, create_tenant
from sync.durable import Durable
from sync.outbound import Outbound
from tests.wire.workfront_server import TOKEN, WorkfrontWireServer

T = "acme-out"


def new_campaign(factory: sessionmaker[Session]) -> str:
    with transaction(factory) as s:
        create_tenant(s, T, "Acme Outbound")
        store = SpineStore(s, T)
        store.directory.add_user({"user_id": "maya.chen", "display_name": "Maya", "email": "maya@acme.test"})
        return store.campaigns.create({"name": "Spring Launch", "type": "product_launch", "tier": 2,
                                       "launch_date": "2027-03-01", "end_date": "2027-04-30", "owner_id": "maya.chen",
                                       "budget_planned": {"amount": "50000", "currency": "USD"}},
                                      actor="t").id  # fmt: skip


def link(factory: sessionmaker[Session], cid: str, system: str, external_id: str) -> None:
    with transaction(factory) as s:
        SpineStore(s, T).refs.link("campaign", cid, system, external_id, actor="t")


def edit(factory: sessionmaker[Session], cid: str, **changes: Any) -> None:
    with transaction(factory) as s:
        store = SpineStore(s, T)
        store.campaigns.update(cid, changes, expected_version=store.campaigns.get(cid).version, actor="maya.chen")


def sync_state(factory: sessionmaker[Session], cid: str, system: str) -> SyncState:
    with factory() as s:
        row = s.scalar(select(SyncState).where(SyncState.canonical_id == cid, SyncState.system == system))
        assert row is not None
        s.expunge(row)
        return row


def wire_opener(wire: WorkfrontWireServer) -> Any:
    return lambda _t, _s: WorkfrontRestClient(wire.base_url, TOKEN, max_retries=2, backoff_base=0.01,
                                              max_retry_after=5)  # fmt: skip


def make_outbound(factory: sessionmaker[Session], opener: Any, **kw: Any) -> Outbound:
    # Built after launch here (one DBOS per test); DBOS warns, and recovery is tested with a fresh launch below.
    return Outbound(factory, opener, config_name=f"outbound-{uuid.uuid4().hex[:8]}", backoff_seconds=0.01, **kw)


def run(outbound: Outbound, durable: Durable) -> dict[str, str]:
    ids = outbound.enqueue_pending(durable.outbound, T)
    return {i: DBOS.retrieve_workflow(i).get_result(polling_interval_sec=0.05) for i in ids}


def wire_project(wire: WorkfrontWireServer) -> str:
    pid = uuid.uuid4().hex
    wire.state.objects["PROJ"][pid] = {"ID": pid, "objCode": "PROJ", "name": "Spring Launch", "status": "PLN",
                                       "plannedStartDate": "2027-03-01", "plannedCompletionDate": "2027-04-30",
                                       "description": None, "percentComplete": 0.0, "parameterValues": {}}  # fmt: skip
    return pid


def puts(wire: WorkfrontWireServer, pid: str) -> list[Any]:
    return [s for s in wire.state.requests("PUT", pid)]
