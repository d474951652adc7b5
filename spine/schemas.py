"""Pydantic input/output models of the canonical entities, with every validation rule of the seed."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, NotRequired, Required

import pydantic
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from typing_extensions import TypedDict

from spine.currencies import ISO_4217_CODES
from spine.enums import (
    AssetSource,
    AssetType,
    CampaignStatus,
    CampaignType,
    Channel,
    DataFreshness,
    GeneratedBy,
    MeasurementSource,
    Priority,
    SourceSystem,
    StatusSource,
    StrategyStatus,
    StrategyType,
    SyncStatus,
    WorkItemStatus,
    WorkItemType,
)
from spine.text_policy import MULTILINE, check_text
from spine.validation import ASANA_GID_RE as ASANA_GID_RE
from spine.validation import WORKFRONT_ID_RE as WORKFRONT_ID_RE
from spine.validation import check_external_id, pydantic_error
from spine.validation import parse as parse
from spine.validation import to_spine_error as to_spine_error

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> Any:
    # Only real dates or 'YYYY-MM-DD' strings: pydantic alone would also take timestamps and datetimes.
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date (YYYY-MM-DD), got a datetime")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE_RE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a real calendar date") from exc
    raise ValueError(f"{value!r} is not an ISO 8601 date (YYYY-MM-DD)")


def _currency(value: str) -> str:
    if value not in ISO_4217_CODES:
        raise ValueError(f"{value!r} is not an active ISO 4217 currency code (e.g. USD, EUR)")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Currency = Annotated[str, AfterValidator(_currency)]
Name = Annotated[str, Field(min_length=3, max_length=200)]
Tags = Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=100)]


class _In(BaseModel):
    """Base of every spine input: strict, stripped, and every string under the text policy (``spine.text_policy``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @model_validator(mode="after")
    def _text_policy(self) -> Any:
        check_text(self)
        return self


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


# What a caller may send as an amount: a decimal string (up to 4 places) or a whole number; never a float.
_AMOUNT_SCHEMA = {
    "anyOf": [{"type": "string", "pattern": r"^[0-9]{1,14}(\.[0-9]{1,4})?$"}, {"type": "integer", "minimum": 0}],
    "description": "Decimal string, e.g. '25000.00' (or a whole number); never a float.",
}


class Money(_In):
    """A non-negative amount in an ISO 4217 currency; never a float."""

    amount: Annotated[
        Decimal,
        Field(ge=0, max_digits=18, decimal_places=4, allow_inf_nan=False),
        WithJsonSchema(_AMOUNT_SCHEMA, mode="validation"),
    ]
    currency: Currency = Field(json_schema_extra={"pattern": "^[A-Z]{3}$"})

    @pydantic.field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, v: Any) -> Any:
        # The published schema admits no float; one from Python code goes through str so 0.1 stays 0.1.
        return Decimal(str(v)) if isinstance(v, float) else v


def _positive(m: Money | None) -> Money | None:
    if m is not None and m.amount <= 0:
        raise ValueError("budget must be positive")
    return m


PositiveMoney = Annotated[Money, AfterValidator(_positive)]


class CampaignFields(_In):
    """MCC-owned campaign attributes shared by create and update."""

    name: Name
    description: Annotated[str, Field(max_length=5000), MULTILINE] | None = None
    type: CampaignType
    tier: Annotated[int, Field(ge=1, le=3, strict=True)]
    launch_date: IsoDate
    end_date: IsoDate | None = None
    owner_id: Annotated[str, Field(min_length=1, max_length=128)]
    team_id: Annotated[str, Field(max_length=128)] | None = None
    stakeholder_ids: Tags = []
    budget_planned: PositiveMoney | None = None
    budget_committed: Money | None = None
    channels: Annotated[list[Channel], Field(max_length=7)] = []
    audiences: Tags = []
    products: Tags = []
    regions: Tags = []
    tags: Tags = []

    @model_validator(mode="after")
    def _dates_in_order(self) -> CampaignFields:
        if self.end_date is not None and self.end_date < self.launch_date:
            raise pydantic_error("end_date", "end_date must not be before launch_date")
        return self


class CampaignCreate(CampaignFields):
    status: CampaignStatus = CampaignStatus.DRAFT


class CampaignUpdate(_In):
    """A partial update of MCC-owned fields; omitted fields keep their value."""

    name: Name | None = None
    description: Annotated[str, Field(max_length=5000), MULTILINE] | None = None
    type: CampaignType | None = None
    tier: Annotated[int, Field(ge=1, le=3, strict=True)] | None = None
    launch_date: IsoDate | None = None
    end_date: IsoDate | None = None
    owner_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    team_id: Annotated[str, Field(max_length=128)] | None = None
    stakeholder_ids: Tags | None = None
    budget_planned: PositiveMoney | None = None
    budget_committed: Money | None = None
    channels: Annotated[list[Channel], Field(max_length=7)] | None = None
    audiences: Tags | None = None
    products: Tags | None = None
    regions: Tags | None = None
    tags: Tags | None = None


class CampaignOut(_Out):
    id: str
    tenant_id: str
    name: str
    description: str | None
    type: CampaignType
    tier: int
    status: CampaignStatus
    status_updated_at: dt.datetime
    status_source: StatusSource
    launch_date: dt.date
    end_date: dt.date | None
    owner_id: str
    team_id: str | None
    stakeholder_ids: list[str]
    budget_planned: Money | None
    budget_committed: Money | None
    budget_spent: Money | None
    channels: list[Channel]
    audiences: list[str]
    products: list[str]
    regions: list[str]
    tags: list[str]
    external_refs: dict[str, str] = {}
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str
    version: int
    schema_version: int


class StrategySection(_In):
    heading: Annotated[str, Field(min_length=1, max_length=300)]
    body: Annotated[str, Field(max_length=100_000), MULTILINE]
    subsections: list[StrategySection] = []


class StrategyContent(_In):
    sections: list[StrategySection] = []
    attachments: list[dict[str, Any]] = []


class StrategyCreate(_In):
    campaign_id: str
    type: StrategyType
    title: Name
    content: StrategyContent
    generated_by: GeneratedBy = GeneratedBy.HUMAN
    agent_session_id: str | None = None
    prompt_used: Annotated[str, MULTILINE] | None = None


class StrategyOut(_Out):
    id: str
    tenant_id: str
    campaign_id: str
    type: StrategyType
    title: str
    content: dict[str, Any]
    status: StrategyStatus
    submitted_at: dt.datetime | None
    submitted_by: str | None
    approved_at: dt.datetime | None
    approved_by: str | None
    rejection_reason: str | None
    version: int
    previous_version_id: str | None
    generated_by: GeneratedBy
    agent_session_id: str | None
    prompt_used: str | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    schema_version: int


class WorkItemCreate(_In):
    campaign_id: str
    parent_item_id: str | None = None
    name: Annotated[str, Field(min_length=1, max_length=500)]
    description: Annotated[str, MULTILINE] | None = None
    item_type: WorkItemType = WorkItemType.TASK
    priority: Priority = Priority.MEDIUM
    status: WorkItemStatus = WorkItemStatus.NOT_STARTED
    percent_complete: Annotated[int, Field(ge=0, le=100)] = 0
    planned_start_date: IsoDate | None = None
    planned_end_date: IsoDate | None = None
    actual_start_date: IsoDate | None = None
    actual_end_date: IsoDate | None = None
    duration_hours: Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)] | None = None
    assignee_id: str | None = None
    assignee_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    team_id: str | None = None
    source_system: SourceSystem = SourceSystem.MCC
    external_id: str | None = None
    external_url: Annotated[str, Field(max_length=2048)] | None = None
    sync_status: SyncStatus = SyncStatus.PENDING

    @model_validator(mode="after")
    def _check(self) -> WorkItemCreate:
        if self.planned_start_date and self.planned_end_date and self.planned_end_date < self.planned_start_date:
            raise pydantic_error("planned_end_date", "planned_end_date must not be before planned_start_date")
        if self.actual_start_date and self.actual_end_date and self.actual_end_date < self.actual_start_date:
            raise pydantic_error("actual_end_date", "actual_end_date must not be before actual_start_date")
        check_external_id(self.source_system, self.external_id)
        return self


class WorkItemUpdate(_In):
    name: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    description: Annotated[str, MULTILINE] | None = None
    priority: Priority | None = None
    status: WorkItemStatus | None = None
    percent_complete: Annotated[int, Field(ge=0, le=100)] | None = None
    planned_start_date: IsoDate | None = None
    planned_end_date: IsoDate | None = None
    actual_start_date: IsoDate | None = None
    actual_end_date: IsoDate | None = None
    assignee_id: str | None = None
    assignee_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    sync_status: SyncStatus | None = None
    sync_error: Annotated[str, MULTILINE] | None = None


class WorkItemOut(_Out):
    id: str
    tenant_id: str
    campaign_id: str
    parent_item_id: str | None
    name: str
    description: str | None
    item_type: WorkItemType
    priority: Priority
    status: WorkItemStatus
    status_updated_at: dt.datetime
    percent_complete: int
    planned_start_date: dt.date | None
    planned_end_date: dt.date | None
    actual_start_date: dt.date | None
    actual_end_date: dt.date | None
    duration_hours: Decimal | None
    assignee_id: str | None
    assignee_email: str | None
    team_id: str | None
    source_system: SourceSystem
    external_id: str | None
    external_url: str | None
    last_synced_at: dt.datetime | None
    sync_status: SyncStatus
    sync_error: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    schema_version: int


class AssetCreate(_In):
    campaign_id: str
    type: AssetType
    name: Annotated[str, Field(min_length=1, max_length=300)]
    url: Annotated[str, Field(min_length=1, max_length=2048)]
    metadata: dict[str, Any] = {}
    source: AssetSource = AssetSource.DAM
    source_asset_id: str | None = None


class AssetOut(_Out):
    id: str
    tenant_id: str
    campaign_id: str
    type: AssetType
    name: str
    url: str
    metadata: dict[str, Any] = Field(validation_alias=pydantic.AliasChoices("metadata_", "metadata"))
    source: AssetSource
    source_asset_id: str | None
    created_at: dt.datetime
    schema_version: int


NonNeg = Annotated[int, Field(ge=0)]
NonNegMoney = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4, allow_inf_nan=False)]


class MeasurementIn(_In):
    campaign_id: str
    date: IsoDate
    channel: Channel
    segment: str | None = None
    impressions: NonNeg = 0
    clicks: NonNeg = 0
    unique_visitors: NonNeg | None = None
    sessions: NonNeg | None = None
    page_views: NonNeg | None = None
    time_on_site_seconds: Annotated[float, Field(ge=0)] | None = None
    bounce_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    conversions: NonNeg = 0
    leads: NonNeg | None = None
    mqls: NonNeg | None = None
    sqls: NonNeg | None = None
    opportunities: NonNeg | None = None
    currency: Currency = "USD"
    spend: NonNegMoney | None = None
    conversion_value: NonNegMoney | None = None
    pipeline_generated: NonNegMoney | None = None
    revenue_attributed: NonNegMoney | None = None
    source_system: MeasurementSource
    source_campaign_key: Annotated[str, Field(min_length=1, max_length=200)]
    data_freshness: DataFreshness = DataFreshness.DAILY
    collected_at: dt.datetime | None = None


def _typed_dict_of(model: type[BaseModel], name: str) -> tuple[Any, dict[str, Any]]:
    """A TypedDict with ``model``'s field rules (validates ~2.5x faster, yields plain dicts) + its defaults."""
    fields: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        ann = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        if info.is_required():
            fields[field_name] = Required[ann]
        else:
            fields[field_name] = NotRequired[ann]
            defaults[field_name] = info.default
    td = TypedDict(name, fields)  # type: ignore[operator]
    td.__pydantic_config__ = ConfigDict(extra="forbid", str_strip_whitespace=True)  # type: ignore[attr-defined]
    return td, defaults


# Bulk measurement import validates with the same rules as MeasurementIn, as plain dicts.
MeasurementRow, MEASUREMENT_DEFAULTS = _typed_dict_of(MeasurementIn, "MeasurementRow")


class MeasurementOut(_Out):
    id: str
    campaign_id: str
    date: dt.date
    channel: Channel
    segment: str | None
    impressions: int
    clicks: int
    conversions: int
    currency: str
    spend: Decimal | None
    revenue_attributed: Decimal | None
    source_system: MeasurementSource
    source_campaign_key: str


WORKFRONT_USER_ID = r"^[0-9a-f]{32}$"  # Workfront ids are 32 lowercase hex characters
ASANA_GID = r"^[0-9]{1,32}$"  # Asana gids are numeric strings


class UserIn(_In):
    user_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,127}$")]
    display_name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)]
    groups: list[str] = []
    workfront_user_id: Annotated[str | None, Field(pattern=WORKFRONT_USER_ID)] = None
    asana_user_gid: Annotated[str | None, Field(pattern=ASANA_GID)] = None


class UserOut(_Out):
    tenant_id: str
    user_id: str
    display_name: str
    email: str
    groups: list[str]
    active: bool = True
    workfront_user_id: str | None = None
    asana_user_gid: str | None = None
