"""One external change in canonical terms, whatever system it came from: which entity (by the system's id), when
the system made it, and the canonical fields it reports (assignee and parent still as the system's ids)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

Entity = Literal["work_item", "campaign"]


@dataclass(frozen=True, slots=True)
class ExternalChange:
    system: str  # workfront | asana
    entity: Entity
    external_id: str
    at: dt.datetime  # when the system made the change (event time / modified_at): orders out-of-order deliveries
    fields: dict[str, Any] = field(default_factory=dict)
    kind: Literal["upsert", "delete"] = "upsert"
    project_external_id: str | None = None  # a task's project: a new task in a linked project becomes a work item
    assignee_external: str | None = None  # the system's user id ("" = unassigned); None = not reported
    parent_external: str | None = None  # the system's parent task id ("" = top level); None = not reported
