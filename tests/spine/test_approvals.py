"""Approvals: request, resolve, consume exactly once, and the adversarial cases, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from spine.approval_errors import (
    ApprovalAlreadyUsed,
    ApprovalConflict,
    ApprovalError,
    ApprovalExpired,
    ApprovalMismatch,
    ApprovalNotFound,
    ApprovalNotPending,
    ApprovalNotResolved,
    ApprovalPreviouslyRejected,
    ApprovalRejected,
    ApprovalTampered,
    ApproverNotInGroup,
    SelfApprovalForbidden,
)
from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.db import make_engine, make_session_factory, transaction
from spine.errors import NotFoundError, SpineError
from spine.fingerprint import NotCanonicalError, canonical_json, fingerprint
from spine.models.governance import Approval

T1, T2 = "tenant-a", "tenant-b"
LEAD = "marketing-leadership"
SERVER, TOOL = "spine", "update_campaign_budget"
ARGS = {"campaign_id": "c-1", "budget": {"amount": Decimal("25000.00"), "currency": "USD"}}


def _url(engine: Engine) -> str:
    """The engine's URL for another process (the shared fixtures' SQLite file or PostgreSQL schema)."""
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def sf(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """The shared ``session_factory`` over a migrated database (SQLite and PostgreSQL, see tests/conftest.py)."""
    return session_factory


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += dt.timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def audit(sf: sessionmaker[Session], clock: Clock) -> AuditLog:
    return AuditLog(sf, clock)


@pytest.fixture
def store(sf: sessionmaker[Session], clock: Clock, audit: AuditLog) -> ApprovalStore:
    return ApprovalStore(sf, clock=clock, audit=audit)


def _rows(sf: sessionmaker[Session]) -> list[tuple[str, str, int]]:
    with sf() as s:
        return sorted((a.approval_id, a.status, a.version) for a in s.scalars(select(Approval)))


def _request(store: ApprovalStore, tenant: str = T1, requester: str = "alice", args: Any = ARGS) -> Approval:
    return store.request(tenant, SERVER, TOOL, args, requester, LEAD, "budget above $10,000", ["budget.leadership"])


def _approved(store: ApprovalStore) -> Approval:
    a = _request(store)
    return store.resolve(T1, a.approval_id, "bob", [LEAD], "approve", "fits the plan")


# -- fingerprint ---------------------------------------------------------------------------------------------


def test_canonical_json_is_order_whitespace_and_normalisation_free() -> None:
    a = {"b": Decimal("10000.00"), "a": ["e\u0301", 2.0, dt.date(2026, 1, 2)]}
    b = {"a": ["\u00e9", 2, dt.date(2026, 1, 2)], "b": Decimal("1E+4")}
    assert canonical_json(a) == canonical_json(b) == '{"a":["é",2,"2026-01-02"],"b":"10000"}'
    assert fingerprint("s", "t", a, "u") == fingerprint("s", "t", b, "u")
    assert fingerprint("s", "t", a, "u") != fingerprint("s", "t", a, "v")
    assert len(fingerprint("s", "t", a, "u")) == 64
    with pytest.raises(ValueError, match="naive"):
        canonical_json({"at": dt.datetime(2026, 1, 1)})
    with pytest.raises(NotCanonicalError, match=r"call\.arguments\.budget\.amount: non-finite"):
        fingerprint("s", "t", {"budget": {"amount": Decimal("NaN")}}, "u")
    with pytest.raises(ValueError, match=r"value\[1\]"):
        canonical_json([1, b"bytes"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=5), kids, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_is_a_fixed_point(value: Any) -> None:
    once = canonical_json(value)
    assert canonical_json(json.loads(once)) == once


# -- request / list / get ------------------------------------------------------------------------------------


def test_request_stores_a_pending_approval_and_is_idempotent(store: ApprovalStore, clock: Clock) -> None:
    a = _request(store)
    assert a.status == "pending" and a.requester == "alice" and a.required_group == LEAD
    assert a.expires_at == clock.now + dt.timedelta(hours=72)
    assert a.fingerprint == fingerprint(SERVER, TOOL, ARGS, "alice")
    assert a.arguments == {"campaign_id": "c-1", "budget": {"amount": "25000", "currency": "USD"}}
    assert a.rule_ids == ["budget.leadership"]
    result = a.approval_required_result()
    assert result == {
        "status": "approval_required",
        "approval_id": a.approval_id,
        "required_group": LEAD,
        "expires_at": a.expires_at.isoformat(),
        "reason": "budget above $10,000",
    }
    # Same call again (keys reordered) -> same approval, no duplicate.
    again = _request(store, args={"budget": {"currency": "USD", "amount": Decimal("25000")}, "campaign_id": "c-1"})
    assert again.approval_id == a.approval_id
    clock.advance(minutes=1)
    other = _request(store, requester="dave")
    assert other.approval_id != a.approval_id
    assert [x.approval_id for x in store.list(T1)] == [a.approval_id, other.approval_id]
    assert store.get(T1, a.approval_id).approval_id == a.approval_id
    assert store.list(T1, status="approved") == []
    assert len(store.list(T1, status="pending", group=LEAD)) == 2
    assert store.list(T1, group="vp") == []
    assert store.list(T2) == []


def test_request_validates_its_inputs(store: ApprovalStore) -> None:
    with pytest.raises(ApprovalError, match="required_group"):
        store.request(T1, SERVER, TOOL, ARGS, "alice", "", "why", [])


# -- resolve -------------------------------------------------------------------------------------------------


def test_leadership_member_approves_with_a_note(store: ApprovalStore, clock: Clock) -> None:
    a = _request(store)
    clock.advance(hours=1)
    done = store.resolve(T1, a.approval_id, "bob", ["campaign-managers", LEAD], "approve", "fits the plan")
    assert (done.status, done.resolved_by, done.note, done.resolved_at) == (
        "approved",
        "bob",
        "fits the plan",
        clock.now,
    )
    assert store.get(T1, a.approval_id).status == "approved"
    with pytest.raises(ApprovalNotPending):
        store.resolve(T1, a.approval_id, "carol", [LEAD], "reject", "too late")


def test_vp_outranks_leadership_but_not_the_reverse(store: ApprovalStore) -> None:
    a = _request(store)
    assert store.resolve(T1, a.approval_id, "victor", ["vp"], "approve", "ok").status == "approved"
    big = store.request(T1, SERVER, TOOL, {"amount": 500000}, "alice", "vp", "above $100,000", ["budget.vp"])
    with pytest.raises(ApproverNotInGroup, match="'vp'"):
        store.resolve(T1, big.approval_id, "bob", [LEAD], "approve", "ok")


def test_self_approval_is_refused(store: ApprovalStore) -> None:
    a = _request(store)
    for me in ("alice", " Alice "):
        with pytest.raises(SelfApprovalForbidden, match="another member"):
            store.resolve(T1, a.approval_id, me, [LEAD, "vp"], "approve", "mine")
    assert store.get(T1, a.approval_id).status == "pending"


def test_wrong_group_is_refused(store: ApprovalStore) -> None:
    a = _request(store)
    with pytest.raises(ApproverNotInGroup, match=LEAD):
        store.resolve(T1, a.approval_id, "pat", ["campaign-managers", "production-team"], "approve", "x")
    assert store.get(T1, a.approval_id).status == "pending"


def test_rejection_is_remembered_and_the_same_call_is_not_asked_again(store: ApprovalStore) -> None:
    a = _request(store)
    done = store.resolve(T1, a.approval_id, "bob", [LEAD], "reject", "budget frozen this quarter")
    assert done.status == "rejected" and done.note == "budget frozen this quarter"
    with pytest.raises(ApprovalPreviouslyRejected, match="budget frozen this quarter"):
        _request(store)
    with pytest.raises(ApprovalRejected):
        store.consume(T1, a.approval_id, SERVER, TOOL, ARGS, "alice")
    # A different call (other amount) may still be asked; the other tenant is unaffected.
    assert _request(store, args={**ARGS, "budget": {"amount": Decimal("12000"), "currency": "USD"}}).status == "pending"
    assert _request(store, tenant=T2).status == "pending"
    assert store.forget_rejection(T1, a.fingerprint)
    assert _request(store).approval_id != a.approval_id


def test_expired_approval_cannot_be_approved_nor_consumed(store: ApprovalStore, clock: Clock) -> None:
    a = _request(store)
    clock.advance(hours=72, seconds=1)
    with pytest.raises(ApprovalExpired, match="send the call again"):
        store.resolve(T1, a.approval_id, "bob", [LEAD], "approve", "late")
    assert store.get(T1, a.approval_id).status == "expired"
    # A new request for the same call opens a fresh approval.
    fresh = _request(store)
    assert fresh.approval_id != a.approval_id and fresh.status == "pending"

    store.resolve(T1, fresh.approval_id, "bob", [LEAD], "approve", "ok")
    clock.advance(hours=72)
    with pytest.raises(ApprovalExpired):
        store.consume(T1, fresh.approval_id, SERVER, TOOL, ARGS, "alice")
    assert store.get(T1, fresh.approval_id).status == "expired"


def test_reads_show_overdue_approvals_expired_and_write_nothing(
    store: ApprovalStore, clock: Clock, audit: AuditLog, sf: sessionmaker[Session]
) -> None:
    a = _request(store)
    approved = _request(store, args=ARGS | {"x": 2})
    store.resolve(T1, approved.approval_id, "bob", [LEAD], "approve", "ok")
    live = _request(store, args=ARGS | {"x": 3})
    clock.advance(hours=60)
    live2 = _request(store, args=ARGS | {"x": 4})  # requested later: still open after the others expire
    clock.advance(hours=20)
    rows_before, head_before = _rows(sf), audit.head()
    assert [x.approval_id for x in store.list(T1, status="pending")] == [live2.approval_id]
    assert store.list(T1, status="approved") == []
    expired = {x.approval_id for x in store.list(T1, status="expired")}  # same created_at: order by id only
    assert expired == {a.approval_id, approved.approval_id, live.approval_id}
    assert {x.approval_id: x.status for x in store.list(T1)}[live2.approval_id] == "pending"
    assert store.get(T1, approved.approval_id).status == "expired"
    assert (_rows(sf), audit.head()) == (rows_before, head_before)  # reading wrote no row and no audit entry
    with pytest.raises(ApprovalExpired):
        store.consume(T1, approved.approval_id, SERVER, TOOL, ARGS | {"x": 2}, "alice")
    assert audit.head()[0] == head_before[0] + 1  # acting on it records the expiry


# -- consume -------------------------------------------------------------------------------------------------


def test_consume_exactly_once_and_reuse_is_refused(store: ApprovalStore, audit: AuditLog) -> None:
    a = _request(store)
    with pytest.raises(ApprovalNotResolved, match="still pending"):
        store.consume(T1, a.approval_id, SERVER, TOOL, ARGS, "alice")
    store.resolve(T1, a.approval_id, "bob", [LEAD], "approve", "ok")
    used = store.consume(T1, a.approval_id, SERVER, TOOL, ARGS, "alice")
    assert used.status == "consumed" and used.consumed_at is not None
    with pytest.raises(ApprovalAlreadyUsed, match="without approval_id"):
        store.consume(T1, a.approval_id, SERVER, TOOL, ARGS, "alice")
    assert [e.decision for e in audit.tail()] == ["approved", "consumed"]
    assert audit.verify().ok


@pytest.mark.parametrize(
    "change",
    [
        {"args": {**ARGS, "budget": {"amount": Decimal("250000.00"), "currency": "USD"}}},
        {"args": {**ARGS, "extra": True}},
        {"tool": "delete_campaign"},
        {"server": "workfront"},
        {"requester": "mallory"},
    ],
)
def test_edited_call_does_not_match_the_approval(store: ApprovalStore, change: dict[str, Any]) -> None:
    a = _approved(store)
    with pytest.raises(ApprovalMismatch, match="re-send exactly the approved call"):
        store.consume(
            T1, a.approval_id, change.get("server", SERVER), change.get("tool", TOOL),
            change.get("args", ARGS), change.get("requester", "alice"),
        )  # fmt: skip
    assert store.get(T1, a.approval_id).status == "approved"


def test_other_tenant_sees_no_approval(store: ApprovalStore) -> None:
    a = _request(store)
    with pytest.raises(ApprovalNotFound) as err:
        store.get(T2, a.approval_id)
    assert isinstance(err.value, NotFoundError) and isinstance(err.value, SpineError)
    with pytest.raises(ApprovalNotFound):
        store.resolve(T2, a.approval_id, "bob", [LEAD], "approve", "x")
    store.resolve(T1, a.approval_id, "bob", [LEAD], "approve", "x")
    with pytest.raises(ApprovalNotFound):
        store.consume(T2, a.approval_id, SERVER, TOOL, ARGS, "alice")
    with pytest.raises(ApprovalNotFound):
        store.get(T1, "no-such-id")


def test_consume_in_rolls_back_with_the_callers_write(store: ApprovalStore, sf: sessionmaker[Session]) -> None:
    a = _approved(store)
    with pytest.raises(RuntimeError), transaction(sf) as s:
        store.consume_in(s, T1, a.approval_id, SERVER, TOOL, ARGS, "alice")
        raise RuntimeError("the write failed")
    assert store.get(T1, a.approval_id).status == "approved"
    assert store.consume(T1, a.approval_id, SERVER, TOOL, ARGS, "alice").status == "consumed"


def test_arguments_edited_in_the_database_are_detected(store: ApprovalStore, sf: sessionmaker[Session]) -> None:
    a = _request(store)
    with transaction(sf) as s:
        s.execute(
            update(Approval)
            .where(Approval.approval_id == a.approval_id)
            .values(arguments={**a.arguments, "budget": {"amount": "2500", "currency": "USD"}})
        )
    with pytest.raises(ApprovalTampered):
        store.resolve(T1, a.approval_id, "bob", [LEAD], "approve", "looks small")


def test_errors_describe_the_fix(store: ApprovalStore) -> None:
    a = _request(store)
    with pytest.raises(ApprovalNotResolved) as err:
        store.consume(T1, a.approval_id, SERVER, TOOL, ARGS, "alice")
    body = err.value.to_dict()
    assert body["error"] == "approval_not_resolved" and body["field"] == "approval_id" and body["fix"]


# -- concurrency: real processes -----------------------------------------------------------------------------

ROUNDS = 6


def _race_worker(url: str, action: str, me: str, ids: list[str], barrier: Any, out: Any) -> None:
    """One racer. approve: request the same call as the other racer, then approve it. consume: consume ids."""
    engine = make_engine(url)
    sf = make_session_factory(engine)
    store = ApprovalStore(sf, audit=AuditLog(sf))
    results = []
    for n in range(ROUNDS):
        call = {**ARGS, "n": n}
        barrier.wait()
        try:
            if action == "approve":
                aid = store.request(T1, SERVER, TOOL, call, "alice", LEAD, "race", []).approval_id
                barrier.wait()
                store.resolve(T1, aid, me, [LEAD], "approve", f"approved by {me}")
            else:
                aid = ids[n]
                store.consume(T1, aid, SERVER, TOOL, call, "alice")
            results.append((aid, "ok"))
        except ApprovalError as exc:
            results.append((aid, type(exc).__name__))
    engine.dispose()
    out.put((me, results))


def _race(url: str, action: str, ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2, timeout=60), ctx.Queue()
    procs = [ctx.Process(target=_race_worker, args=(url, action, me, ids, barrier, out)) for me in ("bob", "carol")]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=90) for _ in procs)
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return results


def test_two_processes_requesting_then_approving_the_same_call(engine: Engine, sf: sessionmaker[Session]) -> None:
    results = _race(_url(engine), "approve", [])
    store = ApprovalStore(sf)
    assert len(store.list(T1)) == ROUNDS  # concurrent identical requests share one approval
    for n in range(ROUNDS):
        (aid, bob), (other, carol) = results["bob"][n], results["carol"][n]
        assert aid == other
        assert sorted([bob, carol]) in (["ApprovalConflict", "ok"], ["ApprovalNotPending", "ok"]), (bob, carol)
        final = store.get(T1, aid)
        assert final.status == "approved" and final.resolved_by == ("bob" if bob == "ok" else "carol")
    report = AuditLog(sf).verify()
    assert report.ok and report.checked == ROUNDS, report.problems


def test_two_processes_consuming_the_same_approval(engine: Engine, sf: sessionmaker[Session]) -> None:
    store = ApprovalStore(sf, audit=AuditLog(sf))
    ids = []
    for n in range(ROUNDS):
        a = store.request(T1, SERVER, TOOL, {**ARGS, "n": n}, "alice", LEAD, "race", [])
        ids.append(store.resolve(T1, a.approval_id, "victor", ["vp"], "approve", "ok").approval_id)
    results = _race(_url(engine), "consume", ids)
    for n, aid in enumerate(ids):
        outcomes = sorted(results[me][n][1] for me in ("bob", "carol"))
        assert outcomes == ["ApprovalAlreadyUsed", "ok"], outcomes
        assert store.get(T1, aid).status == "consumed"
    report = AuditLog(sf).verify()
    assert report.ok and report.checked == 2 * ROUNDS, report.problems


def test_one_pending_approval_per_call_is_a_database_rule(store: ApprovalStore, sf: sessionmaker[Session]) -> None:
    a = _request(store)
    dup = {c: getattr(a, c) for c in ("tenant_id", "server", "tool", "arguments", "fingerprint", "requester")}
    with pytest.raises(IntegrityError), transaction(sf) as s:
        s.add(Approval(approval_id="dup", required_group=LEAD, reason="r", expires_at=a.expires_at, **dup))
    assert store.resolve(T1, a.approval_id, "bob", LEAD, "approve", "a single group as a string").status == "approved"


def test_conflict_error_is_an_approval_error() -> None:
    assert issubclass(ApprovalConflict, ApprovalError) and issubclass(ApprovalError, SpineError)
