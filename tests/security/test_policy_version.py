"""Attack: use an approval granted under older, laxer policies after the rules changed. The approval records the
policy version; a different version re-checks the call, which then needs a new approval from the group the new
rules ask for."""

from __future__ import annotations

import shutil
from pathlib import Path

from mcc.settings import load_settings
from mcc.wiring import App
from spine.approvals import ApprovalStore
from tests.security.world import CAMPAIGN, approved, call, campaigns_named

POLICIES = Path(__file__).resolve().parents[2] / "policies" / "cedar"


def _app_with_policies(app: App, tmp_path: Path, edit: tuple[str, str] | None) -> App:
    directory = tmp_path / "policies"
    shutil.copytree(POLICIES, directory)
    rules = directory / "mcc.cedar"
    text = rules.read_text(encoding="utf-8")
    if edit is not None:
        assert edit[0] in text
        text = text.replace(edit[0], edit[1])
    rules.write_text(text + "\n// reviewed\n", encoding="utf-8")
    settings = load_settings(home=app.settings.home, policy_mode="enforce", policy_dir=directory)
    return App(settings=settings, engine=app.engine, sessions=app.sessions)


async def test_an_approval_is_stamped_with_the_policy_version(app: App) -> None:
    aid = await approved(app)
    assert ApprovalStore(app.sessions).get("acme", aid).policy_version == app.policy_engine.version


VP_OVER_100K = 'greaterThan(decimal("100000.0000"))'
LEADERSHIP_LIFT = 'unless { ["marketing-leadership", "vp"].contains(context.approved_group) };'


async def test_after_the_vp_threshold_drops_a_leadership_approval_asks_for_a_vp(app: App, tmp_path: Path) -> None:
    aid = await approved(app)  # marketing-leadership approved EUR 42,000 under the old rules
    stricter = _app_with_policies(app, tmp_path, (VP_OVER_100K, 'greaterThan(decimal("40000.0000"))'))
    assert stricter.policy_engine.version != app.policy_engine.version
    ok, answer = await call(stricter, "maya.chen", "spine", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert ok and answer["status"] == "approval_required" and answer["required_group"] == "vp"
    assert answer["approval_id"] != aid and campaigns_named(app, CAMPAIGN["name"]) == []
    ok, _ = await call(stricter, "victor.hale", "spine", "resolve_approval",
                       {"approval_id": answer["approval_id"], "decision": "approve"})  # fmt: skip
    assert ok
    ok, created = await call(stricter, "maya.chen", "spine", "create_campaign",
                             {**CAMPAIGN, "approval_id": answer["approval_id"]})  # fmt: skip
    assert ok and campaigns_named(app, CAMPAIGN["name"]) == [created["id"]]


async def test_a_policy_change_that_still_asks_for_the_same_group_keeps_the_approval(app: App, tmp_path: Path) -> None:
    aid = await approved(app)
    reworded = _app_with_policies(app, tmp_path, None)
    assert reworded.policy_engine.version != app.policy_engine.version
    ok, created = await call(reworded, "maya.chen", "spine", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert ok and created["name"] == CAMPAIGN["name"]


async def test_a_policy_change_that_forbids_the_call_denies_the_approved_call(app: App, tmp_path: Path) -> None:
    aid = await approved(app)
    closed = _app_with_policies(app, tmp_path, (LEADERSHIP_LIFT, "unless { false };"))
    ok, text = await call(closed, "maya.chen", "spine", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert not ok or text["status"] == "approval_required"
    assert campaigns_named(app, CAMPAIGN["name"]) == []
