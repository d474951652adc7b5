"""Team availability arithmetic, shared by both backends so they answer ``get_capacity`` identically.

Capacity of a user = working days (Monday-Friday) in the window x 8 h. Planned work = for each of the
user's tasks that is not complete and has both planned dates, its ``workRequired`` prorated by the share
of its working days that fall inside the window (calendar days when the task spans no working day).
Available = capacity - planned; negative means overbooked. Arithmetic is in whole minutes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from connectors.workfront.models import (
    HOURS_PER_WORKING_DAY,
    TASK_DONE_CODES,
    TeamCapacity,
    User,
    UserCapacity,
)


@dataclass(frozen=True)
class PlannedWork:
    """What capacity needs to know about one task."""

    assigned_to_id: str | None
    start: date | None
    end: date | None
    work_required: int
    status: str


def working_days(start: date, end: date) -> int:
    """Monday-Friday days from ``start`` to ``end``, both inclusive (0 when end < start)."""
    if end < start:
        return 0
    total = (end - start).days + 1
    weeks, rest = divmod(total, 7)
    count = weeks * 5
    for offset in range(rest):
        if (start + timedelta(days=weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


def planned_minutes_in_window(task: PlannedWork, start: date, end: date) -> int:
    """Minutes of ``task``'s planned work that fall inside the window."""
    if task.status in TASK_DONE_CODES or task.start is None or task.end is None or task.work_required <= 0:
        return 0
    lo, hi = max(start, task.start), min(end, task.end)
    if hi < lo:
        return 0
    task_days = working_days(task.start, task.end)
    if task_days == 0:  # a weekend-only task: prorate on calendar days
        return task.work_required * ((hi - lo).days + 1) // ((task.end - task.start).days + 1)
    return task.work_required * working_days(lo, hi) // task_days


def compute_capacity(
    team_id: str, start: date, end: date, users: Iterable[User], tasks: Iterable[PlannedWork]
) -> TeamCapacity:
    """Availability of ``users`` between ``start`` and ``end`` given their ``tasks``."""
    days = working_days(start, end)
    capacity_minutes = days * HOURS_PER_WORKING_DAY * 60
    planned: dict[str, int] = {}
    for task in tasks:
        if task.assigned_to_id is not None:
            minutes = planned_minutes_in_window(task, start, end)
            planned[task.assigned_to_id] = planned.get(task.assigned_to_id, 0) + minutes
    rows = [
        UserCapacity(
            user_id=user.id,
            name=user.name,
            capacity_hours=round(capacity_minutes / 60, 2),
            planned_hours=round(planned.get(user.id, 0) / 60, 2),
            available_hours=round((capacity_minutes - planned.get(user.id, 0)) / 60, 2),
        )
        for user in sorted(users, key=lambda u: (u.name, u.id))
    ]
    return TeamCapacity(team_id=team_id, start_date=start, end_date=end, working_days=days, users=rows)
