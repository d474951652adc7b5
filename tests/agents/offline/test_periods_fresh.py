"""Reporting periods and dates as marketers type them (fresh phrasings written 2026-12-07 before the parser changes;
frozen: add new cases in another file). Clock: Monday 2026-11-02."""

from __future__ import annotations

import datetime as dt

import pytest

from agents.offline.dates import find_date, find_period

TODAY = dt.date(2026, 11, 2)
D = dt.date


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("revenue oct 5-11 2026", D(2026, 10, 5), D(2026, 10, 11)),
        ("what did we spend feb 1-7 2027", D(2027, 2, 1), D(2027, 2, 7)),
        ("clicks for sept 14 – 20", D(2026, 9, 14), D(2026, 9, 20)),
        ("conversions 3-9 aug 2026", D(2026, 8, 3), D(2026, 8, 9)),
        ("spend in sep 2026", D(2026, 9, 1), D(2026, 9, 30)),
        ("how did jan 2027 look", D(2027, 1, 1), D(2027, 1, 31)),
        ("roas for august", D(2026, 8, 1), D(2026, 8, 31)),
        ("results in aug", D(2026, 8, 1), D(2026, 8, 31)),
        ("last month", D(2026, 10, 1), D(2026, 10, 31)),
        ("revenue q3", D(2026, 7, 1), D(2026, 9, 30)),
        ("revenue in q4 2025", D(2025, 10, 1), D(2025, 12, 31)),
        ("last quarter", D(2026, 7, 1), D(2026, 9, 30)),
        ("from sept 28 to oct 4", D(2026, 9, 28), D(2026, 10, 4)),
        ("between 2026-09-01 and 2026-09-15", D(2026, 9, 1), D(2026, 9, 15)),
        ("so far this month", D(2026, 11, 1), D(2026, 11, 30)),  # the whole month: no data lies ahead
        ("in the first week of october", D(2026, 10, 1), D(2026, 10, 7)),
    ],
)
def test_periods(text: str, start: dt.date, end: dt.date) -> None:
    assert find_period(text, TODAY) == (start, end)


@pytest.mark.parametrize("text", ["how is the summit doing", "top campaigns by roas", "email vs paid media"])
def test_no_period(text: str) -> None:
    assert find_period(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("due next tuesday", D(2026, 11, 3)),  # documented: the first Tuesday after today
        ("due tuesday", D(2026, 11, 3)),
        ("by dec 3rd", D(2026, 12, 3)),
        ("launching 14 march 2027", D(2027, 3, 14)),
        ("due 12/15/2026", D(2026, 12, 15)),
        ("go live on the 20th", D(2026, 11, 20)),
    ],
)
def test_single_dates(text: str, day: dt.date) -> None:
    assert find_date(text, TODAY) == day
