"""Workfront event-subscription messages (and polled objects) -> canonical external changes: status codes through
``connectors.workfront.mapping``, dates by calendar day, assignee and parent still as Workfront ids."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connectors.workfront.mapping import campaign_status_for, work_item_status_for
from connectors.workfront.query import parse_wf_date, parse_wf_datetime
from connectors.workfront.webhooks import WorkfrontEvent
from sync.changes import ExternalChange

_TASK = {"name": "name", "description": "description", "status": "status", "percentComplete": "percent_complete",
         "plannedStartDate": "planned_start_date", "plannedCompletionDate": "planned_end_date"}  # fmt: skip
_PROJ = {"name": "name", "description": "description", "status": "status", "plannedStartDate": "launch_date",
         "plannedCompletionDate": "end_date", "budget": "budget_planned"}  # fmt: skip
_DATES = {"planned_start_date", "planned_end_date", "launch_date", "end_date"}


def _value(code: str, canonical: str, raw: Any) -> Any:
    if raw is None:
        return None
    if canonical in _DATES:
        return parse_wf_date(str(raw)) if isinstance(raw, str) and raw else None
    if canonical == "status":
        return work_item_status_for(raw) if code == "TASK" else campaign_status_for(raw)
    if canonical == "percent_complete":
        return max(0, min(100, round(float(raw))))
    return raw


def _fields(code: str, state: dict[str, Any], names: set[str] | None) -> dict[str, Any]:
    table = _TASK if code == "TASK" else _PROJ
    out: dict[str, Any] = {}
    for wire, canonical in table.items():
        if wire in state and (names is None or wire in names):
            try:
                out[canonical] = _value(code, canonical, state[wire])
            except (ValueError, KeyError):
                continue  # a status code or date this mapping does not know: leave the field as it is
    return out


def change_from_state(code: str, state: dict[str, Any], at: dt.datetime, names: set[str] | None = None,
                      kind: str = "upsert") -> ExternalChange | None:  # fmt: skip
    """One TASK or PROJ object (newState, or a polled object) as a change; None for other object codes."""
    if code not in ("TASK", "PROJ"):
        return None
    fields = _fields(code, state, names)
    if code == "PROJ":
        return ExternalChange("workfront", "campaign", state["ID"], at, fields, kind)  # type: ignore[arg-type]
    assignee = parent = None
    if names is None or "assignedToID" in names:
        assignee = state.get("assignedToID") or "" if "assignedToID" in state else None
    if names is None or "parentID" in names:
        parent = state.get("parentID") or "" if "parentID" in state else None
    return ExternalChange("workfront", "work_item", state["ID"], at, fields, kind,  # type: ignore[arg-type]
                          project_external_id=state.get("projectID"), assignee_external=assignee,
                          parent_external=parent)  # fmt: skip


def change_from_event(event: WorkfrontEvent, received_at: dt.datetime) -> ExternalChange | None:
    """A parsed event as a change; its eventTime orders it (the receipt time when Workfront sent none)."""
    at = event.event_time or received_at
    if event.event_type == "DELETE":
        return change_from_state(event.obj_code, event.old_state, at, set(), kind="delete")
    names = None if event.event_type == "CREATE" else set(event.changed_fields)
    return change_from_state(event.obj_code, event.new_state, at, names)


def polled_at(obj: dict[str, Any], fallback: dt.datetime) -> dt.datetime:
    """When a polled object last changed (its lastUpdateDate), for ordering against webhook events."""
    raw = obj.get("lastUpdateDate")
    try:
        return parse_wf_datetime(raw) if isinstance(raw, str) else fallback
    except ValueError:
        return fallback
