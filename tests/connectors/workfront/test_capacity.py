"""Capacity arithmetic shared by both backends."""

from __future__ import annotations

from datetime import date

from connectors.workfront.capacity import PlannedWork, compute_capacity, planned_minutes_in_window, working_days
from connectors.workfront.models import User


def test_working_days() -> None:
    assert working_days(date(2026, 3, 2), date(2026, 3, 8)) == 5  # Mon..Sun
    assert working_days(date(2026, 3, 7), date(2026, 3, 8)) == 0  # weekend
    assert working_days(date(2026, 3, 6), date(2026, 3, 9)) == 2  # Fri..Mon
    assert working_days(date(2026, 3, 2), date(2026, 3, 31)) == 22
    assert working_days(date(2026, 3, 9), date(2026, 3, 2)) == 0


def test_proration_and_exclusions() -> None:
    window = (date(2026, 3, 2), date(2026, 3, 6))
    inside = PlannedWork("u", date(2026, 3, 2), date(2026, 3, 3), 600, "NEW")
    half = PlannedWork("u", date(2026, 3, 5), date(2026, 3, 10), 800, "INP")  # Thu..Tue: 2 of 4 days
    weekend = PlannedWork("u", date(2026, 3, 7), date(2026, 3, 8), 120, "NEW")
    done = PlannedWork("u", date(2026, 3, 2), date(2026, 3, 3), 600, "CPL")
    undated = PlannedWork("u", None, None, 600, "NEW")
    assert planned_minutes_in_window(inside, *window) == 600
    assert planned_minutes_in_window(half, *window) == 400
    assert planned_minutes_in_window(weekend, *window) == 0
    assert planned_minutes_in_window(weekend, date(2026, 3, 8), date(2026, 3, 8)) == 60
    assert planned_minutes_in_window(done, *window) == 0
    assert planned_minutes_in_window(undated, *window) == 0


def test_overbooked_user_has_negative_availability() -> None:
    users = [User(ID="b" * 32, name="Busy"), User(ID="a" * 32, name="Able")]
    tasks = [PlannedWork("b" * 32, date(2026, 3, 2), date(2026, 3, 2), 600, "INP")]
    cap = compute_capacity("t" * 32, date(2026, 3, 2), date(2026, 3, 2), users, tasks)
    assert [(u.name, u.available_hours) for u in cap.users] == [("Able", 8.0), ("Busy", -2.0)]
