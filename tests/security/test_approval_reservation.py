"""Attacks on the approval reservation: a failed write must not burn its approval, two concurrent uses must run
exactly once (two processes, SQLite and PostgreSQL), a crashed holder must not block forever, and a released
approval serves the identical call only."""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mcc.wiring import App
from spine.approval_errors import ApprovalError, ApprovalInUse, ApprovalMismatch
from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.db import make_engine, make_session_factory
from spine.repositories import open_store
from tests.security.world import CAMPAIGN, approved, audit_count, call, campaigns_named

T, LEAD, SERVER, TOOL = "acme", "marketing-leadership", "spine", "create_campaign"
ARGS = {"name": "Race", "budget_planned": {"amount": "50000", "currency": "USD"}}
ROUNDS = 5


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def _approved(store: ApprovalStore, args: dict[str, Any] = ARGS) -> str:
    a = store.request(T, SERVER, TOOL, args, "alice", LEAD, "over 10k", [])
    return store.resolve(T, a.approval_id, "bob", [LEAD], "approve").approval_id


async def test_an_approved_update_that_hits_a_version_conflict_keeps_its_approval(app: App) -> None:
    with open_store(app.sessions, "acme") as store:
        target = next(c for c in store.campaigns.list(limit=100) if c.status in ("draft", "planning"))
    change = {"campaign_id": target.id, "expected_version": target.version,
              "changes": {"budget_planned": {"amount": "64000", "currency": "USD"}}}  # fmt: skip
    aid = await approved(app, "update_campaign", change)
    # Someone else edits the campaign first: the approved write now conflicts and changes nothing.
    ok, _ = await call(app, "maya.chen", "spine", "update_campaign", {"campaign_id": target.id,
                       "expected_version": target.version, "changes": {"description": "edited meanwhile"}})  # fmt: skip
    assert ok
    ok, text = await call(app, "maya.chen", "spine", "update_campaign", {**change, "approval_id": aid})
    assert not ok and "conflict" in text
    approval = ApprovalStore(app.sessions).get("acme", aid)
    assert approval.status == "approved" and approval.consumed_at is None
    assert audit_count(app, "released", aid) == 1 and audit_count(app, "consumed", aid) == 0
    with open_store(app.sessions, "acme") as store:
        assert store.campaigns.get(target.id).budget_planned.amount != 64000


async def test_two_concurrent_uses_of_one_approval_create_one_campaign(app: App) -> None:
    aid = await approved(app)
    args = {**CAMPAIGN, "approval_id": aid}
    outcomes = await asyncio.gather(*(call(app, "maya.chen", "spine", "create_campaign", args) for _ in range(3)))
    assert len(campaigns_named(app, CAMPAIGN["name"])) == 1
    assert audit_count(app, "executed", aid) == 1
    for ok, body in outcomes:  # the others got the stored result or were told the call is running
        assert (ok and body["name"] == CAMPAIGN["name"]) or (not ok and "[approval_in_use]" in body), body


def test_a_crashed_reservation_blocks_only_until_its_lease_lapses(session_factory: sessionmaker[Session]) -> None:
    clock = Clock()
    store = ApprovalStore(session_factory, clock=clock, lease=dt.timedelta(minutes=2))
    aid = _approved(store)
    store.reserve(T, aid, SERVER, TOOL, ARGS, "alice")  # ... and the process holding it dies
    with pytest.raises(ApprovalInUse) as err:
        store.reserve(T, aid, SERVER, TOOL, ARGS, "alice")
    assert "re-send the identical call in 120 s" in err.value.fix
    clock.now += dt.timedelta(minutes=2, seconds=1)
    with pytest.raises(ApprovalMismatch):  # a lapsed reservation is still no blank cheque
        store.reserve(T, aid, SERVER, TOOL, {**ARGS, "name": "Other"}, "alice")
    with pytest.raises(ApprovalMismatch):
        store.reserve(T, aid, SERVER, TOOL, ARGS, "mallory")
    again = store.reserve(T, aid, SERVER, TOOL, ARGS, "alice")
    assert again.status == "in_use" and store.complete(T, aid, "alice", {"id": "c-1"})
    assert store.replayable(T, aid, SERVER, TOOL, ARGS, "alice").result == {"id": "c-1"}  # type: ignore[union-attr]
    assert store.replayable(T, aid, SERVER, TOOL, ARGS, "mallory") is None


def test_a_released_approval_serves_the_identical_call_only(session_factory: sessionmaker[Session]) -> None:
    store = ApprovalStore(session_factory, audit=AuditLog(session_factory))
    aid = _approved(store)
    held = store.reserve(T, aid, SERVER, TOOL, ARGS, "alice")
    assert store.release(T, aid, held.version, "alice", "the call failed")
    assert store.get(T, aid).status == "approved"
    with pytest.raises(ApprovalMismatch):
        store.reserve(T, aid, SERVER, TOOL, {**ARGS, "budget_planned": {"amount": "99000", "currency": "USD"}}, "alice")
    held = store.reserve(T, aid, SERVER, TOOL, ARGS, "alice")
    assert not store.release(T, aid, held.version - 1, "alice", "a stale holder cannot free a newer reservation")
    assert store.complete(T, aid, "alice", {"ok": True}) and store.get(T, aid).status == "consumed"
    assert AuditLog(session_factory).verify().ok


def _reserve_worker(url: str, ids: list[str], barrier: Any, out: Any) -> None:
    engine = make_engine(url)
    store = ApprovalStore(make_session_factory(engine))
    results = []
    for aid in ids:
        barrier.wait()
        try:
            store.reserve(T, aid, SERVER, TOOL, ARGS, "alice")
            results.append("ok")
        except ApprovalError as exc:
            results.append(type(exc).__name__)
    engine.dispose()
    out.put(results)


def test_two_processes_reserving_one_approval_exactly_one_wins(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    store = ApprovalStore(session_factory)
    # Approvals of the same call, one per round: an approved one is no longer pending, so each request is new.
    ids = [_approved(store) for _ in range(ROUNDS)]
    assert len(set(ids)) == ROUNDS
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2, timeout=60), ctx.Queue()
    url = engine.url.render_as_string(hide_password=False)
    procs = [ctx.Process(target=_reserve_worker, args=(url, ids, barrier, out)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    for n in range(len(ids)):
        assert sorted(r[n] for r in results) == ["ApprovalInUse", "ok"]
