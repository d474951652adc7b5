"""Spine server tools for campaigns, work items, id lookups, tracking keys and performance."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field, WithJsonSchema
from sqlalchemy.orm import Session, sessionmaker

from mcp_servers.guard.guard import CallContext
from mcp_servers.guard.toolkit import ApprovableCreateInput, ApprovableInput, ToolDef, ToolFailure, ToolInput, Uuid
from mcp_servers.spine.common import tenant_store
from spine.repositories import SystemRefOut
from spine.schemas import CampaignFields, CampaignOut, CampaignUpdate, WorkItemOut


def _inlined(schema: Any, defs: dict[str, Any]) -> Any:
    """``schema`` with every ``#/$defs/`` reference replaced by its definition (CampaignUpdate has no cycles)."""
    if isinstance(schema, list):
        return [_inlined(item, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if isinstance(ref := schema.get("$ref"), str):
        return _inlined(defs[ref.removeprefix("#/$defs/")], defs)
    return {k: _inlined(v, defs) for k, v in schema.items() if k != "$defs"}


def _changes_schema() -> dict[str, Any]:
    """What update_campaign's ``changes`` may hold, as published: CampaignUpdate's fields minus the refused ones
    (the handler's CampaignUpdate validation gives the typed errors)."""
    full = CampaignUpdate.model_json_schema()
    schema = _inlined(full, full.get("$defs", {}))
    schema["properties"].pop("budget_committed", None)  # analytics-owned: refused
    schema.pop("description", None)
    return {**schema, "minProperties": 1}


System = Literal["workfront", "asana", "salesforce", "analytics", "dam"]
EntityType = Literal["campaign", "work_item", "asset"]


class CreateCampaignArgs(ApprovableCreateInput, CampaignFields):
    """Arguments of create_campaign: the campaign's MCC-owned fields plus the idempotency key."""


class GetCampaignArgs(ToolInput):
    campaign_id: Uuid = Field(description="Canonical campaign id (lowercase UUID).")


class ListCampaignsArgs(ToolInput):
    status: str | None = Field(
        default=None,
        max_length=32,
        description="draft | planning | approved | in_progress | launched | completed | cancelled | on_hold; "
        "another value matches nothing.",
    )
    type: Literal["standard", "event", "partner", "product_launch"] | None = None
    tier: int | None = Field(default=None, ge=1, le=3)
    name_contains: str | None = Field(
        default=None, min_length=1, max_length=200, description="Case-insensitive substring of the name."
    )
    limit: int = Field(default=50, ge=1, le=500, description="At most this many campaigns (1-500).")
    offset: int = Field(
        default=0, ge=0, le=1_000_000, description="Skip this many matches; pass the previous answer's next_offset."
    )


class UpdateCampaignArgs(ApprovableInput):
    # newlines are judged per field by the spine's CampaignUpdate (a description may hold them, a name may not)
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"changes"})

    campaign_id: Uuid = Field(description="Canonical campaign id (lowercase UUID).")
    expected_version: int = Field(ge=1, description="The campaign's current `version` (optimistic locking).")
    changes: Annotated[dict[str, Any], WithJsonSchema(_changes_schema())] = Field(
        min_length=1,
        description="At least one MCC-owned field to change, e.g. {'name': ..., 'budget_planned': {'amount': '15000', "
        "'currency': 'USD'}}. status, budget_committed, budget_spent and unknown fields are refused.",
    )


class CampaignList(BaseModel):
    campaigns: list[CampaignOut]
    count: int = Field(description="Campaigns in this page.")
    next_offset: int | None = Field(description="offset for the next page; null when this page is the last.")


class ListWorkItemsArgs(ToolInput):
    campaign_id: Uuid | None = Field(default=None, description="Only this campaign's (lowercase UUID).")
    source_system: Literal["workfront", "asana", "mcc"] | None = None
    status: str | None = Field(
        default=None,
        max_length=32,
        description="not_started | in_progress | blocked | pending_review | approved | completed | cancelled.",
    )
    limit: int = Field(default=50, ge=1, le=500, description="At most this many items (1-500).")
    offset: int = Field(
        default=0, ge=0, le=1_000_000, description="Skip this many matches; pass the previous answer's next_offset."
    )


class WorkItemList(BaseModel):
    work_items: list[WorkItemOut]
    count: int = Field(description="Items in this page.")
    next_offset: int | None = Field(description="offset for the next page; null when this page is the last.")


class GetWorkItemArgs(ToolInput):
    item_id: Uuid = Field(description="Canonical work item id (lowercase UUID).")


class LookupCanonicalArgs(ToolInput):
    system: System
    external_id: str = Field(
        min_length=1, max_length=200, description="The id in that system (Workfront: 32 hex; Asana gid: digits)."
    )
    entity_type: EntityType = "campaign"


class LookupExternalArgs(ToolInput):
    canonical_id: Uuid = Field(description="Canonical id (lowercase UUID) of a campaign, work item or asset.")
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
    campaign_ids: list[Uuid] | None = Field(
        default=None, max_length=100, description="Only these campaigns, in every section (lowercase UUIDs, max 100)."
    )


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

    def store(call: CallContext) -> Any:
        return tenant_store(sessions, call)

    def create_campaign(call: CallContext, a: CreateCampaignArgs) -> CampaignOut:
        """Create a canonical campaign (status draft) with its tracking keys; answer: the campaign.

        name 3-200 chars; type standard | event | partner | product_launch; tier 1-3; launch_date and
        end_date ISO YYYY-MM-DD (end not before launch); owner_id: a user id of your tenant; channels from
        email web social events paid_media partner other. budget_planned is {amount: positive decimal
        string, currency: ISO 4217}: over USD 10,000 (converted; a currency without a configured rate is
        refused) the answer is status 'approval_required' and nothing is written until marketing-leadership
        approves (over USD 100,000: vp); then re-send the identical call with approval_id. budget_committed
        is analytics-owned and refused. Side effects: writes the campaign (id: lowercase UUID, version 1),
        its tracking keys and a campaign.created event; campaign-managers and marketing-leadership may call
        it. The same idempotency_key (or, without one, the identical call by the same user) returns the
        first campaign; the same key with other arguments is error idempotency_key_reused.
        """
        data = a.business_arguments(mode="python", exclude_unset=True, exclude_none=False)
        with store(call) as s:
            return s.campaigns.create(data, actor=call.principal.user_id, client_request_key=call.idempotency_key)

    def get_campaign(call: CallContext, a: GetCampaignArgs) -> CampaignOut:
        """One campaign by canonical id (campaign_id: lowercase UUID). Read-only.

        Returns every field: name, type, tier, status (synced from Workfront/Asana; status_source says
        which), launch_date / end_date (ISO), owner_id, budget_planned / budget_committed / budget_spent
        ({amount: decimal string, currency: ISO 4217} or null), channels, audiences, products, regions,
        tags, external_refs {system: external id}, and version (pass it as expected_version to
        update_campaign). Errors: not_found (no such campaign in your tenant), tenant_isolation (it is
        another tenant's).
        """
        with store(call) as s:
            return s.campaigns.get(a.campaign_id)

    def list_campaigns(call: CallContext, a: ListCampaignsArgs) -> CampaignList:
        """Campaigns of your tenant, newest launch_date first (then by id), at most limit (1-500, default 50).
        Read-only.

        Filters combine: status (draft planning approved in_progress launched completed cancelled on_hold;
        another value matches nothing), type, tier (1-3), name_contains (case-insensitive substring; % and _
        are literal). Paging: count is the number in this page; when next_offset is not null, call again
        with offset=next_offset and the same filters for the next page. Each campaign has the fields of
        get_campaign.
        """
        with store(call) as s:
            # One row more than asked says whether another page exists.
            rows = s.campaigns.list(status=a.status, type=a.type, tier=a.tier, name_contains=a.name_contains,
                                    limit=a.limit + 1, offset=a.offset)  # fmt: skip
        more = len(rows) > a.limit
        rows = rows[: a.limit]
        return CampaignList(campaigns=rows, count=len(rows), next_offset=a.offset + a.limit if more else None)

    def update_campaign(call: CallContext, a: UpdateCampaignArgs) -> CampaignOut:
        """Change MCC-owned fields of a campaign (campaign_id: lowercase UUID); answer: the updated campaign.

        changes may hold name, description, type, tier, launch_date / end_date (ISO; end not before launch),
        owner_id (a user of your tenant), team_id, stakeholder_ids, budget_planned {amount: positive decimal
        string, currency: ISO 4217}, channels, audiences, products, regions, tags; lists are replaced, not
        merged. status (Workfront/Asana), budget_committed / budget_spent (analytics) and unknown fields are
        denied. expected_version must equal the current version, else nothing is written (error conflict:
        re-read with get_campaign, retry with its version). budget_planned over USD 10,000 / 100,000 first
        needs marketing-leadership / vp approval (answer status 'approval_required'). Side effects:
        overwrites the fields, version + 1, a campaign.updated event with previous and new values;
        campaign-managers and marketing-leadership may call it.
        """
        with store(call) as s:
            return s.campaigns.update(
                a.campaign_id, a.changes, expected_version=a.expected_version, actor=call.principal.user_id
            )

    def list_work_items(call: CallContext, a: ListWorkItemsArgs) -> WorkItemList:
        """Work items (task, milestone, approval, review, deliverable) of your tenant, oldest first. Read-only:
        change them through the workfront or asana server, which updates the spine.

        Filters combine: campaign_id (lowercase UUID), source_system (workfront | asana | mcc), status
        (not_started in_progress blocked pending_review approved completed cancelled; another value matches
        nothing). Paged: limit (default 50) and offset; next_offset is null on the last page. Each: id
        (lowercase UUID), campaign_id, parent_item_id, name,
        item_type, priority, status, percent_complete (0-100), planned/actual start and end dates (ISO),
        assignee_id, source_system, external_id (the Workfront task ID / Asana gid), external_url,
        sync_status.
        """
        with store(call) as s:
            items = s.work_items.list(a.campaign_id, source_system=a.source_system, status=a.status)
        page = items[a.offset : a.offset + a.limit]
        more = a.offset + a.limit < len(items)
        return WorkItemList(work_items=page, count=len(page), next_offset=a.offset + a.limit if more else None)

    def get_work_item(call: CallContext, a: GetWorkItemArgs) -> WorkItemOut:
        """One work item by canonical id (item_id: lowercase UUID). Read-only: change it through the workfront
        or asana server.

        Returns campaign_id, parent_item_id, name, description, item_type, priority, status,
        percent_complete (0-100), planned/actual start and end dates (ISO), duration_hours, assignee_id /
        assignee_email, source_system (workfront | asana | mcc), external_id, external_url, sync_status,
        version. Errors: not_found (no such item in your tenant), tenant_isolation (it is another tenant's).
        """
        with store(call) as s:
            return s.work_items.get(a.item_id)

    def lookup_canonical_id(call: CallContext, a: LookupCanonicalArgs) -> CanonicalIdOut:
        """Map an id of another system to the canonical (spine) id. Read-only.

        system workfront | asana | salesforce | analytics | dam; external_id as that system writes it
        (Workfront ID: 32 hex; Asana gid: numeric string); entity_type campaign (default; a Workfront or
        Asana project maps to its campaign) | work_item (a task) | asset. Answer: canonical_id, a lowercase
        UUID, or null when the id is not mapped. Error tenant_isolation: it is mapped in another tenant.
        """
        with store(call) as s:
            cid = s.refs.canonical_id(a.system, a.entity_type, a.external_id)
        return CanonicalIdOut(system=a.system, external_id=a.external_id, entity_type=a.entity_type, canonical_id=cid)

    def lookup_external_id(call: CallContext, a: LookupExternalArgs) -> ExternalIdsOut:
        """Every external id of a canonical entity (canonical_id: lowercase UUID; entity_type campaign
        (default) | work_item | asset). Read-only.

        refs, ordered by system: system, external_id (Workfront: 32 hex; Asana: numeric gid), external_url
        (deep link or null), last_synced_at, sync_version. An unmapped or unknown id gives an empty list.
        Error tenant_isolation: the entity belongs to another tenant.
        """
        with store(call) as s:
            refs = s.refs.external_ids(a.entity_type, a.canonical_id)
        return ExternalIdsOut(canonical_id=a.canonical_id, entity_type=a.entity_type, refs=refs)

    def get_tracking_keys(call: CallContext, a: GetCampaignArgs) -> TrackingKeysOut:
        """A campaign's analytics tracking keys (campaign_id: lowercase UUID). Read-only.

        Set at creation from the name and launch date (a later rename keeps them): adobe_analytics = name
        slug + '_' + launch year (e.g. spring_launch_2027); google_analytics = 'CMP_' + last 8 characters of
        the id, upper case; internal_metrics = 'MKT-Q<quarter><year>-' + first 10 slug characters, upper
        case; salesforce = the Salesforce campaign id or null; utm_template: utm_campaign set, {source}
        {medium} {content} {term} placeholders to fill. Error not_found: no such campaign in your tenant.
        """
        with store(call) as s:
            return TrackingKeysOut.model_validate(s.tracking.get(a.campaign_id).as_dict())

    def performance_summary(call: CallContext, a: PerformanceArgs) -> PerformanceOut:
        """Measured performance of your tenant's campaigns over [start, end] (ISO dates YYYY-MM-DD, both
        inclusive; omit either for an open range). Read-only.

        totals: one entry per currency (money is never summed across currencies); by_campaign: one per
        (campaign, currency), highest spend first; by_channel: one per (channel, currency), by channel name.
        Metrics: impressions, clicks, conversions; spend and revenue as decimal strings in currency; ctr =
        clicks / impressions and cvr = conversions / clicks (0-1); cpa = spend / conversions; roas = revenue
        / spend; a ratio is null when its denominator is 0. campaign_ids (lowercase UUIDs, max 100) narrows
        all three sections to those campaigns (ids of other tenants match nothing). Campaigns with no
        measurement in the range are absent. An end before start is error invalid (field end).
        """
        if a.start and a.end and a.end < a.start:
            raise ToolFailure("end is before start", field="end", fix="pass end >= start")
        with store(call) as s:
            summary = s.performance(a.start, a.end, campaign_ids=a.campaign_ids)
        return PerformanceOut.model_validate(dataclasses.asdict(summary))

    def t(fn: Any, args: type[ToolInput], out: type[BaseModel], read_only: bool, **kw: Any) -> ToolDef:
        return ToolDef(fn.__name__, args, out, fn, read_only=read_only, **kw)

    return [
        t(create_campaign, CreateCampaignArgs, CampaignOut, False, idempotent=True),
        t(get_campaign, GetCampaignArgs, CampaignOut, True, idempotent=True),
        t(list_campaigns, ListCampaignsArgs, CampaignList, True, idempotent=True),
        # destructive: it overwrites existing fields (as Workfront update_task); a repeat fails on the new version.
        t(update_campaign, UpdateCampaignArgs, CampaignOut, False, destructive=True),
        t(list_work_items, ListWorkItemsArgs, WorkItemList, True, idempotent=True),
        t(get_work_item, GetWorkItemArgs, WorkItemOut, True, idempotent=True),
        t(lookup_canonical_id, LookupCanonicalArgs, CanonicalIdOut, True, idempotent=True),
        t(lookup_external_id, LookupExternalArgs, ExternalIdsOut, True, idempotent=True),
        t(get_tracking_keys, GetCampaignArgs, TrackingKeysOut, True, idempotent=True),
        t(performance_summary, PerformanceArgs, PerformanceOut, True, idempotent=True),
    ]
