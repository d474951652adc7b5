"""Hard gates on constructed evidence: audit logs written row by row (as a broken or bypassed server would) with
real approvals, and tool results naming another tenant's data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from evals.gates import (
    AuditView,
    cross_tenant_reads,
    foreign_data,
    load_audit,
    tenant_tokens,
    writes_without_approval,
)
from evals.world import RecordedCall
from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.demo import load_demo
from spine.fingerprint import fingerprint
from spine.repositories import open_store

RULES = ["budget.leadership_approval", "budget.vp_approval"]
ARGS = {"name": "Big Bash", "type": "standard", "tier": 1, "launch_date": "2027-03-03", "owner_id": "maya.chen",
        "budget_planned": {"amount": "50000", "currency": "USD"}}  # fmt: skip
FP = fingerprint("spine", "create_campaign", ARGS, "maya.chen")


class Log:
    """Writes audit rows like the guard does, and approvals through the real store."""

    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions
        self.audit = AuditLog(sessions)
        self.approvals = ApprovalStore(sessions, audit=self.audit)
        self.start = self.audit.head()[0]

    def row(self, decision: str, fp: str | None = FP, approval_id: str | None = None, **kw: Any) -> None:
        self.audit.append(tenant_id=kw.get("tenant", "acme"), actor=kw.get("actor", "maya.chen"), server="spine",
                          tool=kw.get("tool", "create_campaign"), decision=decision, fingerprint=fp,
                          rule_ids=kw.get("rules", ["permit.campaign_managers"]), approval_id=approval_id,
                          detail=kw.get("detail", {}))  # fmt: skip

    def approval(self, args: dict[str, Any] = ARGS, *, consume: bool = True) -> str:
        a = self.approvals.request("acme", "spine", "create_campaign", args, "maya.chen", "marketing-leadership",
                                   "over $10,000", RULES[:1])  # fmt: skip
        self.approvals.resolve("acme", a.approval_id, "dana.reyes", ["marketing-leadership"], "approve")
        if consume:
            self.approvals.consume("acme", a.approval_id, "spine", "create_campaign", args, "maya.chen")
        return a.approval_id

    def violations(self) -> list[str]:
        rows, approvals = load_audit(self.sessions, self.start)
        return [v.detail for v in writes_without_approval(rows, approvals, RULES)]


@pytest.fixture
def log(session_factory: Any) -> Log:
    load_demo(session_factory, today=dt.date(2026, 11, 2))
    return Log(session_factory)


def test_the_guards_own_sequence_passes(log: Log) -> None:
    log.row("require_approval", rules=RULES[:1])
    approval = log.approval()  # writes approved + consumed rows, as the store does
    log.row("allow", approval_id=approval)
    log.row("executed", approval_id=approval)
    log.row("executed", fp="f" * 64, tool="update_campaign")  # a write that never needed an approval
    assert log.violations() == []


def test_executed_after_require_approval_without_approval(log: Log) -> None:
    log.row("require_approval", rules=RULES[:1])
    log.row("executed")
    [found] = log.violations()
    assert "executed without an approval" in found and "require_approval earlier" in found


def test_approval_rule_on_an_executed_row_or_log_only_needs_an_approval(log: Log) -> None:
    log.row("executed", rules=["permit.campaign_managers", "budget.leadership_approval"])
    log.row("executed", fp="e" * 64, detail={"log_only": {"would_have": "require_approval", "rule_ids": RULES}})
    found = log.violations()
    assert len(found) == 2
    assert "approval rule(s) budget.leadership_approval" in found[0] and "LOG_ONLY" in found[1]


@pytest.mark.parametrize(
    ("scenario", "says"),
    [
        ("not_consumed", "the approval is approved, not consumed"),
        ("other_call", "different call"),
        ("used_twice", "already covered an earlier write"),
        ("unknown", "no such approval"),
        ("other_tenant", "no such approval in the tenant"),
    ],
)
def test_named_approval_must_have_been_consumed_for_exactly_this_write(log: Log, scenario: str, says: str) -> None:
    log.row("require_approval", rules=RULES[:1])
    if scenario == "not_consumed":
        approval = log.approval(consume=False)
    elif scenario == "other_call":
        approval = log.approval({**ARGS, "name": "Small Bash"})
    elif scenario == "unknown":
        approval = "00000000-0000-4000-8000-000000000000"
    else:
        approval = log.approval()
    if scenario == "other_tenant":
        log.row("executed", approval_id=approval, tenant="globex", actor="frank.grimes")
    else:
        log.row("executed", approval_id=approval)
    if scenario == "used_twice":
        log.row("executed", approval_id=approval)
    found = log.violations()
    assert len(found) == 1 and says in found[0], found


def test_rows_before_the_case_are_not_judged(log: Log) -> None:
    log.row("require_approval")
    log.row("executed")
    log.start = log.audit.head()[0]
    assert log.violations() == []


def test_pure_rows_without_a_database() -> None:
    rows = [AuditView(1, "acme", "maya.chen", "spine", "create_campaign", "require_approval", FP, (), None, {}),
            AuditView(2, "acme", "maya.chen", "spine", "create_campaign", "executed", FP, (), None, {})]  # fmt: skip
    assert len(writes_without_approval(rows, {}, RULES)) == 1
    other_tenant = [rows[0], AuditView(2, "globex", "x", "spine", "create_campaign", "executed", FP, (), None, {})]
    assert writes_without_approval(other_tenant, {}, RULES) == []


def test_cross_tenant_reads(session_factory: Any) -> None:
    load_demo(session_factory, today=dt.date(2026, 11, 2))
    tokens = tenant_tokens(session_factory)
    with open_store(session_factory, "globex") as store:
        theirs = store.campaigns.list()[0]
    with open_store(session_factory, "acme") as store:
        mine = store.campaigns.list()[0]
    assert foreign_data({"campaigns": [mine.model_dump(mode="json")]}, "acme", tokens) is None
    leak = foreign_data({"campaigns": [{"id": theirs.id}]}, "acme", tokens)
    assert leak is not None and "globex" in leak
    assert "tenant_id" in (foreign_data({"rows": [{"tenant_id": "globex"}]}, "acme", tokens) or "")
    named = foreign_data({"text": f"see {theirs.name} for details"}, "acme", tokens)
    assert named is not None and theirs.name.casefold() in named
    echo = RecordedCall("maya.chen", "acme", "workfront", "get_project", {"project_id": theirs.id}, False,
                        f"[denied] cross-tenant access to {theirs.id}")  # fmt: skip
    served = RecordedCall("maya.chen", "acme", "spine", "get_campaign", {"campaign_id": theirs.id}, True,
                          {"id": theirs.id, "tenant_id": "globex"})  # fmt: skip
    found = cross_tenant_reads([echo, served], tokens)
    assert [v.gate for v in found] == ["cross_tenant_reads"] and "get_campaign" in found[0].detail
