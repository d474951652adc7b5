"""`mcc demo` ends with a scripted conversation through the real agent stack: checked from its JSON output and
from the end state of the spine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mcc.settings import load_settings
from mcc.wiring import open_app
from spine.repositories import open_store

pytestmark = pytest.mark.slow


def _calls(turn: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["server"], c["tool"], c["result_status"]) for c in turn["tool_calls"]]


def test_the_demo_shows_routing_tools_a_cited_answer_and_an_approval(demo_home: tuple[Path, dict[str, Any]]) -> None:
    home, out = demo_home
    turns = out["conversation"]
    performance, playbook, create, resumed = turns
    assert performance["route"] == ["analytics"]
    assert ("spine", "performance_summary", "ok") in _calls(performance) and "ROAS" in performance["reply"]
    assert playbook["route"] == ["knowledge"] and "16 weeks" in playbook["reply"]
    assert "tier-1-campaign-playbook §" in playbook["reply"]
    assert create["route"] == ["production"] and create["waiting"]
    assert ("spine", "create_campaign", "approval_required") in _calls(create)
    assert [a["status"] for a in create["approvals"]] == ["pending"]
    assert resumed["said"] is None and not resumed["waiting"]
    assert ("spine", "create_campaign", "ok") in _calls(resumed)
    with open_app(load_settings(home=home)) as app, open_store(app.sessions, "acme") as store:
        made = [c for c in store.campaigns.list(limit=500) if c.name == "Holiday Retargeting"]
    assert len(made) == 1 and made[0].budget_planned.amount == 25000 and "workfront" in made[0].external_refs
