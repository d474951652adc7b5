"""The guard: every tool call of every server passes here, in this order, and fails closed.

1. who is calling (identity) · 2. strict argument validation · 3. the policy decision (Cedar engine) ·
4. approvals (request one, or verify and reserve the one presented) · 5. the handler ·
6. the response check · 7. the audit row for the decision and for each executed write.

Personal data: the policy masks emails and phone numbers in arguments where the tool allows it (before the call
is approved, stored or sent) and refuses card numbers and SSNs. Card numbers and SSNs found in an answer (data
stored before, or typed into another system) are masked, never a reason to fail the call: a read still returns
everything else, and a write that completed is never reported as failed. Each mask leaves a ``redacted`` audit
row; an answer that cannot be masked is withheld (``blocked``).

Approval rules: an approval is reserved for the call before the handler runs (of two concurrent uses exactly
one runs), consumed with the handler's result once the side effect committed, and released when the handler
failed. Re-sending the identical approved call after it ran returns the stored result (an idempotent replay,
audited as ``replayed``), so a resumed conversation or a client whose reply was lost converges; a reservation
left by a crashed process lapses (``ApprovalStore`` lease) and the identical call then re-claims it, converging
through the handlers' idempotency keys. An approval records the policy version it was asked under: when the
policies changed, the call is re-checked and needs a new approval if the new rules ask for another group.

Steps that touch the database (identity, tenancy, rate counters, approvals, audit) run in a worker thread, never on
the event loop: a slow query or a held lock stalls only its own call.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic
from mcp.server.mcpserver import Context

from mcp_servers.guard.blocking import in_thread
from mcp_servers.guard.errors import first_id_argument, from_decision, from_exception, from_validation
from mcp_servers.guard.identity import PrincipalSource
from mcp_servers.guard.toolkit import ApprovalRequired, ToolDef, ToolFailure, ToolInput
from policies.engine import PolicyEngine
from policies.model import Decision, Principal, ResponseCheck, ToolCall
from spine.approval_errors import ApprovalError, ApprovalInUse
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


@dataclass(frozen=True, slots=True)
class _Admitted:
    """A call that passed steps 1-4: what the handler and the later audit rows need."""

    tool: ToolDef
    args: ToolInput
    call_args: dict[str, Any]
    fp: str
    decision: Decision
    call: CallContext
    reservation: int | None  # the approval's reserved version, released if the handler fails


@dataclass
class Guard:
    """The policy guard of one server. Approvals, audit rows and (by default) rate-limit counters live in the spine
    database; the one thing kept in process is the resource-tenant cache of ``resource_tenant`` (owners found for
    external ids, which never change tenant), so replicas share every decision input but that cache."""

    server: str
    engine: PolicyEngine
    approvals: ApprovalStore
    audit: AuditLog
    principals: PrincipalSource
    resource_tenant: ResourceTenant | None = None

    async def dispatch(self, tool: ToolDef, raw_arguments: dict[str, Any], ctx: Context) -> pydantic.BaseModel:
        """Run one call through every check; see the module docstring for the order."""
        # Who is calling may need the directory (HTTP tokens): resolved in a worker thread too.
        principal = await in_thread(self.principals.current, ctx)
        return await self.run(principal, tool, raw_arguments)

    async def run(self, principal: Principal, tool: ToolDef, raw_arguments: dict[str, Any]) -> pydantic.BaseModel:
        """``dispatch`` for a known principal (used by ``mcc policy check`` and tests)."""
        # Every step that reads or writes the database runs in a worker thread; a plain-def handler runs there too,
        # in the same thread hop, and an async handler runs on the loop between the hops.
        if not inspect.iscoroutinefunction(tool.handler):
            return await in_thread(self._run_blocking, principal, tool, raw_arguments)
        admitted = await in_thread(self._admit, principal, tool, raw_arguments)
        if not isinstance(admitted, _Admitted):  # waits for an approval, or the replay of one that already ran
            return admitted
        try:
            result = await tool.handler(admitted.call, admitted.args)
        except Exception as exc:
            raise await in_thread(self._failed, admitted, exc) from None
        if tool.read_only and admitted.call.approval_id is None:
            checked = self._check_response(admitted, result)
            if not checked.rule_id:
                return result  # nothing left to record: no thread hop
        return await in_thread(self._settle, admitted, result)

    def _run_blocking(self, principal: Principal, tool: ToolDef, raw_arguments: dict[str, Any]) -> pydantic.BaseModel:
        admitted = self._admit(principal, tool, raw_arguments)
        if not isinstance(admitted, _Admitted):
            return admitted
        try:
            result = tool.handler(admitted.call, admitted.args)
        except Exception as exc:
            raise self._failed(admitted, exc) from None
        return self._settle(admitted, result)

    def _admit(
        self, principal: Principal, tool: ToolDef, raw_arguments: dict[str, Any]
    ) -> _Admitted | pydantic.BaseModel:
        """Steps 2-4 and the allow row: the call may run, waits for an approval, or is the replay of one that ran."""
        try:
            args = tool.input_model.model_validate(raw_arguments)
        except pydantic.ValidationError as exc:
            failure = from_validation(exc, tool.input_model)
            self._audit(principal, tool.name, "invalid", None, ["input.validation"], None, {"field": failure.field})
            raise failure from None
        call_args = args.business_arguments()
        fp = fingerprint(self.server, tool.name, call_args, principal.user_id)
        presented = args.control("approval_id")
        if presented is not None and (replay := self._replay(principal, tool, call_args, fp, presented)) is not None:
            return replay
        decision = self.decide(principal, tool.name, call_args)
        if decision.redacted_arguments is not None:
            # Masked before anything is approved, stored or sent: from here on the call is the masked one.
            args = self._masked(principal, tool, args, decision, fp)
            call_args = args.business_arguments()
            fp = fingerprint(self.server, tool.name, call_args, principal.user_id)
        approval_id: str | None = None

        # A tool that cannot carry approval_id could never be re-sent approved: its hold is a deny (fail closed).
        if decision.effect == "require_approval" and "approval_id" in args.control_fields:
            approval_id = presented
            if approval_id is None:
                return self._request_approval(principal, tool, call_args, fp, decision)
            try:
                lifted = self._lift_with_approval(principal, tool, call_args, fp, approval_id)
            except ToolFailure:
                # The identical call may have completed since the replay check above (a concurrent re-send).
                if (replay := self._replay(principal, tool, call_args, fp, approval_id)) is not None:
                    return replay
                raise
            if isinstance(lifted, ApprovalRequired):
                return lifted
            decision = lifted
        if decision.effect != "allow":
            self._audit(
                principal, tool.name, "deny", fp, decision.rule_ids, approval_id, {"message": decision.message()}
            )
            raise from_decision(decision, call_args, self._foreign_argument(principal, call_args))

        self._audit(principal, tool.name, "allow", fp, decision.rule_ids, approval_id, _allow_note(decision))

        reservation: int | None = None
        if approval_id is not None:
            # Reserved, not consumed: a failed call releases it, a committed one stores its result for replays.
            try:
                reserved = self.approvals.reserve(
                    principal.tenant_id, approval_id, self.server, tool.name, call_args, principal.user_id
                )
            except ApprovalError as exc:
                if (replay := self._replay(principal, tool, call_args, fp, approval_id)) is not None:
                    return replay  # the identical call completed meanwhile: its stored result
                self._audit(principal, tool.name, "deny", fp, ["approval.invalid"], approval_id, {"error": str(exc)})
                code = "approval_in_use" if isinstance(exc, ApprovalInUse) else "approval_invalid"
                raise ToolFailure(exc.message, field="approval_id", fix=exc.fix, code=code) from None
            reservation = reserved.version

        key = args.control("idempotency_key") or (fp if "idempotency_key" in args.control_fields else None)
        call = CallContext(principal, self.server, tool.name, key, approval_id)
        return _Admitted(tool, args, call_args, fp, decision, call, reservation)

    def _failed(self, a: _Admitted, exc: Exception) -> ToolFailure:
        """Step 5 failed: nothing committed, so the approval is usable again; audit it and return what the caller
        sees."""
        failure = from_exception(exc, a.tool.name, a.call_args)
        principal, approval_id = a.call.principal, a.call.approval_id
        if approval_id is not None and a.reservation is not None:
            self.approvals.release(principal.tenant_id, approval_id, a.reservation, principal.user_id,
                                   f"the call failed: {failure.code}")  # fmt: skip
        self._audit(principal, a.tool.name, "failed", a.fp, [f"error.{failure.audit_code}"], approval_id,
                    {"field": failure.field})  # fmt: skip
        return failure

    def _check_response(self, a: _Admitted, result: pydantic.BaseModel) -> ResponseCheck:
        """Step 6 (pure: no database)."""
        return self.engine.check_response(
            ToolCall(self.server, a.tool.name, a.call_args), result.model_dump(mode="json")
        )

    def _settle(self, a: _Admitted, result: pydantic.BaseModel) -> pydantic.BaseModel:
        """Step 7: the approval consumed with its result, the executed row, then the answer (masked if need be)."""
        principal, approval_id = a.call.principal, a.call.approval_id
        if approval_id is not None:
            try:
                self.approvals.complete(
                    principal.tenant_id, approval_id, principal.user_id, result.model_dump(mode="json")
                )
            except Exception:  # the side effect stands; the reservation lapses and a re-send converges by key
                log.exception("could not record the result of approval %s", approval_id)
        if not a.tool.read_only:  # written before the answer check: a completed write is never reported failed
            self._audit(principal, a.tool.name, "executed", a.fp, a.decision.rule_ids, approval_id, {})
        checked = self._check_response(a, result)
        if not checked.rule_id:
            return result
        return self._shown(principal, a.tool, result, checked, a.fp, approval_id)

    def _masked(self, principal: Principal, tool: ToolDef, args: ToolInput, decision: Decision, fp: str) -> ToolInput:
        """The arguments with the decision's personal data masked; a value that cannot hold the mask is refused."""
        try:
            return tool.input_model.model_validate({**(decision.redacted_arguments or {}), **args.control_arguments()})
        except pydantic.ValidationError as exc:
            where = sorted({".".join(map(str, e["loc"])) for e in exc.errors()})
            self._audit(principal, tool.name, "deny", fp, ["pii.unmaskable"], None, {"fields": where})
            fix = "remove the personal data (emails, phone numbers) from the arguments"
            message = f"personal data in {', '.join(where)} cannot be masked in this field"
            raise ToolFailure(message, field=where[0] if where else None, code="denied", fix=fix) from None

    def _shown(
        self, principal: Principal, tool: ToolDef, result: pydantic.BaseModel, checked: ResponseCheck, fp: str,
        approval_id: str | None,
    ) -> pydantic.BaseModel:  # fmt: skip
        """The answer with stored personal data masked (and an audit row saying so), or withheld if it cannot be."""
        where = [f"{h.kind}@{h.path}" for h in checked.hits]
        if checked.mode == "log_only":
            note = {"log_only": {"would_have": "redacted", "rule_ids": [checked.rule_id], "redacted": where}}
            self._audit(principal, tool.name, "allow", fp, [checked.rule_id], approval_id, note)
            return result
        shown: pydantic.BaseModel | None = None
        if not checked.withheld:
            try:
                shown = type(result).model_validate(checked.value)
            except pydantic.ValidationError:
                shown = None  # a mask that breaks the answer's own types: show nothing rather than the value
        if shown is not None:
            self._audit(principal, tool.name, "redacted", fp, [checked.rule_id], approval_id, {"redacted": where})
            return shown
        self._audit(principal, tool.name, "blocked", fp, [checked.rule_id], approval_id, {"redacted": where})
        done = "" if tool.read_only else "the call completed and was recorded, but "
        raise ToolFailure(
            f"{done}its answer holds personal data that cannot be masked, so it is withheld", code="response_withheld",
            fix="read the object with another tool, or remove the personal data at its source",
        )  # fmt: skip

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
                decision.message(), decision.rule_ids, policy_version=self.engine.version,
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

    def _replay(
        self, principal: Principal, tool: ToolDef, call_args: dict[str, Any], fp: str, approval_id: str
    ) -> pydantic.BaseModel | None:
        """The stored result of this exact approved call when it already ran; None when there is none."""
        try:
            done = self.approvals.replayable(
                principal.tenant_id, approval_id, self.server, tool.name, call_args, principal.user_id
            )
        except ApprovalError:
            return None  # e.g. tampered: the normal path reports it
        if done is None:
            return None
        result = tool.output_model.model_validate(done.result)
        self._audit(principal, tool.name, "replayed", fp, ["approval.replay"], approval_id, {})
        checked = self.engine.check_response(ToolCall(self.server, tool.name, call_args), done.result)
        if not checked.rule_id:
            return result
        return self._shown(principal, tool, result, checked, fp, approval_id)  # masked as every answer is

    def _lift_with_approval(
        self, principal: Principal, tool: ToolDef, call_args: dict[str, Any], fp: str, approval_id: str
    ) -> Decision | ApprovalRequired:
        try:
            approval = self.approvals.get(principal.tenant_id, approval_id)
            self.approvals.check_usable(approval)
        except ApprovalError as exc:
            raise ToolFailure(exc.message, field="approval_id", fix=exc.fix, code="approval_invalid") from None
        if approval.policy_version != self.engine.version:
            # The rules changed since the approval was asked for: it only stands if they still ask for its group.
            fresh = self.decide(principal, tool.name, call_args, commit_rate=False)
            if fresh.effect == "require_approval" and not self.approvals.qualifies(
                fresh.required_group or "marketing-leadership", {approval.required_group}
            ):
                return self._request_approval(principal, tool, call_args, fp, fresh)
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
