"""What each approval event tells whom, on each enabled channel of the tenant.

requested: the approvers of the required group; escalated: the next group up; expired: the requester. Text from
the request (reason, arguments) is quoted as data, never as markup: Slack control characters are escaped.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from spine.approval_desk import expiry_outcome
from spine.approval_edits import summary
from spine.models.approval_workflow import NotificationChannel
from spine.models.core import GroupMembership, User
from spine.models.governance import Approval
from spine.notifications import Draft


def _slack_escape(text: str) -> str:
    # Slack reads <...> as links/mentions: escape so a request can never ping @channel or fake a link.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _emails_of_group(s: Session, tenant_id: str, group: str) -> list[str]:
    q = (
        select(User.email)
        .join(
            GroupMembership, (GroupMembership.tenant_id == User.tenant_id) & (GroupMembership.user_id == User.user_id)
        )
        .where(User.tenant_id == tenant_id, GroupMembership.group_name == group, User.active.is_(True))
        .order_by(User.email)
    )
    return list(dict.fromkeys(s.scalars(q)))


def _email_of(s: Session, tenant_id: str, user_id: str) -> list[str]:
    user = s.get(User, (tenant_id, user_id))
    return [user.email] if user is not None and user.active else []


def link_for(base_url: str, approval_id: str) -> str:
    return f"{base_url.rstrip('/')}/approvals/{approval_id}"


def texts(a: Approval, event: str, group: str | None, link: str) -> tuple[str, str]:
    """Subject and body of one event's message (plain text)."""
    call = f"{a.server}.{a.tool}"
    args = json.dumps(a.arguments, sort_keys=True, ensure_ascii=False)[:800]
    if event == "requested":
        subject = f"[MCC] Approval needed ({a.required_group}): {call} requested by {a.requester}"
        lead = f"{a.requester} asks to run {call}. An approver of {a.required_group} must decide."
    elif event == "escalated":
        subject = f"[MCC] Escalated to {group}: approval for {call} still pending"
        lead = (f"The approval {a.approval_id} for {a.requester}'s {call} has waited since "
                f"{a.created_at:%Y-%m-%d %H:%M} UTC without a decision by {a.required_group}; "
                f"{group} may decide it.")  # fmt: skip
    else:
        subject = f"[MCC] Your approval request for {call} expired"
        lead = f"Nobody decided approval {a.approval_id} for your {call} before {a.expires_at:%Y-%m-%d %H:%M} UTC: "
        lead += expiry_outcome() + "."
    body = f"{lead}\n\nRule: {', '.join(a.rule_ids or []) or '-'} - {a.reason}\nCall: {call} {args}\n"
    if a.edits:
        body += f"Edited by the approver: {summary(a.edits)}\n"
    body += f"Expires: {a.expires_at:%Y-%m-%d %H:%M} UTC\nOpen: {link}\n"
    return subject, body


def make_planner(base_url: str):
    """The sweep's planner: one draft per enabled channel of the approval's tenant."""

    def plan(s: Session, a: Approval, event: str, group: str | None) -> list[Draft]:
        channels = s.scalars(
            select(NotificationChannel).where(
                NotificationChannel.tenant_id == a.tenant_id, NotificationChannel.enabled.is_(True)
            )
        ).all()
        if not channels:
            return []
        link = link_for(base_url, a.approval_id)
        subject, body = texts(a, event, group, link)
        recipients = _email_of(s, a.tenant_id, a.requester) if event == "expired" else (
            _emails_of_group(s, a.tenant_id, group) if group else [])  # fmt: skip
        drafts = []
        for ch in channels:
            if ch.kind == "slack":
                drafts.append(Draft(ch.name, subject, _slack_escape(body), link))
            elif recipients:
                drafts.append(Draft(ch.name, subject, body, link, recipients))
        return drafts

    return plan
