"""Which strategy action a request asks for: a review asked for is a submit even when the user also sounds pleased
(phrasings written 2026-12-07 before the change)."""

from __future__ import annotations

import pytest

from agents.offline.plans.strategy import strategy_action


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("nice work, pass it on to leadership to review", "submit"),
        ("great, put it up for review", "submit"),
        ("this is fine, submit the draft", "submit"),
        ("looks good to me, I approve it", "approve"),
        ("sign off on the brand awareness strategy", "approve"),
        ("accept the roadshow messaging plan", "approve"),
        ("send back the webinar strategy, the tone is off", "reject"),
        ("decline it: it misses the email channel", "reject"),
        ("send the summit strategy", "submit"),
    ],
)
def test_the_action_a_request_asks_for(text: str, action: str) -> None:
    assert strategy_action(text) == action
