"""All spine ORM models; importing this package registers every table on ``spine.db.Base``."""

import importlib
import importlib.util

from spine.models.connections import Connection
from spine.models.core import Asset, Campaign, GroupMembership, Strategy, Tenant, User, WorkItem
from spine.models.credentials import UserCredential
from spine.models.imports import ImportProposal
from spine.models.inbox import SyncConflict, WebhookDelivery, WebhookSecret
from spine.models.mapping import CampaignTrackingKeys, SyncState, SystemRef
from spine.models.measurement import Measurement
from spine.models.ops import CampaignRequest, ErrorLog, EventLog, RateCounter, Run

# Governance models (approvals, audit) live in their own module, written separately; register them too.
if importlib.util.find_spec("spine.models.governance") is not None:
    importlib.import_module("spine.models.governance")
if importlib.util.find_spec("spine.models.approval_workflow") is not None:
    importlib.import_module("spine.models.approval_workflow")

__all__ = [
    "Asset",
    "Campaign",
    "CampaignRequest",
    "CampaignTrackingKeys",
    "Connection",
    "ErrorLog",
    "EventLog",
    "GroupMembership",
    "ImportProposal",
    "Measurement",
    "RateCounter",
    "Run",
    "Strategy",
    "SyncConflict",
    "SyncState",
    "SystemRef",
    "Tenant",
    "User",
    "UserCredential",
    "WebhookDelivery",
    "WebhookSecret",
    "WorkItem",
]
