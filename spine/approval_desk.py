"""The approver's side of approvals: resolve with delegated authority, approve with edits, and the inbox rule.

``ApprovalDesk`` is an ``ApprovalStore`` (same table, same conditional updates) that also knows delegations. The
policy re-check of an edited call is the caller's (``recheck``): the composition root owns the policy engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from spine.approval_delegations import Authority, DelegationStore
from spine.approval_edits import ApprovalEditRefused, diff_arguments
from spine.approval_errors import ApprovalConflict, ApprovalExpired, ApprovalNotPending, ApproverNotInGroup
from spine.approvals import ApprovalStore, SelfApprovalForbidden, _same_person
from spine.db import transaction
from spine.fingerprint import canonicalize, fingerprint
from spine.models.governance import Approval


@dataclass(frozen=True, slots=True)
class EditCheck:
    """The policy decision on the edited call: allow (no approval needed any more), require_approval or deny."""

    effect: Literal["allow", "require_approval", "deny"]
    required_group: str | None = None
    reason: str = ""
    rule_ids: list[str] = field(default_factory=list)
    policy_version: str | None = None


Recheck = Callable[[Approval, dict[str, Any]], EditCheck]


@dataclass(frozen=True, slots=True)
class Standing:
    """May this user resolve this approval, and on whose behalf (None: their own groups)."""

    allowed: bool
    on_behalf_of: str | None = None
    why_not: str | None = None


class ApprovalDesk(ApprovalStore):
    """Approvals as approvers work them: delegation-aware resolve, approve with edits."""

    def __init__(self, session_factory: sessionmaker[Session], delegations: DelegationStore, **kw: Any) -> None:
        super().__init__(session_factory, **kw)
        self.delegations = delegations

    def standing(self, a: Approval, approver: str, authority: Authority) -> Standing:
        """Whether ``approver`` (with ``authority``) may resolve ``a`` now: never the requester, nor anyone acting
        for the requester; own groups first, then an active delegator's."""
        if _same_person(a.requester, approver):
            return Standing(False, why_not="you requested it")
        if self.qualifies(a.required_group, authority.own):
            return Standing(True)
        for delegator, groups in sorted(authority.delegated.items()):
            if not _same_person(delegator, a.requester) and self.qualifies(a.required_group, groups):
                return Standing(True, on_behalf_of=delegator)
        return Standing(False, why_not=f"you are not in {a.required_group!r}")

    def authority(self, tenant_id: str, approver: str, own_groups: Iterable[str]) -> Authority:
        return self.delegations.authority(tenant_id, approver, own_groups)

    def resolve_as(
        self,
        tenant_id: str,
        approval_id: str,
        approver: str,
        own_groups: Iterable[str],
        decision: Literal["approve", "reject"],
        note: str | None = None,
    ) -> Approval:
        """``resolve`` with the approver's own groups, or an active delegator's authority when those fall short."""
        a = self.get(tenant_id, approval_id)
        authority = self.authority(tenant_id, approver, own_groups)
        st = self.standing(a, approver, authority)
        groups = authority.delegated[st.on_behalf_of] if st.on_behalf_of else authority.own
        return self.resolve(tenant_id, approval_id, approver, groups, decision, note, on_behalf_of=st.on_behalf_of)

    def approve_with_edits(
        self,
        tenant_id: str,
        approval_id: str,
        approver: str,
        own_groups: Iterable[str],
        edited_arguments: Any,
        recheck: Recheck,
        note: str | None = None,
    ) -> Approval:
        """Approve the call as edited by the approver (amounts lowered, dates moved). The edited call is checked by
        the policy again: it must still be allowed, and the approver must qualify for the group it needs. The
        approval then holds the edited call (what the requester re-sends), the original and the diff."""
        a = self.get(tenant_id, approval_id)
        authority = self.authority(tenant_id, approver, own_groups)
        st = self.standing(a, approver, authority)
        groups = authority.delegated[st.on_behalf_of] if st.on_behalf_of else authority.own
        if _same_person(a.requester, approver):
            raise SelfApprovalForbidden(
                f"{approver} requested approval {approval_id} and cannot resolve it",
                f"ask another member of {a.required_group!r}", approval_id=approval_id,
            )  # fmt: skip
        if not st.allowed:
            raise ApproverNotInGroup(f"{approver} may not resolve approval {approval_id}: {st.why_not}",
                                     f"ask a member of {a.required_group!r}", approval_id=approval_id)  # fmt: skip
        if a.status != "pending":
            raise ApprovalNotPending(f"approval {approval_id} is {a.status}, not pending", "nothing to resolve",
                                     approval_id=approval_id)  # fmt: skip
        canonical = canonicalize(edited_arguments, "arguments")
        edits = [e.model_dump(mode="json") for e in diff_arguments(a.arguments, canonical)]
        if not edits:
            raise ApprovalEditRefused("the edited call is the requested call", "approve it as it is, or change a value",
                                      field="arguments")  # fmt: skip
        check = recheck(a, canonical)
        if check.effect == "deny":
            raise ApprovalEditRefused(f"the policy denies the edited call: {check.reason}",
                                      "edit it differently, or reject the request", field="arguments")  # fmt: skip
        needs = check.required_group if check.effect == "require_approval" else None
        if needs is not None and not self.qualifies(needs, groups):
            raise ApproverNotInGroup(f"the edited call needs approval by {needs!r}, which {approver} cannot give",
                                     f"ask a member of {needs!r}, or edit the call less", field="arguments",
                                     approval_id=approval_id)  # fmt: skip
        return self._store_edit(a, approver, canonical, edits, needs, check, note, st.on_behalf_of)

    def _store_edit(
        self, seen: Approval, approver: str, canonical: Any, edits: list[dict[str, Any]], needs: str | None,
        check: EditCheck, note: str | None, on_behalf_of: str | None,
    ) -> Approval:  # fmt: skip
        now = self._clock()
        expired = False
        with transaction(self._sf) as s:
            a = self._load(s, seen.tenant_id, seen.approval_id)
            self._check_intact(a)
            if a.version != seen.version or a.status != "pending":
                raise ApprovalConflict(f"approval {a.approval_id} changed while you edited it",
                                       "reload it and decide again", approval_id=a.approval_id)  # fmt: skip
            if a.expires_at <= now:
                expired = self._expire(s, a)
            else:
                values: dict[str, Any] = {
                    "arguments": canonical, "original_arguments": a.arguments, "edits": edits,
                    "fingerprint": fingerprint(a.server, a.tool, canonical, a.requester),
                    "resolved_by": approver, "resolved_at": now, "note": note, "on_behalf_of": on_behalf_of,
                }  # fmt: skip
                if needs is not None:
                    values.update(required_group=needs, rule_ids=list(check.rule_ids), reason=check.reason or a.reason)
                if check.policy_version is not None:
                    values["policy_version"] = check.policy_version
                if not self._transition(s, a, "approved", now, **values):
                    raise ApprovalConflict(f"approval {a.approval_id} was resolved concurrently by someone else",
                                           "re-read it to see the outcome", approval_id=a.approval_id)  # fmt: skip
                detail: dict[str, Any] = {"required_group": a.required_group, "edits": edits,
                                          "edited_call_needs": needs or "no approval"}  # fmt: skip
                if on_behalf_of:
                    detail["on_behalf_of"] = on_behalf_of
                self._audit_row(s, a, approver, "approved_with_edits", detail)
        if expired:
            raise ApprovalExpired(f"approval {seen.approval_id} expired at {seen.expires_at.isoformat()}",
                                  "the requester must send the call again", approval_id=seen.approval_id)  # fmt: skip
        return a


def expiry_outcome() -> str:
    """What happens when an approval expires (shown in the inbox and told to the requester)."""
    return ("the call does not run; the waiting conversation is told it expired and the requester must send the "
            "request again to get a new approval")  # fmt: skip
