"""Attacks that probe another tenant through ids: a guessed id of another tenant must be answered exactly like an
id that does not exist (same code, field and message shape: nothing confirms it exists elsewhere or names its
tenant), while the audit row keeps the real reason; people of another tenant are not accepted as stakeholders.
Real guarded servers over the demo world, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

from mcc.wiring import App
from spine.audit import AuditLog
from spine.repositories import open_store
from tests.security.conftest import call_as

SMALL = {"name": "Stakeholder Probe", "type": "standard", "tier": 3, "launch_date": "2027-06-01",
         "owner_id": "maya.chen", "budget_planned": {"amount": "900", "currency": "USD"}}  # fmt: skip


def same_shape(foreign: str, unknown: str, foreign_id: str, unknown_id: str) -> bool:
    return foreign.replace(foreign_id, "<id>") == unknown.replace(unknown_id, "<id>")


def acme_campaign(app: App, with_workfront: bool = False):  # type: ignore[no-untyped-def]
    with open_store(app.sessions, "acme") as store:
        return next(c for c in store.campaigns.list(limit=100) if not with_workfront or "workfront" in c.external_refs)


async def test_another_tenants_user_as_stakeholder_is_answered_like_an_unknown_user(app: App) -> None:
    ok_f, foreign = await call_as(app, "maya.chen", "spine", "create_campaign",
                                  {**SMALL, "stakeholder_ids": ["maya.chen", "frank.grimes"]})  # fmt: skip
    ok_u, unknown = await call_as(app, "maya.chen", "spine", "create_campaign",
                                  {**SMALL, "stakeholder_ids": ["maya.chen", "nobody.atall"]})  # fmt: skip
    assert not ok_f and not ok_u and "stakeholder_ids.1" in foreign
    assert same_shape(foreign, unknown, "frank.grimes", "nobody.atall") and "globex" not in foreign


async def test_a_stakeholder_update_is_validated_against_the_directory(app: App) -> None:
    target = acme_campaign(app)
    ok, err = await call_as(
        app,
        "maya.chen",
        "spine",
        "update_campaign",
        {
            "campaign_id": target.id,
            "expected_version": target.version,
            "changes": {"stakeholder_ids": ["frank.grimes"]},
        },
    )
    assert not ok and "stakeholder_ids.0" in err and "globex" not in err
    with open_store(app.sessions, "acme") as store:
        assert "frank.grimes" not in store.campaigns.get(target.id).stakeholder_ids


async def test_a_foreign_campaign_id_reads_like_an_unknown_one_and_the_audit_knows_why(app: App) -> None:
    theirs, guess = acme_campaign(app).id, str(uuid.uuid4())
    ok_f, foreign = await call_as(app, "frank.grimes", "spine", "get_campaign", {"campaign_id": theirs}, "globex")
    ok_u, unknown = await call_as(app, "frank.grimes", "spine", "get_campaign", {"campaign_id": guess}, "globex")
    assert not ok_f and not ok_u and "[not_found] campaign_id:" in foreign
    assert same_shape(foreign, unknown, theirs, guess) and "acme" not in foreign and "tenant" not in foreign
    rows = [r for r in AuditLog(app.sessions).tail("globex", 10) if r.tool == "get_campaign" and r.decision == "failed"]
    assert rows[-2].rule_ids == ["error.tenant_isolation"] and rows[-1].rule_ids == ["error.not_found"]


async def test_a_foreign_workfront_id_reads_like_an_unknown_one_and_the_audit_keeps_tenant_cross(app: App) -> None:
    theirs, guess = acme_campaign(app, with_workfront=True).external_refs["workfront"], uuid.uuid4().hex
    ok_f, foreign = await call_as(app, "frank.grimes", "workfront", "get_project", {"project_id": theirs}, "globex")
    ok_u, unknown = await call_as(app, "frank.grimes", "workfront", "get_project", {"project_id": guess}, "globex")
    assert not ok_f and not ok_u and "[not_found] project_id:" in foreign
    assert same_shape(foreign, unknown, theirs, guess) and "acme" not in foreign and "tenant" not in foreign
    denied = [r for r in AuditLog(app.sessions).tail("globex", 10) if r.tool == "get_project" and r.decision == "deny"]
    assert denied and "tenant.cross" in denied[-1].rule_ids and "acme" in denied[-1].detail["message"]
