"""The guard: every tool call of every server passes here, in this order, and fails closed.

1. who is calling (identity) · 2. strict argument validation · 3. the policy decision (Cedar engine) ·
4. approvals (request one, or verify and consume the one presented) · 5. the handler ·
6. the response check (card numbers, SSNs) · 7. the audit row for the decision and for each executed write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic
from mcp.server.mcpserver import Context

from mcp_servers.guard.errors import first_id_argument, from_decision, from_exception, from_validation
from mcp_servers.guard.identity import PrincipalSource
from mcp_servers.guard.toolkit import ApprovalRequired, ToolDef, ToolFailure
from policies.engine import PolicyEngine
from policies.model import Decision, Principal, ToolCall
from spine.approval_errors import ApprovalError
from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.fingerprint import fingerprint

log = logging.getLogger("mcc.guard")

# (tool name, validated arguments) -> tenant id of the target resource, or None when unknown.
ResourceTenant = Callable[[str, Mapping[str, Any]], str | None]


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a handler learns about the call it serves."""

    principal: Principal
    server: str
    tool: str
    idempotency_key: str | None
    approval_id: str | None


@dataclass
class Guard:
    """The policy guard of one server. Stateless per call; everything it keeps lives in the spine database."""

    server: str
    engine: PolicyEngine
    approvals: ApprovalStore
    audit: AuditLog
    principals: PrincipalSource
    resource_tenant: ResourceTenant | None = None

    async def dispatch(self, tool: ToolDef, raw_arguments: dict[str, Any], ctx: Context) -> pydantic.BaseModel:
        """Run one call through every check; see the module docstring for the order."""
        principal = self.principals.current(ctx)
        return await self.run(principal, tool, raw_arguments)

    async def run(self, principal: Principal, tool: ToolDef, raw_arguments: dict[str, Any]) -> pydantic.BaseModel:
        """``dispatch`` for a known principal (used by ``mcc policy check`` and tests)."""
        try:
            args = tool.input_model.model_validate(raw_arguments)
        except pydantic.ValidationError as exc:
            failure = from_validation(exc, tool.input_model)
            self._audit(principal, tool.name, "invalid", None, ["input.validation"], None, {"field": failure.field})
            raise failure from None
        call_args = args.business_arguments()
        fp = fingerprint(self.server, tool.name, call_args, principal.user_id)
        decision = self.decide(principal, tool.name, call_args)
        approval_id: str | None = None

        if decision.effect == "require_approval":
            approval_id = args.control("approval_id")
            if approval_id is None:
                return self._request_approval(principal, tool, call_args, fp, decision)
            decision = self._lift_with_approval(principal, tool, call_args, approval_id)
        if decision.effect != "allow":
            self._audit(
                principal, tool.name, "deny", fp, decision.rule_ids, approval_id, {"message": decision.message()}
            )
            raise from_decision(decision, call_args, self._foreign_argument(principal, call_args))

        if decision.redacted_arguments is not None:
            args = tool.input_model.model_validate({**decision.redacted_arguments, **args.control_arguments()})
        self._audit(principal, tool.name, "allow", fp, decision.rule_ids, approval_id, _allow_note(decision))

        if approval_id is not None:
            # Consumed before the side effect: a crash after this point can never replay the approved call.
            try:
                await asyncio.to_thread(
                    self.approvals.consume, principal.tenant_id, approval_id, self.server, tool.name, call_args,
                    principal.user_id,
                )  # fmt: skip
            except ApprovalError as exc:
                self._audit(principal, tool.name, "deny", fp, ["approval.invalid"], approval_id, {"error": str(exc)})
                raise ToolFailure(exc.message, field="approval_id", fix=exc.fix, code="approval_invalid") from None

        key = args.control("idempotency_key") or (fp if "idempotency_key" in args.control_fields else None)
        call = CallContext(principal, self.server, tool.name, key, approval_id)
        try:
            result = await tool.handler(call, args)
        except Exception as exc:
            failure = from_exception(exc, tool.name, call_args)
            self._audit(principal, tool.name, "failed", fp, [f"error.{failure.audit_code}"], approval_id,
                        {"field": failure.field})  # fmt: skip
            raise failure from None

        checked = self.engine.check_response(
            ToolCall(self.server, tool.name, call_args), result.model_dump(mode="json")
        )
        if checked.effect != "allow":
            self._audit(principal, tool.name, "blocked", fp, checked.rule_ids, approval_id, {})
            raise ToolFailure(checked.message(), code="response_blocked", fix="the data cannot be shown here")
        if not tool.read_only:
            self._audit(principal, tool.name, "executed", fp, decision.rule_ids, approval_id, {})
        return result

    def decide(self, principal: Principal, tool: str, call_args: Mapping[str, Any], **kw: Any) -> Decision:
        """The policy decision for a call, with the target's tenant when the server can tell it."""
        tenant = self.resource_tenant(tool, call_args) if self.resource_tenant else None
        return self.engine.decide(principal, ToolCall(self.server, tool, call_args, tenant), **kw)

    def _foreign_argument(self, principal: Principal, call_args: Mapping[str, Any]) -> str | None:
        """The argument holding another tenant's id, for a not_found that names the same field as an unknown id's."""
        finder = getattr(self.resource_tenant, "foreign_argument", None)
        found = finder(call_args, principal.tenant_id) if finder is not None else None
        return found or first_id_argument(call_args)

    def _request_approval(
        self, principal: Principal, tool: ToolDef, call_args: dict[str, Any], fp: str, decision: Decision
    ) -> ApprovalRequired:
        group = decision.required_group or "marketing-leadership"
        try:
            approval = self.approvals.request(
                principal.tenant_id, self.server, tool.name, call_args, principal.user_id, group,
                decision.message(), decision.rule_ids,
            )  # fmt: skip
        except ApprovalError as exc:  # e.g. this exact call was rejected before: don't ask again
            self._audit(principal, tool.name, "deny", fp, ["approval.previously_rejected"], None, {})
            raise ToolFailure(exc.message, code="approval_rejected", fix=exc.fix) from None
        self._audit(principal, tool.name, "require_approval", fp, decision.rule_ids, approval.approval_id, {})
        return ApprovalRequired(
            approval_id=approval.approval_id,
            required_group=approval.required_group,
            expires_at=approval.expires_at,
            reason=decision.message(),
            rule_ids=list(decision.rule_ids),
        )

    def _lift_with_approval(
        self, principal: Principal, tool: ToolDef, call_args: dict[str, Any], approval_id: str
    ) -> Decision:
        try:
            approval = self.approvals.get(principal.tenant_id, approval_id)
        except ApprovalError as exc:
            raise ToolFailure(exc.message, field="approval_id", fix=exc.fix, code="approval_invalid") from None
        if approval.status != "approved":
            raise ToolFailure(
                f"approval {approval_id} is {approval.status}, not approved", field="approval_id",
                code="approval_invalid", fix="wait until an approver approves it, or ask for a new one",
            )  # fmt: skip
        return self.decide(principal, tool.name, call_args, approved_group=approval.required_group)

    def _audit(
        self, principal: Principal, tool: str, decision: str, fp: str | None, rule_ids: Any, approval_id: str | None,
        detail: dict[str, Any],
    ) -> None:  # fmt: skip
        self.audit.append(
            tenant_id=principal.tenant_id, actor=principal.user_id, server=self.server, tool=tool, decision=decision,
            fingerprint=fp, rule_ids=list(rule_ids), approval_id=approval_id, detail=detail,
        )  # fmt: skip


def _allow_note(decision: Decision) -> dict[str, Any]:
    note: dict[str, Any] = {}
    if decision.redactions:
        note["redacted"] = [f"{h.kind}@{h.path}" for h in decision.redactions]
    would = decision.would_have
    if would is not None and would.effect != "allow":
        # LOG_ONLY rollout: the call ran, and the audit says what enforcement would have done and why.
        note["log_only"] = {"would_have": would.effect, "rule_ids": list(would.rule_ids), "message": would.message()}
    return note
