"""Approvals as the web inbox and the CLI work them: wiring of the desk, the policy re-check of edited calls, the
sweep with notifications, the inbox view, and resuming the waiting conversation after a decision.

The composition root may import the policy engine; the spine may not, so the re-check is built here and handed to
``ApprovalDesk.approve_with_edits``. Every function here is blocking unless it is ``async``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal

from spine.approval_delegations import DelegationStore
from spine.approval_desk import ApprovalDesk, EditCheck, Standing, expiry_outcome
from spine.approval_sweep import ApprovalSweep, SweepReport
from spine.models.governance import Approval
from spine.notifications import Outbox

if TYPE_CHECKING:
    from mcc.notifications.dispatch import DeliveryReport
    from mcc.wiring import App
    from policies.model import Principal

log = logging.getLogger("mcc.approvals")
APPROVER_GROUPS = ("marketing-leadership", "vp")


def desk(app: App) -> ApprovalDesk:
    """The approvals desk on the app's database, audited, knowing delegations."""
    audit = app.audit_log()
    delegations = DelegationStore(app.sessions, APPROVER_GROUPS, audit=audit)
    return ApprovalDesk(app.sessions, delegations, audit=audit)


def recheck(app: App) -> Any:
    """The policy decision on an edited call, as the guard would take it for the requester (no rate quota used)."""
    from policies.model import ToolCall

    def check(a: Approval, arguments: dict[str, Any]) -> EditCheck:
        principal = app.principal(a.requester, a.tenant_id)
        finder = app.resource_tenant(a.server)
        tenant = finder(a.tool, arguments) if finder is not None else None
        d = app.policy_engine.decide(principal, ToolCall(a.server, a.tool, arguments, tenant), commit_rate=False)
        effect: Literal["allow", "require_approval", "deny"] = d.effect  # type: ignore[assignment]
        group = (d.required_group or "marketing-leadership") if effect == "require_approval" else None
        return EditCheck(effect, group, d.message(), list(d.rule_ids), app.policy_engine.version)

    return check


def sweep(app: App, tenant_id: str | None = None, *, deliver: bool = True) -> tuple[SweepReport, DeliveryReport | None]:
    """One sweep: expire, queue notifications (requested / escalated / expired), then send what is due."""
    from mcc.notifications.dispatch import deliver_due
    from mcc.notifications.plan import make_planner

    s = app.settings
    outbox = Outbox(app.sessions)
    runner = ApprovalSweep(
        app.sessions, desk(app), outbox, make_planner(s.approvals_link_base),
        dt.timedelta(hours=s.approvals_escalate_after_hours), audit=app.audit_log(),
    )  # fmt: skip
    report = runner.run(tenant_id)
    return report, deliver_due(s, app.sessions, outbox) if deliver else None


# ------------------------------------------------------------------------------------------------------ inbox
@dataclass
class Amount:
    path: str
    amount: str
    currency: str
    usd: str | None


@dataclass
class InboxItem:
    approval: Approval
    standing: Standing
    amounts: list[Amount] = field(default_factory=list)
    expiry_outcome: str = ""

    @property
    def id(self) -> str:
        return self.approval.approval_id


def amounts_of(arguments: Any, fx_rates: dict[str, Decimal], path: str = "arguments") -> list[Amount]:
    """Every {amount, currency} object in the call, with its value in USD (None for an unknown rate)."""
    found: list[Amount] = []
    if isinstance(arguments, dict):
        if "amount" in arguments and isinstance(arguments.get("currency"), str):
            cur = arguments["currency"].upper()
            try:
                value = Decimal(str(arguments["amount"]))
            except InvalidOperation:
                value = None
            rate = fx_rates.get(cur)
            usd = f"{(value * rate).quantize(Decimal('0.01')):,}" if value is not None and rate is not None else None
            found.append(Amount(path, f"{value:,}" if value is not None else str(arguments["amount"]), cur, usd))
        for k, v in arguments.items():
            found.extend(amounts_of(v, fx_rates, f"{path}.{k}"))
    elif isinstance(arguments, list):
        for i, v in enumerate(arguments):
            found.extend(amounts_of(v, fx_rates, f"{path}.{i}"))
    return found


def inbox(app: App, principal: Principal, status: str = "pending") -> list[InboxItem]:
    """Approvals of the principal's tenant that the principal may resolve (own groups plus active delegations).
    Their own requests and other groups' approvals are not offered."""
    d = desk(app)
    authority = d.authority(principal.tenant_id, principal.user_id, principal.groups)
    items = []
    for a in d.list(principal.tenant_id, status=status):
        st = d.standing(a, principal.user_id, authority)
        if st.allowed:
            items.append(InboxItem(a, st, amounts_of(a.arguments, app.settings.fx_rates_to_usd), expiry_outcome()))
    return items


def visible(app: App, principal: Principal, approval: Approval) -> bool:
    """Who may see one approval's page and status: its requester, or anyone who may resolve it."""
    if approval.requester.casefold() == principal.user_id.casefold():
        return True
    d = desk(app)
    authority = d.authority(principal.tenant_id, principal.user_id, principal.groups)
    return d.qualifies(approval.required_group, authority.all_groups())


def status_of(a: Approval) -> dict[str, Any]:
    """The small live-status document of one approval (GET /approvals/{id}/status)."""
    return {
        "approval_id": a.approval_id, "status": a.status, "required_group": a.required_group,
        "resolved_by": a.resolved_by, "on_behalf_of": a.on_behalf_of, "note": a.note,
        "resolved_at": a.resolved_at.isoformat() if a.resolved_at else None, "expires_at": a.expires_at.isoformat(),
        "escalated_to": a.escalated_to, "edits": a.edits or [], "arguments": a.arguments,
        "expiry_outcome": expiry_outcome(),
    }  # fmt: skip


# ------------------------------------------------------------------------------------------------- decisions
def decide(
    app: App, principal: Principal, approval_id: str, decision: str, note: str | None,
    edited_arguments: dict[str, Any] | None = None,
) -> Approval:  # fmt: skip
    """Approve, reject or approve-with-edits as ``principal`` (blocking); typed spine errors on refusal."""
    d = desk(app)
    groups: Iterable[str] = principal.groups
    if edited_arguments is not None:
        return d.approve_with_edits(principal.tenant_id, approval_id, principal.user_id, groups, edited_arguments,
                                    recheck(app), note)  # fmt: skip
    verdict: Literal["approve", "reject"] = "approve" if decision == "approve" else "reject"
    return d.resolve_as(principal.tenant_id, approval_id, principal.user_id, groups, verdict, note)


async def resume_waiting(app: App, approval: Approval) -> Any:
    """Resume the requester's conversation waiting on ``approval`` (the path `mcc approvals approve` takes);
    failures are logged, the decision stands."""
    from agents.assistant import WAITING_NAMESPACE
    from agents.checkpoints import open_store
    from mcc.commands.chat import checkpoint_url, resume_after_resolution

    try:  # the waiting-thread index first: no thread waits -> no model and servers to build
        async with open_store(checkpoint_url(app.settings)) as store:
            if await store.aget((WAITING_NAMESPACE, approval.tenant_id), approval.approval_id) is None:
                return None
    except Exception:
        log.exception("could not read the waiting-thread index for approval %s", approval.approval_id)
        return None
    record = {"approval_id": approval.approval_id, "requester": approval.requester, "tenant_id": approval.tenant_id}
    try:
        return await resume_after_resolution(app, record, approval.tenant_id)
    except Exception:  # the decision is stored; the conversation can still be resumed by its user
        log.exception("could not resume the conversation waiting on approval %s", approval.approval_id)
        return None


def editable_fields(arguments: Any, path: str = "arguments") -> list[tuple[str, str, str]]:
    """(path, current value, kind) of every argument an approver may edit: amounts (lower) and dates (move)."""
    from spine.approval_edits import _is_identifier, _number, _when

    out: list[tuple[str, str, str]] = []
    if isinstance(arguments, dict):
        for k, v in arguments.items():
            out.extend(editable_fields(v, f"{path}.{k}"))
    elif isinstance(arguments, list):
        for i, v in enumerate(arguments):
            out.extend(editable_fields(v, f"{path}.{i}"))
    elif _when(arguments) is not None:
        out.append((path, str(arguments), "date" if len(str(arguments)) == 10 else "datetime"))
    elif _number(arguments) is not None and not _is_identifier(path):
        out.append((path, str(arguments), "amount"))
    return out


def edited_arguments(arguments: Any, form: dict[str, str]) -> Any:
    """The call with the values an approver changed in the edit form (field ``f:<path>``); untouched fields and
    blank ones keep their value. The type of an edited number follows the original (JSON number or text)."""
    from spine.approval_edits import set_path

    edited = arguments
    for path, current, kind in editable_fields(arguments):
        value = (form.get(f"f:{path}") or "").strip()
        if not value or value == current:
            continue
        original = _lookup(arguments, path)
        if kind == "amount" and isinstance(original, (int, float)) and not isinstance(original, bool):
            try:
                number = Decimal(value)
            except InvalidOperation:
                number = None
            if number is None:
                new: Any = value  # not a number: the diff refuses it and names the field
            else:
                new = int(number) if number == number.to_integral_value() else float(number)
        else:
            new = value
        edited = set_path(edited, path, new)
    return edited


def _lookup(arguments: Any, path: str) -> Any:
    node = arguments
    for part in path.removeprefix("arguments.").split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def has_authority(app: App, principal: Principal) -> bool:
    """True when the principal may resolve some approvals: an approver group, or an active delegation."""
    if set(principal.groups) & set(APPROVER_GROUPS):
        return True
    return bool(desk(app).authority(principal.tenant_id, principal.user_id, principal.groups).delegated)
