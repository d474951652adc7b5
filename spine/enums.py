"""Every enumeration of the canonical model (seed §4), as ``StrEnum`` so values are plain strings."""

from __future__ import annotations

from enum import StrEnum


class TenantType(StrEnum):
    ORG = "org"
    BU = "bu"


class Group(StrEnum):
    """Principal groups of a tenant directory."""

    MARKETING_LEADERSHIP = "marketing-leadership"
    VP = "vp"
    CAMPAIGN_MANAGERS = "campaign-managers"
    PRODUCTION_TEAM = "production-team"
    EVENT_MARKETERS = "event-marketers"
    READONLY_USERS = "readonly-users"


class CampaignType(StrEnum):
    STANDARD = "standard"
    EVENT = "event"
    PARTNER = "partner"
    PRODUCT_LAUNCH = "product_launch"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    PLANNING = "planning"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    LAUNCHED = "launched"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ON_HOLD = "on_hold"


class StatusSource(StrEnum):
    WORKFRONT = "workfront"
    ASANA = "asana"
    MCC = "mcc"


class Channel(StrEnum):
    EMAIL = "email"
    WEB = "web"
    SOCIAL = "social"
    EVENTS = "events"
    PAID_MEDIA = "paid_media"
    PARTNER = "partner"
    OTHER = "other"


class StrategyType(StrEnum):
    MESSAGING = "messaging"
    AUDIENCE = "audience"
    CHANNEL = "channel"
    CREATIVE_BRIEF = "creative_brief"
    FULL = "full"


class StrategyStatus(StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


class GeneratedBy(StrEnum):
    HUMAN = "human"
    AGENT = "agent"


class WorkItemType(StrEnum):
    TASK = "task"
    MILESTONE = "milestone"
    APPROVAL = "approval"
    REVIEW = "review"
    DELIVERABLE = "deliverable"


class WorkItemStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class SourceSystem(StrEnum):
    """Where a work item lives."""

    WORKFRONT = "workfront"
    ASANA = "asana"
    MCC = "mcc"


class SyncStatus(StrEnum):
    SYNCED = "synced"
    PENDING = "pending"
    CONFLICT = "conflict"
    ERROR = "error"


class AssetType(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"
    COPY = "copy"
    AUDIO = "audio"
    HTML = "html"
    OTHER = "other"


class AssetSource(StrEnum):
    DAM = "dam"
    MCC = "mcc"
    WORKFRONT = "workfront"
    ASANA = "asana"


class MeasurementSource(StrEnum):
    ADOBE_ANALYTICS = "adobe_analytics"
    GOOGLE_ANALYTICS = "google_analytics"
    SALESFORCE = "salesforce"
    CUSTOM = "custom"


class DataFreshness(StrEnum):
    REALTIME = "realtime"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"


class ExternalSystem(StrEnum):
    """Systems a canonical id can map to (SystemRef.system)."""

    WORKFRONT = "workfront"
    ASANA = "asana"
    ANALYTICS = "analytics"
    ADOBE_ANALYTICS = "adobe_analytics"
    GOOGLE_ANALYTICS = "google_analytics"
    SALESFORCE = "salesforce"
    DAM = "dam"


class EntityType(StrEnum):
    CAMPAIGN = "campaign"
    STRATEGY = "strategy"
    WORK_ITEM = "work_item"
    ASSET = "asset"
    MEASUREMENT = "measurement"
    RUN = "run"


class RequestStatus(StrEnum):
    PENDING = "pending"
    CREATING = "creating"
    COMPLETED = "completed"
    FAILED = "failed"


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class TriggerType(StrEnum):
    MANUAL = "manual"
    SCHEDULED = "scheduled"
    API = "api"
