"""Approve with edits, delegation, escalation and the sweep, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from spine.approval_delegations import DelegationError, DelegationStore
from spine.approval_desk import ApprovalDesk, EditCheck
from spine.approval_edits import ApprovalEditRefused, diff_arguments
from spine.approval_errors import ApprovalConflict, ApproverNotInGroup, SelfApprovalForbidden
from spine.approval_sweep import ApprovalSweep
from spine.audit import AuditLog
from spine.db import transaction
from spine.fingerprint import fingerprint
from spine.models.governance import Approval, AuditEntry
from spine.notifications import Draft, Outbox
from spine.repositories import SpineStore, create_tenant

T1, T2 = "acme-wf", "globex-wf"
LEAD, VP = "marketing-leadership", "vp"
ARGS = {"campaign_id": "c-1", "budget": {"amount": "25000", "currency": "EUR"}, "launch_date": "2026-05-01"}


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> dict[str, Any]:
    with transaction(session_factory) as s:
        for tenant in (T1, T2):
            create_tenant(s, tenant, tenant)
        d = SpineStore(s, T1).directory
        for uid, groups in (("maya", ["campaign-managers"]), ("lee", [LEAD]), ("kim", [LEAD]), ("val", [VP]),
                            ("rob", ["campaign-managers"])):  # fmt: skip
            d.add_user({"user_id": uid, "display_name": uid, "email": f"{uid}@acme.test", "groups": groups})
        SpineStore(s, T2).directory.add_user(
            {"user_id": "zed", "display_name": "zed", "email": "zed@globex.test", "groups": [VP]}
        )
    clock = Clock()
    audit = AuditLog(session_factory, clock)
    delegations = DelegationStore(session_factory, approver_groups=(LEAD, VP), clock=clock, audit=audit)
    desk = ApprovalDesk(session_factory, delegations, clock=clock, audit=audit)
    return {"sf": session_factory, "clock": clock, "audit": audit, "delegations": delegations, "desk": desk}


def _request(desk: ApprovalDesk, tenant: str = T1, group: str = LEAD) -> Approval:
    return desk.request(tenant, "spine", "update_campaign_budget", ARGS, "maya", group, "over 10k", ["budget.lead"])


def _recheck(group: str | None) -> Any:
    def check(a: Approval, args: dict[str, Any]) -> EditCheck:
        if group is None:
            return EditCheck("allow")
        return EditCheck("require_approval", group, f"needs {group}", [f"rule.{group}"], "v2")

    return check


def test_diff_allows_lower_amounts_and_moved_dates_only() -> None:
    edited = {**ARGS, "budget": {"amount": "20000", "currency": "EUR"}, "launch_date": "2026-05-15"}
    edits = diff_arguments(ARGS, edited)
    assert [(e.path, e.kind) for e in edits] == [
        ("arguments.budget.amount", "lowered"), ("arguments.launch_date", "date_moved"),
    ]  # fmt: skip
    for bad, field in (
        ({**ARGS, "budget": {"amount": "30000", "currency": "EUR"}}, "arguments.budget.amount"),
        ({**ARGS, "budget": {"amount": "20000", "currency": "USD"}}, "arguments.budget.currency"),
        ({**ARGS, "campaign_id": "c-2"}, "arguments.campaign_id"),
        ({**ARGS, "extra": 1}, "arguments"),
    ):
        with pytest.raises(ApprovalEditRefused) as err:
            diff_arguments(ARGS, bad)
        assert err.value.field == field


def test_approve_with_edits_stores_the_edited_call_the_diff_and_the_audit_row(world: dict[str, Any]) -> None:
    desk: ApprovalDesk = world["desk"]
    a = _request(desk)
    edited = {**ARGS, "budget": {"amount": "15000", "currency": "EUR"}}
    out = desk.approve_with_edits(T1, a.approval_id, "lee", [LEAD], edited, _recheck(LEAD), note="trimmed")
    assert out.status == "approved" and out.arguments == edited and out.original_arguments == ARGS
    assert out.edits == [{"path": "arguments.budget.amount", "kind": "lowered", "before": "25000", "after": "15000"}]
    # The approval now binds the edited call: the requester re-sends exactly it.
    assert out.fingerprint == fingerprint("spine", "update_campaign_budget", edited, "maya")
    assert out.policy_version == "v2"
    consumed = desk.consume(T1, a.approval_id, "spine", "update_campaign_budget", edited, "maya")
    assert consumed.status == "consumed"
    with world["sf"]() as s:
        row = s.scalars(select(AuditEntry).where(AuditEntry.decision == "approved_with_edits")).one()
    assert row.actor == "lee" and row.detail["edits"][0]["after"] == "15000"
    assert world["audit"].verify().ok


def test_edit_needing_a_higher_group_or_denied_is_refused_and_nothing_changes(world: dict[str, Any]) -> None:
    desk: ApprovalDesk = world["desk"]
    a = _request(desk)
    edited = {**ARGS, "launch_date": "2026-06-01"}
    with pytest.raises(ApproverNotInGroup):
        desk.approve_with_edits(T1, a.approval_id, "lee", [LEAD], edited, _recheck(VP))
    deny = lambda a, args: EditCheck("deny", reason="blackout window")  # noqa: E731
    with pytest.raises(ApprovalEditRefused, match="blackout"):
        desk.approve_with_edits(T1, a.approval_id, "lee", [LEAD], edited, deny)
    assert desk.get(T1, a.approval_id).status == "pending"
    assert desk.get(T1, a.approval_id).arguments == ARGS
    # A VP may approve an edit that now needs a VP.
    assert desk.approve_with_edits(T1, a.approval_id, "val", [VP], edited, _recheck(VP)).required_group == VP


def test_edit_refuses_self_wrong_group_wrong_tenant_and_stale_reads(world: dict[str, Any]) -> None:
    desk: ApprovalDesk = world["desk"]
    a = _request(desk)
    edited = {**ARGS, "budget": {"amount": "1", "currency": "EUR"}}
    with pytest.raises(SelfApprovalForbidden):
        desk.approve_with_edits(T1, a.approval_id, "maya", [LEAD], edited, _recheck(None))
    with pytest.raises(ApproverNotInGroup):
        desk.approve_with_edits(T1, a.approval_id, "rob", ["campaign-managers"], edited, _recheck(None))
    with pytest.raises(Exception, match="no approval"):
        desk.approve_with_edits(T2, a.approval_id, "zed", [VP], edited, _recheck(None))
    desk.resolve_as(T1, a.approval_id, "kim", [LEAD], "reject", "no")
    with pytest.raises(Exception, match="not pending"):
        desk.approve_with_edits(T1, a.approval_id, "lee", [LEAD], edited, _recheck(None))


def test_delegation_lets_a_delegate_resolve_for_the_period_never_for_self(world: dict[str, Any]) -> None:
    desk: ApprovalDesk = world["desk"]
    dels: DelegationStore = world["delegations"]
    clock: Clock = world["clock"]
    vp_call = _request(desk, group=VP)
    with pytest.raises(ApproverNotInGroup):
        desk.resolve_as(T1, vp_call.approval_id, "lee", [LEAD], "approve")
    with pytest.raises(DelegationError) as err:  # the delegate must be in a group that may approve
        dels.create(T1, "val", "rob", clock.now, clock.now + dt.timedelta(days=3))
    assert err.value.field == "delegate"
    with pytest.raises(DelegationError) as err:  # only an approver has authority to hand over
        dels.create(T1, "maya", "lee", clock.now, clock.now + dt.timedelta(days=3))
    assert err.value.field == "delegator"
    d = dels.create(T1, "val", "lee", clock.now, clock.now + dt.timedelta(days=3), note="out of office")
    out = desk.resolve_as(T1, vp_call.approval_id, "lee", [LEAD], "approve")
    assert out.status == "approved" and out.on_behalf_of == "val"
    # After the period the delegation lapses.
    second = desk.request(T1, "spine", "update_campaign_budget", {**ARGS, "campaign_id": "c-9"}, "maya", VP, "x")
    clock.now += dt.timedelta(days=4)
    with pytest.raises(ApproverNotInGroup):
        desk.resolve_as(T1, second.approval_id, "lee", [LEAD], "approve")
    with world["sf"]() as s:
        decisions = [r.decision for r in s.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert "delegated" in decisions
    assert dels.revoke(T1, d.id, "val").revoked_at is not None


def test_a_delegate_never_resolves_the_delegators_own_request(world: dict[str, Any]) -> None:
    desk: ApprovalDesk = world["desk"]
    dels: DelegationStore = world["delegations"]
    clock: Clock = world["clock"]
    own = desk.request(T1, "spine", "update_campaign_budget", ARGS, "val", VP, "x")
    dels.create(T1, "val", "lee", clock.now, clock.now + dt.timedelta(days=1))
    with pytest.raises((ApproverNotInGroup, SelfApprovalForbidden)):
        desk.resolve_as(T1, own.approval_id, "lee", [LEAD], "approve")


def _planner(s: Session, a: Approval, event: str, group: str | None) -> list[Draft]:
    return [Draft(channel="mail", subject=f"{event} {a.approval_id}", body=group or a.requester, recipients=["x@y"])]


def test_sweep_notifies_escalates_and_tells_the_requester_once(world: dict[str, Any]) -> None:
    desk: ApprovalDesk = world["desk"]
    clock: Clock = world["clock"]
    outbox = Outbox(world["sf"], clock)
    sweep = ApprovalSweep(world["sf"], desk, outbox, _planner, dt.timedelta(hours=24), audit=world["audit"],
                          clock=clock)  # fmt: skip
    a = _request(desk)
    assert sweep.run().notified == 1
    assert sweep.run().queued == 0  # idempotent
    clock.now += dt.timedelta(hours=25)
    r = sweep.run()
    assert r.escalated == 1 and desk.get(T1, a.approval_id).escalated_to == VP
    assert sweep.run().escalated == 0
    clock.now += dt.timedelta(hours=48)
    r = sweep.run()
    assert r.expired == 1 and r.expiry_told == 1 and r.told == [(T1, a.approval_id)]
    assert sweep.run().queued == 0
    events = [(m.event, m.body) for m in outbox.list(T1, a.approval_id)]
    assert events == [("requested", LEAD), ("escalated", VP), ("expired", "maya")]


def test_outbox_retries_with_backoff_then_gives_up(world: dict[str, Any]) -> None:
    clock: Clock = world["clock"]
    outbox = Outbox(world["sf"], clock, max_attempts=2)
    with transaction(world["sf"]) as s:
        outbox.enqueue_in(s, T1, "k", "requested", None, [Draft("mail", "s", "b")])
        outbox.enqueue_in(s, T1, "k", "requested", None, [Draft("mail", "s", "b")])  # same key: kept once
    (item,) = outbox.claim_due()
    assert outbox.claim_due() == []  # claimed: not handed out twice
    assert outbox.failed(item.id, "refused").status == "pending"
    clock.now += dt.timedelta(minutes=5)
    (again,) = outbox.claim_due()
    assert again.attempts == 2
    assert outbox.failed(again.id, "refused").status == "failed"


def test_concurrent_edit_and_resolve_one_wins(world: dict[str, Any]) -> None:
    desk: ApprovalDesk = world["desk"]
    a = _request(desk)
    edited = {**ARGS, "budget": {"amount": "100", "currency": "EUR"}}

    def recheck_then_someone_resolves(ap: Approval, args: dict[str, Any]) -> EditCheck:
        desk.resolve_as(T1, a.approval_id, "kim", [LEAD], "approve")
        return EditCheck("allow")

    with pytest.raises(ApprovalConflict):
        desk.approve_with_edits(T1, a.approval_id, "lee", [LEAD], edited, recheck_then_someone_resolves)
    assert desk.get(T1, a.approval_id).arguments == ARGS


def test_an_edit_that_needs_no_approval_any_more_is_not_reported_as_expired(world: dict[str, Any]) -> None:
    desk: ApprovalDesk = world["desk"]
    clock: Clock = world["clock"]
    outbox = Outbox(world["sf"], clock)
    sweep = ApprovalSweep(world["sf"], desk, outbox, _planner, dt.timedelta(hours=24), clock=clock)
    a = _request(desk)
    edited = {**ARGS, "budget": {"amount": "5000", "currency": "EUR"}}
    out = desk.approve_with_edits(T1, a.approval_id, "lee", [LEAD], edited, _recheck(None))
    assert out.status == "approved" and out.required_group == LEAD  # no group needed: the original one stays
    clock.now += dt.timedelta(days=4)
    report = sweep.run()
    assert report.expired == 1 and report.expiry_told == 0 and report.told == []
