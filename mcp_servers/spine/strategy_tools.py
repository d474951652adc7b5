"""Spine server tools for strategies: draft, submit, approve or reject, list and read versions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from mcp_servers.guard.guard import CallContext
from mcp_servers.guard.toolkit import CreateInput, MultilineText, ToolDef, ToolInput, Uuid
from mcp_servers.spine.common import tenant_store
from spine.schemas import StrategyContent, StrategyOut


class StrategyArgs(ToolInput):
    strategy_id: Uuid = Field(description="Strategy id (lowercase UUID), from draft_strategy or list_strategies.")


class DraftStrategyArgs(CreateInput):
    campaign_id: Uuid = Field(description="Canonical campaign id (lowercase UUID) of your tenant.")
    type: Literal["messaging", "audience", "channel", "creative_brief", "full"]
    title: str = Field(min_length=3, max_length=200)
    content: StrategyContent = Field(
        description="{'sections': [{'heading': 1-300 chars, 'body': markdown, 'subsections': [...]}]}"
    )
    generated_by: Literal["human", "agent"] = "agent"


class RejectStrategyArgs(StrategyArgs):
    reason: MultilineText = Field(min_length=3, max_length=2000, description="Why, and what to change (3-2000 chars).")


class ListStrategiesArgs(ToolInput):
    campaign_id: Uuid | None = Field(default=None, description="Only this campaign's (lowercase UUID).")
    status: Literal["draft", "pending_review", "approved", "rejected", "superseded"] | None = None


class StrategyList(BaseModel):
    strategies: list[StrategyOut]


def strategy_tools(sessions: sessionmaker[Session]) -> list[ToolDef]:
    """The spine's strategy tools over ``sessions``; tenant scoping comes from the caller's principal."""

    def store(call: CallContext) -> Any:
        return tenant_store(sessions, call)

    def draft_strategy(call: CallContext, a: DraftStrategyArgs) -> StrategyOut:
        """Create a strategy draft (status draft, version 1) for a campaign (campaign_id: lowercase UUID).

        type messaging | audience | channel | creative_brief | full; title 3-200 chars; content {'sections':
        [{'heading': 1-300 chars, 'body': markdown, 'subsections': [...]}]}; generated_by agent (default) or
        human. Answer: the strategy, whose id (lowercase UUID) submit_strategy takes. Side effects: writes
        the draft and a strategy.created event; campaign-managers and marketing-leadership may call it.
        Retrying with the same idempotency_key returns the first draft (nothing new is written); the same key
        with other arguments is error idempotency_key_reused. Errors: not_found / tenant_isolation (the
        campaign is not in your tenant).
        """
        data = a.business_arguments(mode="python", exclude_none=False)
        with store(call) as s:
            return s.strategies.create(data, actor=call.principal.user_id, client_request_key=call.idempotency_key)

    def submit_strategy(call: CallContext, a: StrategyArgs) -> StrategyOut:
        """Submit a draft strategy for review: status draft -> pending_review (strategy_id: lowercase UUID);
        answer: the strategy.

        Side effects: sets status, submitted_at and submitted_by (you) and writes a strategy.submitted
        event; campaign-managers and marketing-leadership may call it. Only a draft can be submitted: any
        other status (including a second submit) is error invalid_transition, which names the allowed moves.
        Then a member of marketing-leadership approves (approve_strategy) or rejects (reject_strategy) it.
        """
        with store(call) as s:
            return s.strategies.submit(a.strategy_id, actor=call.principal.user_id)

    def approve_strategy(call: CallContext, a: StrategyArgs) -> StrategyOut:
        """Approve a strategy in pending_review: status -> approved (strategy_id: lowercase UUID); answer: the
        strategy.

        Only marketing-leadership (or vp) may call it, and never whoever drafted, edited or submitted this
        strategy (error four_eyes: ask another approver). Side effects: sets status, approved_at and
        approved_by (you); an earlier approved version of the same lineage (previous_version_id chain)
        becomes superseded; writes a strategy.approved event. Any other status is error invalid_transition:
        a draft must be submitted first; approved, rejected and superseded strategies cannot be approved
        (again).
        """
        with store(call) as s:
            return s.strategies.approve(a.strategy_id, actor=call.principal.user_id)

    def reject_strategy(call: CallContext, a: RejectStrategyArgs) -> StrategyOut:
        """Reject a strategy in pending_review with a reason (3-2000 chars): status -> rejected, which is final
        (strategy_id: lowercase UUID); answer: the strategy.

        Only marketing-leadership (or vp) may call it. Side effects: sets status and rejection_reason and
        writes a strategy.rejected event. Any other status is error invalid_transition (a draft must be
        submitted first). A rejected strategy cannot be reopened: draft a new one with the requested
        changes.
        """
        with store(call) as s:
            return s.strategies.reject(a.strategy_id, actor=call.principal.user_id, reason=a.reason)

    def list_strategies(call: CallContext, a: ListStrategiesArgs) -> StrategyList:
        """Strategies of your tenant, oldest first (created_at, then version), each with its full content.
        Read-only.

        Filters: campaign_id (lowercase UUID), status (draft | pending_review | approved | rejected |
        superseded). No limit or paging. Each: id (lowercase UUID), campaign_id, type, title, content
        {sections}, status, version, previous_version_id, submitted_at/by, approved_at/by, rejection_reason,
        generated_by. An unknown campaign_id gives an empty list.
        """
        with store(call) as s:
            return StrategyList(strategies=s.strategies.list(campaign_id=a.campaign_id, status=a.status))

    def get_strategy(call: CallContext, a: StrategyArgs) -> StrategyOut:
        """One strategy version by id (strategy_id: lowercase UUID). Read-only.

        Returns campaign_id, type, title, content {'sections': [{heading, body (markdown), subsections}]},
        status (draft | pending_review | approved | rejected | superseded), version, previous_version_id,
        submitted_at/by, approved_at/by, rejection_reason, generated_by, created_at/by. Errors: not_found
        (no such strategy in your tenant), tenant_isolation (it is another tenant's).
        """
        with store(call) as s:
            return s.strategies.get(a.strategy_id)

    def t(fn: Any, args: type[ToolInput], out: type[BaseModel], read_only: bool, **kw: Any) -> ToolDef:
        return ToolDef(fn.__name__, args, out, fn, read_only=read_only, **kw)

    return [
        t(draft_strategy, DraftStrategyArgs, StrategyOut, False, idempotent=True),
        # state transitions: they overwrite or remove nothing; a repeat is error invalid_transition.
        t(submit_strategy, StrategyArgs, StrategyOut, False),
        t(approve_strategy, StrategyArgs, StrategyOut, False),
        t(reject_strategy, RejectStrategyArgs, StrategyOut, False),
        t(list_strategies, ListStrategiesArgs, StrategyList, True, idempotent=True),
        t(get_strategy, StrategyArgs, StrategyOut, True, idempotent=True),
    ]
