"""A campaign planned over a day range runs to the range's last day (phrasings written 2026-12-07 before the code)."""

from __future__ import annotations

import datetime as dt

import pytest

from agents.offline import HashingEncoder, OfflineModel
from agents.offline.dates import find_day_range
from agents.offline.transcript import PlanContext
from tests.agents.offline.requests import TODAY, Conversation, campaign_list

NOV_2 = TODAY  # 2026-11-02


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("a trade fair mar 9-12 2027", (dt.date(2027, 3, 9), dt.date(2027, 3, 12))),
        ("from 14 to 16 april", (dt.date(2027, 4, 14), dt.date(2027, 4, 16))),  # no year: the next April
        ("nov 20-22", (dt.date(2026, 11, 20), dt.date(2026, 11, 22))),  # this month is still ahead
        ("launching 2027-03-01", None),
        ("jun 9-3 2027", None),  # backwards: no range
    ],
)
def test_day_ranges(text: str, span: tuple[dt.date, dt.date] | None) -> None:
    assert dt.date(2026, 11, 2) == NOV_2  # the ranges above are read from this day
    assert find_day_range(text, NOV_2) == span


class _Forced(OfflineModel):
    def __init__(self) -> None:
        super().__init__(HashingEncoder())

    def _intent(self, text: str, agent: str, ctx: PlanContext) -> str:
        return "create_campaign"


def test_a_campaign_over_a_day_range_gets_its_end_date() -> None:
    conv = Conversation("production", "new event campaign 'Harbor Expo' tier 3, budget 4k, running mar 9-12 2027")
    model = _Forced()
    response = model.respond(conv.request())
    for _ in range(3):
        if not response.tool_uses or response.tool_uses[0].name == "spine__create_campaign":
            break
        conv.answer(response, {"spine__list_campaigns": campaign_list()})
        response = model.respond(conv.request())
    assert [u.name for u in response.tool_uses] == ["spine__create_campaign"], response.text
    args = response.tool_uses[0].input
    assert (args["launch_date"], args["end_date"]) == ("2027-03-09", "2027-03-12")
