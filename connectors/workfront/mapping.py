"""Workfront -> canonical model: project and task status codes as campaign and work-item statuses, and the work
item fields a task mirrors (Workfront owns them all). Used by the MCP tools and the sync engine alike."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from connectors.workfront.models import ProjectStatus, Task, TaskStatus
from spine.enums import CampaignStatus, WorkItemStatus

# Workfront project status -> canonical campaign status. REQ (requested) and IDA (idea) are not yet planned
# work, so the campaign is still a draft; REJ (rejected request) and DED (dead) both end it as cancelled.
PROJECT_TO_CAMPAIGN: Mapping[str, CampaignStatus] = MappingProxyType(
    {
        ProjectStatus.IDA: CampaignStatus.DRAFT,
        ProjectStatus.REQ: CampaignStatus.DRAFT,
        ProjectStatus.PLN: CampaignStatus.PLANNING,
        ProjectStatus.APR: CampaignStatus.APPROVED,
        ProjectStatus.CUR: CampaignStatus.IN_PROGRESS,
        ProjectStatus.ONH: CampaignStatus.ON_HOLD,
        ProjectStatus.CPL: CampaignStatus.COMPLETED,
        ProjectStatus.DED: CampaignStatus.CANCELLED,
        ProjectStatus.REJ: CampaignStatus.CANCELLED,
    }
)
# Workfront task status -> canonical work item status. CPA (complete, pending approval) waits for a review;
# CPI (complete, pending issues) cannot close until its open issues are resolved, i.e. it is blocked.
TASK_TO_WORK_ITEM: Mapping[str, WorkItemStatus] = MappingProxyType(
    {
        TaskStatus.NEW: WorkItemStatus.NOT_STARTED,
        TaskStatus.INP: WorkItemStatus.IN_PROGRESS,
        TaskStatus.CPL: WorkItemStatus.COMPLETED,
        TaskStatus.CPA: WorkItemStatus.PENDING_REVIEW,
        TaskStatus.CPI: WorkItemStatus.BLOCKED,
    }
)
# Canonical campaign statuses with no Workfront project code of their own ('launched' runs as CUR).
_CAMPAIGN_EXTRA: Mapping[str, tuple[str, ...]] = MappingProxyType({CampaignStatus.LAUNCHED: (ProjectStatus.CUR,)})


def campaign_status_for(project_code: str) -> str:
    """The canonical campaign status of a Workfront project status code."""
    return PROJECT_TO_CAMPAIGN[ProjectStatus(project_code)].value


def work_item_status_for(task_code: str) -> str:
    """The canonical work item status of a Workfront task status code."""
    return TASK_TO_WORK_ITEM[TaskStatus(task_code)].value


def project_codes_for(campaign_status: str) -> tuple[str, ...]:
    """Workfront project codes that mean ``campaign_status`` (e.g. for a ``status in`` search filter)."""
    codes = [c.value for c, s in PROJECT_TO_CAMPAIGN.items() if s == campaign_status]
    return tuple(codes) or tuple(c.value for c in _CAMPAIGN_EXTRA.get(campaign_status, ()))


def task_codes_for(work_item_status: str) -> tuple[str, ...]:
    """Workfront task codes that mean ``work_item_status`` (empty: Workfront has no such task state)."""
    return tuple(c.value for c, s in TASK_TO_WORK_ITEM.items() if s == work_item_status)


def work_item_fields(task: Task) -> dict[str, Any]:
    """The work item fields that mirror a task (Workfront owns them all)."""
    return {
        "name": task.name,
        "description": task.description,
        "status": work_item_status_for(task.status),
        "percent_complete": max(0, min(100, round(task.percent_complete))),
        "planned_start_date": task.planned_start_date,
        "planned_end_date": task.planned_completion_date,
        "assignee_id": task.assigned_to_id,
        "sync_status": "synced",
        "sync_error": None,
    }
