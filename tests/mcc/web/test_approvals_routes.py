"""The approvals inbox over HTTP: authorization of every route (anonymous, read-only, other tenant, self-approval,
wrong group), CSRF on the forms, approve / reject / approve-with-edits / delegation, and the live status."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from mcp import Client

from mcc.approvals_service import desk
from mcc.wiring import App
from mcp_servers.guard.identity import FixedPrincipal
from tests.mcc.web.conftest import csrf_of

Signed = Callable[..., TestClient]
SQLITE_ONLY = True  # HTTP behaviour; the domain rules behind it run on SQLite and PostgreSQL in tests/spine


def _campaign(amount: str, currency: str = "EUR") -> dict[str, Any]:
    return {"name": f"Harbour Expo {uuid.uuid4().hex[:6]}", "type": "standard", "tier": 2,
            "launch_date": "2027-10-04", "owner_id": "maya.chen",
            "budget_planned": {"amount": amount, "currency": currency}}  # fmt: skip


def _request(app: App, amount: str = "45000", user: str = "maya.chen") -> str:
    """A real approval: the guarded spine server holds maya's campaign create back."""

    async def go() -> Any:
        async with Client(app.spine_server(FixedPrincipal(app.principal(user)))) as client:
            return (await client.call_tool("create_campaign", _campaign(amount))).structured_content

    out = asyncio.run(go())
    assert out["status"] == "approval_required", out
    return str(out["approval_id"])


def _status(app: App, approval_id: str) -> str:
    return desk(app).get("acme", approval_id).status


def _post(client: TestClient, path: str, data: dict[str, str], *, token: bool = True) -> Any:
    if token:
        data = {**data, "csrf_token": csrf_of(client, "/campaigns")}
    return client.post(path, data=data)


def test_anonymous_is_sent_to_sign_in_and_api_calls_get_401(web_client: Callable[[], TestClient],
                                                            demo_app: App) -> None:  # fmt: skip
    aid = _request(demo_app)
    client = web_client()
    for path in ("/approvals", f"/approvals/{aid}"):
        page = client.get(path)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert client.get(f"/approvals/{aid}/status", headers={"Accept": "application/json"}).status_code == 401
    assert client.post(f"/approvals/{aid}/decide", data={"decision": "approve"}).status_code == 403  # no CSRF token
    assert _status(demo_app, aid) == "pending"


def test_read_only_and_requesting_users_cannot_use_the_inbox(signed_in: Signed, demo_app: App) -> None:
    aid = _request(demo_app)
    sam = signed_in("sam.taylor")
    assert sam.get("/approvals").status_code == 403
    assert _post(sam, f"/approvals/{aid}/decide", {"decision": "approve"}).status_code == 403
    assert sam.get(f"/approvals/{aid}/status", headers={"Accept": "application/json"}).status_code == 403
    maya = signed_in("maya.chen")  # the requester: sees the status, never decides
    assert maya.get(f"/approvals/{aid}/status").json()["status"] == "pending"
    assert _post(maya, f"/approvals/{aid}/decide", {"decision": "approve"}).status_code == 403
    assert _status(demo_app, aid) == "pending"


def test_another_tenant_gets_not_found_and_changes_nothing(signed_in: Signed, demo_app: App) -> None:
    aid = _request(demo_app)
    hank = signed_in("hank.scorpio", tenant="globex")  # a VP, of globex
    assert hank.get(f"/approvals/{aid}").status_code == 404
    assert hank.get(f"/approvals/{aid}/status", headers={"Accept": "application/json"}).status_code == 404
    assert _post(hank, f"/approvals/{aid}/decide", {"decision": "approve"}).status_code == 404
    assert aid not in hank.get("/approvals").text
    assert _status(demo_app, aid) == "pending"


def test_self_approval_is_neither_offered_nor_accepted(signed_in: Signed, demo_app: App) -> None:
    own = desk(demo_app).request("acme", "spine", "create_campaign", _campaign("45000"), "dana.reyes",
                                 "marketing-leadership", "budget over 10k", ["budget.leadership_approval"])  # fmt: skip
    dana = signed_in("dana.reyes")
    assert own.approval_id not in dana.get("/approvals").text
    assert "you requested it" in dana.get(f"/approvals/{own.approval_id}").text
    denied = _post(dana, f"/approvals/{own.approval_id}/decide", {"decision": "approve"})
    assert denied.status_code == 403
    edit = _post(dana, f"/approvals/{own.approval_id}/edit", {"f:arguments.budget_planned.amount": "20000"})
    assert edit.status_code == 403
    assert _status(demo_app, own.approval_id) == "pending"


def test_a_vp_approval_is_not_offered_to_leadership_and_is_refused(signed_in: Signed, demo_app: App) -> None:
    aid = _request(demo_app, "150000")
    assert desk(demo_app).get("acme", aid).required_group == "vp"
    dana = signed_in("dana.reyes")
    assert aid not in dana.get("/approvals").text
    assert dana.get(f"/approvals/{aid}").status_code == 403
    assert _post(dana, f"/approvals/{aid}/decide", {"decision": "approve"}).status_code == 403
    assert aid in signed_in("victor.hale").get("/approvals").text  # the VP sees it
    assert _status(demo_app, aid) == "pending"


def test_forms_without_or_with_a_wrong_csrf_token_are_refused(signed_in: Signed, demo_app: App) -> None:
    aid = _request(demo_app)
    dana = signed_in("dana.reyes")
    assert _post(dana, f"/approvals/{aid}/decide", {"decision": "approve"}, token=False).status_code == 403
    bad = dana.post(f"/approvals/{aid}/decide", data={"decision": "approve", "csrf_token": "x" * 43})
    assert bad.status_code == 403
    ends = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    no_token = _post(dana, "/approvals/delegations", {"delegate": "victor.hale", "ends_at": ends}, token=False)
    assert no_token.status_code == 403
    assert _status(demo_app, aid) == "pending"


def test_the_inbox_shows_the_call_and_an_approver_approves_with_a_note(signed_in: Signed, demo_app: App) -> None:
    aid = _request(demo_app)
    dana = signed_in("dana.reyes")
    page = dana.get("/approvals").text
    assert aid in page and "45,000 EUR" in page and "(USD 48,600.00)" in page
    assert "maya.chen" in page and "budget.leadership_approval" in page and "the call does not run" in page
    done = _post(dana, f"/approvals/{aid}/decide", {"decision": "approve", "note": "fits Q4"})
    assert done.status_code == 303 and done.headers["location"] == f"/approvals?done={aid}"
    status = dana.get(f"/approvals/{aid}/status").json()
    assert status["status"] == "approved" and status["resolved_by"] == "dana.reyes" and status["note"] == "fits Q4"
    again = _post(dana, f"/approvals/{aid}/decide", {"decision": "reject"})
    assert again.status_code == 409 and "not pending" in again.text


def test_approve_with_edits_over_the_web_stores_the_diff(signed_in: Signed, demo_app: App) -> None:
    aid = _request(demo_app, "45000")
    victor = signed_in("victor.hale")
    form = victor.get(f"/approvals/{aid}").text
    assert 'name="f:arguments.budget_planned.amount"' in form and 'name="f:arguments.launch_date"' in form
    raised = _post(victor, f"/approvals/{aid}/edit", {"f:arguments.budget_planned.amount": "50000"})
    assert raised.status_code == 400 and "not lower" in raised.text
    fields = {"f:arguments.budget_planned.amount": "30000", "f:arguments.launch_date": "2027-11-01", "note": "smaller"}
    done = _post(victor, f"/approvals/{aid}/edit", fields)
    assert done.status_code == 303
    status = signed_in("maya.chen").get(f"/approvals/{aid}/status").json()  # the requester sees the difference
    assert status["status"] == "approved"
    assert {(e["path"], e["before"], e["after"]) for e in status["edits"]} == {
        ("arguments.budget_planned.amount", "45000", "30000"), ("arguments.launch_date", "2027-10-04", "2027-11-01"),
    }  # fmt: skip
    assert status["arguments"]["budget_planned"]["amount"] == "30000"
    audit = demo_app.audit_log().tail("acme", limit=20)
    assert any(r.decision == "approved_with_edits" and r.approval_id == aid for r in audit)


def test_a_delegation_lets_leadership_decide_a_vp_approval_for_the_period(signed_in: Signed, demo_app: App) -> None:
    aid = _request(demo_app, "150000")
    victor, dana = signed_in("victor.hale"), signed_in("dana.reyes")
    ends = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    refused = _post(victor, "/approvals/delegations", {"delegate": "sam.taylor", "ends_at": ends})
    assert refused.status_code == 400 and "no group that may approve" in refused.text
    assert _post(victor, "/approvals/delegations", {"delegate": "dana.reyes", "ends_at": ends}).status_code == 303
    page = dana.get("/approvals").text
    assert aid in page and "for victor.hale (delegated)" in page
    assert _post(dana, f"/approvals/{aid}/decide", {"decision": "approve"}).status_code == 303
    a = desk(demo_app).get("acme", aid)
    assert a.status == "approved" and a.resolved_by == "dana.reyes" and a.on_behalf_of == "victor.hale"
    (d,) = [d for d in desk(demo_app).delegations.list("acme", "victor.hale") if d.revoked_at is None]
    assert _post(victor, f"/approvals/delegations/{d.id}/revoke", {}).status_code == 303
    assert re.search(r"revoked", victor.get("/approvals").text)


def test_the_event_stream_sends_the_final_status(signed_in: Signed, demo_app: App) -> None:
    aid = _request(demo_app)
    desk(demo_app).resolve_as("acme", aid, "dana.reyes", ["marketing-leadership"], "reject", "not this quarter")
    with signed_in("maya.chen").stream("GET", f"/approvals/{aid}/events") as resp:
        assert resp.status_code == 200
        body = "".join(resp.iter_text())
    assert "event: status\r\n" in body and '"status": "rejected"' in body
    assert "event: status_text\r\ndata: rejected" in body and "retry: 3600000" in body


def test_the_running_server_sweeps_approvals_in_the_background(demo_app: App, tmp_path: Any) -> None:
    import time

    from mcc.web.app import create_web_app
    from mcc.web.throttle import MemoryCounters
    from tests.agents.graph.support import ScriptedModel
    from tests.mcc.web.conftest import FAST_PASSWORDS, web_settings

    aid = _request(demo_app)
    fast = App(settings=web_settings(tmp_path, approvals_sweep_seconds=0.05), engine=demo_app.engine,
               sessions=demo_app.sessions)  # fmt: skip
    web = create_web_app(fast, passwords=FAST_PASSWORDS, throttle_store=MemoryCounters())
    web.state.chat_model = ScriptedModel({})  # the chat's lifespan runs too: no model to load for this test
    with TestClient(web):  # the lifespan runs: the periodic sweep starts
        for _ in range(200):  # wait (bounded) for the first pass; no timing assertion
            if desk(demo_app).get("acme", aid).notified_at is not None:
                break
            time.sleep(0.05)
    assert desk(demo_app).get("acme", aid).notified_at is not None


def test_the_chat_card_shows_the_requester_what_the_approver_changed() -> None:
    from mcc.web.chat_views import approval_card
    from mcc.web.rendering import build_templates

    edits = [{"path": "arguments.budget_planned.amount", "kind": "lowered", "before": "45000", "after": "30000"}]
    record = {"approval_id": "a" * 36, "status": "approved", "tool": "create_campaign", "resolved_by": "dana.reyes",
              "edits": edits}  # fmt: skip
    html = build_templates().env.get_template("chat/_approval.html").render(approval=approval_card(record, "t" * 32))
    assert "Approved with edits: budget_planned.amount 45000 → 30000" in html
