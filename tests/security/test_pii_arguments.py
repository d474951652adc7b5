"""Attack: personal data sent in the arguments of a write to the spine (our own store), where before only external
systems were checked. Card numbers and SSNs are refused before anything is stored or held for approval; emails and
phone numbers in the spine's free text are masked, and the masked call is the one approved and stored."""

from __future__ import annotations

from typing import Any

from mcc.wiring import App
from spine.repositories import open_store
from tests.security.conftest import audit_rows, call

CAMPAIGN = {"name": "Leaky Launch", "type": "standard", "tier": 2, "launch_date": "2027-06-01",
            "owner_id": "maya.chen"}  # fmt: skip
BIG = {"budget_planned": {"amount": "42000", "currency": "EUR"}}


def campaigns(app: App, name: str) -> list[Any]:
    with open_store(app.sessions, "acme") as store:
        return [c for c in store.campaigns.list(limit=500) if c.name == name]


async def test_an_ssn_in_a_campaign_description_is_refused_and_nothing_is_stored(app: App) -> None:
    ok, text = await call(app, "maya.chen", "spine", "create_campaign",
                          {**CAMPAIGN, "description": "Speaker SSN 219-09-9999"})  # fmt: skip
    assert not ok and "[denied]" in text and "ssn at $.description" in text and "219-09" not in text
    assert campaigns(app, "Leaky Launch") == []
    row = audit_rows(app, "create_campaign")[-1]
    assert row.decision == "deny" and "pii.stored_arguments" in row.rule_ids


async def test_an_ssn_in_a_call_that_needs_approval_is_refused_not_held_for_approval(app: App) -> None:
    ok, text = await call(app, "maya.chen", "spine", "create_campaign",
                          {**CAMPAIGN, **BIG, "description": "card 4111 1111 1111 1111"})  # fmt: skip
    assert not ok and "[denied]" in text and "card at $.description" in text
    ok, listed = await call(app, "dana.reyes", "spine", "list_approvals", {"status": None})
    assert ok and not [a for a in listed["approvals"] if a["arguments"].get("name") == "Leaky Launch"]


async def test_obfuscated_card_in_an_update_and_an_ssn_in_a_strategy_are_refused(app: App) -> None:
    camp = next(c for c in campaigns_of(app) if c.owner_id == "maya.chen")
    disguised = "pay with 4111\u00a01111\u200b1111.1111"  # non-breaking space, zero-width space, dot
    ok, text = await call(app, "maya.chen", "spine", "update_campaign", {
        "campaign_id": camp.id, "expected_version": camp.version, "changes": {"description": disguised}})  # fmt: skip
    assert not ok and "card at $.changes.description" in text
    with open_store(app.sessions, "acme") as store:
        assert store.campaigns.get(camp.id).version == camp.version
    strategy = {"campaign_id": camp.id, "type": "messaging", "title": "Leaky brief",
                "content": {"sections": [{"heading": "Owner", "body": "SSN: １２３‐４５‐６７８９"}]}}  # fmt: skip
    ok, text = await call(app, "maya.chen", "spine", "draft_strategy", strategy)
    assert not ok and "[denied]" in text and "ssn at $.content.sections[0].body" in text


def campaigns_of(app: App) -> list[Any]:
    with open_store(app.sessions, "acme") as store:
        return list(store.campaigns.list(limit=100))


async def test_an_ssn_in_an_approval_note_is_refused_and_the_approval_stays_pending(app: App) -> None:
    ok, pending = await call(app, "maya.chen", "spine", "create_campaign", {**CAMPAIGN, **BIG})
    assert ok and pending["status"] == "approval_required"
    ok, text = await call(app, "dana.reyes", "spine", "resolve_approval", {
        "approval_id": pending["approval_id"], "decision": "approve", "note": "ok, my SSN is 219 09 9999"})  # fmt: skip
    assert not ok and "ssn at $.note" in text
    ok, row = await call(app, "dana.reyes", "spine", "get_approval", {"approval_id": pending["approval_id"]})
    assert ok and row["status"] == "pending" and row["note"] is None


async def test_emails_and_phones_in_spine_free_text_are_masked_before_they_are_stored(app: App) -> None:
    press = "Press: ana.lima@press.example.com, +1 415 555 0134"
    ok, created = await call(app, "maya.chen", "spine", "create_campaign", {**CAMPAIGN, "description": press})
    assert ok and created["description"] == "Press: [REDACTED:email], [REDACTED:phone]"
    assert campaigns(app, "Leaky Launch")[0].description == "Press: [REDACTED:email], [REDACTED:phone]"
    allow = [r for r in audit_rows(app, "create_campaign") if r.decision == "allow"][-1]
    assert allow.detail["redacted"] == ["email@$.description", "phone@$.description"]


async def test_the_approval_holds_the_masked_call_and_the_identical_resend_runs_it(app: App) -> None:
    sent = {**CAMPAIGN, **BIG, "description": "Agency contact ana.lima@press.example.com"}
    ok, pending = await call(app, "maya.chen", "spine", "create_campaign", sent)
    assert ok and pending["status"] == "approval_required"
    ok, held = await call(app, "dana.reyes", "spine", "get_approval", {"approval_id": pending["approval_id"]})
    assert ok and held["arguments"]["description"] == "Agency contact [REDACTED:email]"
    ok, _ = await call(app, "dana.reyes", "spine", "resolve_approval",
                       {"approval_id": pending["approval_id"], "decision": "approve"})  # fmt: skip
    assert ok
    ok, created = await call(app, "maya.chen", "spine", "create_campaign",
                             {**sent, "approval_id": pending["approval_id"]})  # fmt: skip
    assert ok and created["description"] == "Agency contact [REDACTED:email]"
    assert len(campaigns(app, "Leaky Launch")) == 1
