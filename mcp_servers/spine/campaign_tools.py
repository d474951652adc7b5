"""Spine server tools for campaigns, strategies, work items, id lookups, tracking keys and performance."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from mcp_servers.guard.guard import CallContext
from mcp_servers.guard.toolkit import CreateInput, ToolDef, ToolFailure, ToolInput
from spine.repositories import SystemRefOut, open_store
from spine.schemas import CampaignFields, CampaignOut, StrategyContent, StrategyOut, WorkItemOut

Uuid = Annotated[str, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
System = Literal["workfront", "asana", "salesforce", "analytics", "dam"]
EntityType = Literal["campaign", "work_item", "asset"]


class CreateCampaignArgs(CreateInput, CampaignFields):
    """Arguments of create_campaign: the campaign's MCC-owned fields plus the idempotency key."""


class GetCampaignArgs(ToolInput):
    campaign_id: Uuid = Field(description="Canonical campaign id (UUID).")


class ListCampaignsArgs(ToolInput):
    status: str | None = Field(default=None, description="draft | planning | approved | in_progress | launched | …")
    type: Literal["standard", "event", "partner", "product_launch"] | None = None
    tier: int | None = Field(default=None, ge=1, le=3)
    name_contains: str | None = Field(default=None, max_length=200, description="Case-insensitive name filter.")
    limit: int = Field(default=50, ge=1, le=500)


class UpdateCampaignArgs(ToolInput):
    campaign_id: Uuid
    expected_version: int = Field(ge=1, description="The campaign's current `version` (optimistic locking).")
    changes: dict[str, Any] = Field(
        description="MCC-owned fields to change, e.g. {'name': ..., 'budget_planned': {'amount': '15000', "
        "'currency': 'USD'}}. status, budget_spent and other fields owned by other systems are refused."
    )


class CampaignList(BaseModel):
    campaigns: list[CampaignOut]
    count: int


class StrategyArgs(ToolInput):
    strategy_id: Uuid


class DraftStrategyArgs(CreateInput):
    campaign_id: Uuid
    type: Literal["messaging", "audience", "channel", "creative_brief", "full"]
    title: str = Field(min_length=3, max_length=200)
    content: StrategyContent = Field(description="{'sections': [{'heading': str, 'body': markdown}]}")
    generated_by: Literal["human", "agent"] = "agent"


class RejectStrategyArgs(StrategyArgs):
    reason: str = Field(min_length=3, max_length=2000)


class ListStrategiesArgs(ToolInput):
    campaign_id: Uuid | None = None
    status: Literal["draft", "pending_review", "approved", "rejected", "superseded"] | None = None


class StrategyList(BaseModel):
    strategies: list[StrategyOut]


class ListWorkItemsArgs(ToolInput):
    campaign_id: Uuid | None = None
    source_system: Literal["workfront", "asana", "mcc"] | None = None
    status: str | None = None


class WorkItemList(BaseModel):
    work_items: list[WorkItemOut]


class GetWorkItemArgs(ToolInput):
    item_id: Uuid


class LookupCanonicalArgs(ToolInput):
    system: System
    external_id: str = Field(min_length=1, max_length=200, description="The id in that system.")
    entity_type: EntityType = "campaign"


class LookupExternalArgs(ToolInput):
    canonical_id: Uuid
    entity_type: EntityType = "campaign"


class CanonicalIdOut(BaseModel):
    system: str
    external_id: str
    entity_type: str
    canonical_id: str | None = Field(description="None when the external id is not mapped in this tenant.")


class ExternalIdsOut(BaseModel):
    canonical_id: str
    entity_type: str
    refs: list[SystemRefOut]


class TrackingKeysOut(BaseModel):
    campaign_id: str
    adobe_analytics: str
    google_analytics: str
    internal_metrics: str
    salesforce: str | None
    utm_template: dict[str, str]


class PerformanceArgs(ToolInput):
    start: dt.date | None = Field(default=None, description="First day included (ISO date).")
    end: dt.date | None = Field(default=None, description="Last day included (ISO date).")
    campaign_ids: list[Uuid] | None = Field(default=None, max_length=100, description="Only these campaigns.")


class MetricsOut(BaseModel):
    impressions: int
    clicks: int
    conversions: int
    spend: Decimal
    revenue: Decimal
    currency: str | None
    ctr: float | None = Field(description="clicks / impressions (0-1)")
    cvr: float | None = Field(description="conversions / clicks (0-1)")
    cpa: Decimal | None = Field(description="spend / conversions, in currency")
    roas: float | None = Field(description="revenue / spend")


class CampaignPerformanceOut(BaseModel):
    campaign_id: str
    name: str
    metrics: MetricsOut


class ChannelPerformanceOut(BaseModel):
    channel: str
    metrics: MetricsOut


class PerformanceOut(BaseModel):
    start: dt.date | None
    end: dt.date | None
    totals: list[MetricsOut] = Field(description="One entry per currency.")
    by_campaign: list[CampaignPerformanceOut]
    by_channel: list[ChannelPerformanceOut]


def campaign_tools(sessions: sessionmaker[Session]) -> list[ToolDef]:
    """The spine's campaign-side tools over ``sessions``; tenant scoping comes from the caller's principal."""

    def store(call: CallContext):  # type: ignore[no-untyped-def]
        return open_store(sessions, call.principal.tenant_id)

    async def create_campaign(call: CallContext, a: CreateCampaignArgs) -> CampaignOut:
        """Create a canonical campaign (status draft) with its tracking keys.

        budget_planned is {amount: decimal string, currency: ISO 4217}; a budget over USD 10,000 (converted)
        waits for marketing-leadership approval, over USD 100,000 for a vp approval (the answer is then
        status 'approval_required'). Dates are ISO (YYYY-MM-DD); end_date may not precede launch_date;
        owner_id must be a user of the tenant. Side effects: writes the campaign, tracking keys and a
        campaign.created event. Retrying with the same idempotency_key returns the first campaign.
        """
        data = a.model_dump(exclude={"approval_id", "idempotency_key"}, exclude_unset=True)
        with store(call) as s:
            return s.campaigns.create(data, actor=call.principal.user_id, client_request_key=call.idempotency_key)

    async def get_campaign(call: CallContext, a: GetCampaignArgs) -> CampaignOut:
        """One campaign by canonical id: all fields, external_refs (system -> id), version. Read-only."""
        with store(call) as s:
            return s.campaigns.get(a.campaign_id)

    async def list_campaigns(call: CallContext, a: ListCampaignsArgs) -> CampaignList:
        """Campaigns of the caller's tenant, newest launch first, filtered by status/type/tier/name. Read-only."""
        with store(call) as s:
            rows = s.campaigns.list(status=a.status, type=a.type, tier=a.tier, limit=500)
        if a.name_contains:
            rows = [c for c in rows if a.name_contains.lower() in c.name.lower()]
        rows = rows[: a.limit]
        return CampaignList(campaigns=rows, count=len(rows))

    async def update_campaign(call: CallContext, a: UpdateCampaignArgs) -> CampaignOut:
        """Change MCC-owned fields of a campaign (name, description, type, tier, dates, owner, budget_planned,
        channels, audiences, products, regions, tags).

        expected_version must equal the campaign's current version, else nothing is written and the error
        says to re-read it. Fields owned by other systems (status: Workfront/Asana; budget_spent: analytics)
        are refused. Raising budget_planned over USD 10,000 / 100,000 needs leadership / vp approval.
        """
        with store(call) as s:
            return s.campaigns.update(
                a.campaign_id, a.changes, expected_version=a.expected_version, actor=call.principal.user_id
            )

    async def draft_strategy(call: CallContext, a: DraftStrategyArgs) -> StrategyOut:
        """Create a strategy draft (version 1) for a campaign. Side effect: writes the draft."""
        data = a.model_dump(exclude={"approval_id", "idempotency_key"})
        with store(call) as s:
            return s.strategies.create(data, actor=call.principal.user_id)

    async def submit_strategy(call: CallContext, a: StrategyArgs) -> StrategyOut:
        """Move a draft strategy to pending_review. Side effect: status change."""
        with store(call) as s:
            return s.strategies.submit(a.strategy_id, actor=call.principal.user_id)

    async def approve_strategy(call: CallContext, a: StrategyArgs) -> StrategyOut:
        """Approve a pending_review strategy (it becomes immutable; a previously approved version is superseded)."""
        with store(call) as s:
            return s.strategies.approve(a.strategy_id, actor=call.principal.user_id)

    async def reject_strategy(call: CallContext, a: RejectStrategyArgs) -> StrategyOut:
        """Reject a pending_review strategy with a reason. Side effect: status change."""
        with store(call) as s:
            return s.strategies.reject(a.strategy_id, actor=call.principal.user_id, reason=a.reason)

    async def list_strategies(call: CallContext, a: ListStrategiesArgs) -> StrategyList:
        """Strategies of the tenant, optionally of one campaign and/or status. Read-only."""
        with store(call) as s:
            return StrategyList(strategies=s.strategies.list(campaign_id=a.campaign_id, status=a.status))

    async def get_strategy(call: CallContext, a: StrategyArgs) -> StrategyOut:
        """One strategy version by id, with its content sections. Read-only."""
        with store(call) as s:
            return s.strategies.get(a.strategy_id)

    async def list_work_items(call: CallContext, a: ListWorkItemsArgs) -> WorkItemList:
        """Work items (tasks, milestones, ...) mirrored from Workfront/Asana. Read-only: change them through the
        workfront or asana server, which updates the spine."""
        with store(call) as s:
            items = s.work_items.list(a.campaign_id, source_system=a.source_system, status=a.status)
        return WorkItemList(work_items=items)

    async def get_work_item(call: CallContext, a: GetWorkItemArgs) -> WorkItemOut:
        """One work item by canonical id. Read-only."""
        with store(call) as s:
            return s.work_items.get(a.item_id)

    async def lookup_canonical_id(call: CallContext, a: LookupCanonicalArgs) -> CanonicalIdOut:
        """Map an external id (e.g. a Workfront project ID or Asana gid) to the canonical id. Read-only."""
        with store(call) as s:
            cid = s.refs.canonical_id(a.system, a.entity_type, a.external_id)
        return CanonicalIdOut(system=a.system, external_id=a.external_id, entity_type=a.entity_type, canonical_id=cid)

    async def lookup_external_id(call: CallContext, a: LookupExternalArgs) -> ExternalIdsOut:
        """All external ids (system, id, deep link) of a canonical entity. Read-only."""
        with store(call) as s:
            refs = s.refs.external_ids(a.entity_type, a.canonical_id)
        return ExternalIdsOut(canonical_id=a.canonical_id, entity_type=a.entity_type, refs=refs)

    async def get_tracking_keys(call: CallContext, a: GetCampaignArgs) -> TrackingKeysOut:
        """The campaign's tracking keys: adobe (slug_year), google (CMP_ + last 8 of id), internal code, UTM
        template. Read-only."""
        with store(call) as s:
            return TrackingKeysOut.model_validate(s.tracking.get(a.campaign_id).as_dict())

    async def performance_summary(call: CallContext, a: PerformanceArgs) -> PerformanceOut:
        """Performance over [start, end] (inclusive ISO dates; both optional): totals per currency, per campaign
        and per channel, with impressions, clicks, conversions, spend, revenue, CTR, CVR, CPA and ROAS.
        Ratios are null when their denominator is 0. Read-only."""
        if a.start and a.end and a.end < a.start:
            raise ToolFailure("end is before start", field="end", fix="pass end >= start")
        with store(call) as s:
            summary = s.performance(a.start, a.end)
        out = PerformanceOut.model_validate(dataclasses.asdict(summary))
        if a.campaign_ids is not None:
            wanted = set(a.campaign_ids)
            out.by_campaign = [c for c in out.by_campaign if c.campaign_id in wanted]
        return out

    def t(fn: Any, args: type[ToolInput], out: type[BaseModel], read_only: bool, **kw: Any) -> ToolDef:
        return ToolDef(fn.__name__, args, out, fn, read_only=read_only, **kw)

    return [
        t(create_campaign, CreateCampaignArgs, CampaignOut, False, idempotent=True),
        t(get_campaign, GetCampaignArgs, CampaignOut, True, idempotent=True),
        t(list_campaigns, ListCampaignsArgs, CampaignList, True, idempotent=True),
        t(update_campaign, UpdateCampaignArgs, CampaignOut, False),
        t(draft_strategy, DraftStrategyArgs, StrategyOut, False, idempotent=True),
        t(submit_strategy, StrategyArgs, StrategyOut, False),
        t(approve_strategy, StrategyArgs, StrategyOut, False),
        t(reject_strategy, RejectStrategyArgs, StrategyOut, False),
        t(list_strategies, ListStrategiesArgs, StrategyList, True, idempotent=True),
        t(get_strategy, StrategyArgs, StrategyOut, True, idempotent=True),
        t(list_work_items, ListWorkItemsArgs, WorkItemList, True, idempotent=True),
        t(get_work_item, GetWorkItemArgs, WorkItemOut, True, idempotent=True),
        t(lookup_canonical_id, LookupCanonicalArgs, CanonicalIdOut, True, idempotent=True),
        t(lookup_external_id, LookupExternalArgs, ExternalIdsOut, True, idempotent=True),
        t(get_tracking_keys, GetCampaignArgs, TrackingKeysOut, True, idempotent=True),
        t(performance_summary, PerformanceArgs, PerformanceOut, True, idempotent=True),
    ]
