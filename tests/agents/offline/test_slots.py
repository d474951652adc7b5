"""Slot extraction tables: money, currencies, dates and periods, tiers, channels, systems, campaign types, task
statuses, names, people; fuzzy campaign matching."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from agents.offline.dates import add_months, find_date, find_dates, find_period
from agents.offline.matching import Person, best_match, match_names, match_person
from agents.offline.slots import (
    asana_completed,
    find_all_money,
    find_campaign_type,
    find_channels,
    find_currency,
    find_money,
    find_new_name,
    find_person,
    find_system,
    find_task_state,
    find_tier,
    find_uuid,
    quoted,
    workfront_status,
)

TODAY = dt.date(2026, 11, 2)  # Monday
D = dt.date


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("a $25k budget", "25000", "USD"),
        ("budget 25,000 USD", "25000", "USD"),
        ("€40k for events", "40000", "EUR"),
        ("40000 eur", "40000", "EUR"),
        ("£5m", "5000000", "GBP"),
        ("$1.5 million", "1500000", "USD"),
        ("USD 12,500.50", "12500.50", "USD"),
        ("30k budget", "30000", "USD"),
        ("a budget of 9000", "9000", "USD"),
        ("15k pounds", "15000", "GBP"),
        ("¥2,000,000", "2000000", "JPY"),
        ("budget: 120000 CAD", "120000", "CAD"),
    ],
)
def test_money(text: str, amount: str, currency: str) -> None:
    money = find_money(text)
    assert money is not None, text
    assert money.amount == Decimal(amount) and money.currency == currency
    assert money.as_arg() == {"amount": format(Decimal(amount).normalize(), "f"), "currency": currency}


@pytest.mark.parametrize(
    "text",
    ["tier 2 campaign launching in 2 weeks", "Q1 2027 launch", "add 3 tasks", "the 2026 summit", "5 minutes late"],
)
def test_no_money_where_there_is_none(text: str) -> None:
    assert find_money(text) is None


def test_all_money_in_order_and_currency_alone() -> None:
    assert [m.currency for m in find_all_money("€40k now and $5k later")] == ["EUR", "USD"]
    assert find_currency("report it in euros") == "EUR"
    assert find_currency("in GBP please") == "GBP"
    assert find_currency("no currency here") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("due next Friday", D(2026, 11, 6)),  # first Friday after Monday 2 Nov
        ("due Friday", D(2026, 11, 6)),
        ("by tomorrow", D(2026, 11, 3)),
        ("today", TODAY),
        ("in 2 weeks", D(2026, 11, 16)),
        ("in two weeks", D(2026, 11, 16)),
        ("in a month", D(2026, 12, 2)),
        ("3 days from now", D(2026, 11, 5)),
        ("March 3", D(2027, 3, 3)),  # already past this year: next year
        ("Mar 3rd", D(2027, 3, 3)),
        ("3 March", D(2027, 3, 3)),
        ("December 24", D(2026, 12, 24)),
        ("June 10, 2027", D(2027, 6, 10)),
        ("2027-01-15", D(2027, 1, 15)),
        ("by the end of the month", D(2026, 11, 30)),
        ("end of next month", D(2026, 12, 31)),
        ("end of the quarter", D(2026, 12, 31)),
        ("end of the year", D(2026, 12, 31)),
        ("by end of week", D(2026, 11, 6)),
        ("in Q1", D(2026, 3, 31)),
        ("Q1 2027", D(2027, 3, 31)),
        ("next week", D(2026, 11, 9)),
        ("next month", D(2026, 12, 1)),
        ("last Friday", D(2026, 10, 30)),
        ("next Monday", D(2026, 11, 9)),  # strictly after today, a Monday
    ],
)
def test_dates_resolve_against_today(text: str, expected: dt.date) -> None:
    assert find_date(text, TODAY) == expected


def test_dates_past_preference_and_invalid_days() -> None:
    assert find_date("since March 3", TODAY, prefer="past") == D(2026, 3, 3)
    assert find_date("February 30", TODAY) is None  # not a calendar date: no guess
    assert find_date("2027-02-30", TODAY) is None
    assert find_date("the launch team", TODAY) is None  # "mon" inside a word is no weekday
    spans = find_dates("from March 3 to 2027-04-30", TODAY)
    assert [d.date for d in spans] == [D(2027, 3, 3), D(2027, 4, 30)]
    assert add_months(D(2027, 1, 31), 1) == D(2027, 2, 28)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("last month", (D(2026, 10, 1), D(2026, 10, 31))),
        ("this month", (D(2026, 11, 1), D(2026, 11, 30))),
        ("this quarter", (D(2026, 10, 1), D(2026, 12, 31))),
        ("last quarter", (D(2026, 7, 1), D(2026, 9, 30))),
        ("last 30 days", (D(2026, 10, 4), TODAY)),
        ("past 2 weeks", (D(2026, 10, 20), TODAY)),
        ("last week", (D(2026, 10, 26), D(2026, 11, 1))),
        ("year to date", (D(2026, 1, 1), TODAY)),
        ("last year", (D(2025, 1, 1), D(2025, 12, 31))),
        ("in Q1", (D(2026, 1, 1), D(2026, 3, 31))),
        ("Q3 2025", (D(2025, 7, 1), D(2025, 9, 30))),
        ("in March", (D(2026, 3, 1), D(2026, 3, 31))),
        ("in December", (D(2025, 12, 1), D(2025, 12, 31))),  # not yet this year: last December
        ("since March 3", (D(2026, 3, 3), TODAY)),
        ("from 2026-01-01 to 2026-03-31", (D(2026, 1, 1), D(2026, 3, 31))),
    ],
)
def test_periods(text: str, expected: tuple[dt.date, dt.date]) -> None:
    assert find_period(text, TODAY) == expected


def test_no_period() -> None:
    assert find_period("how is the summit doing", TODAY) is None


@pytest.mark.parametrize(
    ("text", "tier"),
    [("tier 1", 1), ("Tier-2 launch", 2), ("a tier three event", 3), ("T2", 2), ("t1 campaign", 1), ("no tier", None),
     ("tier 4", None), ("the 2nd tier", None)],
)  # fmt: skip
def test_tier(text: str, tier: int | None) -> None:
    assert find_tier(text) == tier


@pytest.mark.parametrize(
    ("text", "channels"),
    [
        ("email and paid media", ["email", "paid_media"]),
        ("LinkedIn ads and a landing page", ["paid_media", "social", "web"]),
        ("newsletter, trade shows and through partners", ["email", "events", "partner"]),
        ("an event campaign", []),  # the type is no channel
        ("a partner campaign", []),
    ],
)
def test_channels(text: str, channels: list[str]) -> None:
    assert find_channels(text) == channels


def test_system_and_uuid() -> None:
    assert find_system("create it in Asana") == "asana"
    assert find_system("the Workfront project") == "workfront"
    assert find_system("in our tool") is None
    assert find_uuid("Explain approval 9B1D2C3E-1111-4222-8333-444455556666 please") == (
        "9b1d2c3e-1111-4222-8333-444455556666"
    )


@pytest.mark.parametrize(
    ("text", "name", "kind"),
    [
        ("create an event campaign 'Berlin Meetup'", "Berlin Meetup", "event"),
        ("a partner campaign with Contoso", None, "partner"),
        ("new product launch campaign for Analytics 2.0", None, "product_launch"),
        ("a co-marketing campaign", None, "partner"),
        ("set up a standard campaign", None, "standard"),
        ("campaign for the developer conference", None, "event"),
        ("a campaign called Spring Webinar", "Spring Webinar", "event"),  # the name hints at an event
        ("campaign 'Winter Promo', tier 3", "Winter Promo", "standard"),
        ("campaign 'Acme Push', tier 3", "Acme Push", None),
    ],
)
def test_campaign_type(text: str, name: str | None, kind: str | None) -> None:
    found = find_new_name(text)
    if name is not None:
        assert found == name
    assert find_campaign_type(text, found) == kind


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("Mark 'Design banner' as complete", "complete"),
        ("it's done", "complete"),
        ("close out the task", "complete"),
        ("set it to in progress", "in_progress"),
        ("we started working on it", "in_progress"),
        ("reopen the task", "new"),
        ("it isn't done after all", "new"),
        ("set it back to not started", "new"),
        ("what is it", None),
    ],
)
def test_task_state(text: str, state: str | None) -> None:
    assert find_task_state(text) == state


def test_status_codes() -> None:
    assert [workfront_status(s) for s in ("new", "in_progress", "complete")] == ["NEW", "INP", "CPL"]
    assert asana_completed("complete") is True and asana_completed("in_progress") is False


def test_quoted_and_new_names() -> None:
    assert [q.text for q in quoted("add 'Design banner' and \u201cBook venue\u201d, don't worry")] == [
        "Design banner",
        "Book venue",
    ]
    assert find_new_name("create a campaign named Always-On Retargeting with $5k") == "Always-On Retargeting"
    assert find_new_name("New campaign: Winter Promo, tier 3") == "Winter Promo"
    assert find_new_name("create a campaign for the launch") is None


@pytest.mark.parametrize(
    ("text", "person"),
    [
        ("assign 'Design banner' to Priya", "Priya"),
        ("Give the landing page build task to Leo Martins", "Leo Martins"),
        ("assign it to @maya.chen", "maya.chen"),
        ("Assign Priya to the landing page task", "Priya"),
        ("Let Leo handle the product video task", "Leo"),
        ("Make Sofia Rossi responsible for the catering", "Sofia Rossi"),
        ("mark it as done", None),
    ],
)
def test_person(text: str, person: str | None) -> None:
    assert find_person(text) == person


NAMES = [
    "Q1 Cloud Platform Launch", "Spring Partner Co-Marketing", "Customer Summit 2026", "Regional Roadshow EMEA",
    "Always-On Nurture Program", "Holiday Promotions 2025", "Developer Webinar Series", "AI Assistant Feature Launch",
    "Reseller Enablement Kit", "Brand Awareness Q2", "Mobile App 3.0 Launch", "Healthcare Vertical ABM",
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How is the Q1 Cloud Platform Launch doing?", "Q1 Cloud Platform Launch"),
        ("status of the summit project", "Customer Summit 2026"),
        ("the roadshow", "Regional Roadshow EMEA"),
        ("the Q1 launch", "Q1 Cloud Platform Launch"),
        ("the developer webinars", "Developer Webinar Series"),
        ("healthcare ABM push", "Healthcare Vertical ABM"),
        ("the mobile app launch", "Mobile App 3.0 Launch"),
        ("the Custmer Sumit", "Customer Summit 2026"),  # typos
        ("the nurture program", "Always-On Nurture Program"),
    ],
)
def test_campaign_fuzzy_match(text: str, expected: str) -> None:
    one, _ = best_match(text, NAMES)
    assert one is not None and one.name == expected


@pytest.mark.parametrize("text", ["performance in Q1", "spend in 2025", "how are the launches doing", "hello"])
def test_no_campaign_from_periods_or_generic_words(text: str) -> None:
    assert best_match(text, NAMES)[0] is None


def test_two_campaigns_and_spans() -> None:
    text = "Compare Q1 Cloud Platform Launch and Holiday Promotions 2025"
    found = match_names(text, NAMES)
    assert [m.name for m in found] == ["Q1 Cloud Platform Launch", "Holiday Promotions 2025"]
    assert text[found[0].spans[0][0] : found[0].spans[0][1]] == "Q1 Cloud Platform Launch"


def test_person_matching() -> None:
    people = [Person("u1", "Priya Natarajan", "priya.natarajan@acme.example.com"), Person("u2", "Leo Martins"),
              Person("u3", "Leo Park")]  # fmt: skip
    assert match_person("Priya", people)[0] == people[0]
    assert match_person("priya.natarajan", people)[0] == people[0]
    assert match_person("Leo Martins", people)[0] == people[1]
    one, some = match_person("Leo", people)
    assert one is None and len(some) == 2  # two Leos: ask
    assert match_person("Zed", people) == (None, [])
