"""Chat routes through the real HTTP surface (sign-in, CSRF middleware, SSE), on the real database and guarded
in-process MCP servers; the model is the scripted test double of the external LLM.

One ``TestClient`` runs the app's lifespan (the chat service lives on its event loop); switching users signs the
same client out and in again, like a shared browser."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mcc.web.app import create_web_app
from mcc.web.throttle import MemoryCounters
from mcc.wiring import App
from spine.approvals import ApprovalStore
from tests.agents.graph.support import ScriptedModel, call, campaign_args, route, say
from tests.mcc.web.conftest import FAST_PASSWORDS, csrf_of, sign_in_as

_THREAD = re.compile(r"/chat/([0-9a-f]{32})")
_TURN_EVENTS = re.compile(r'sse-connect="(/chat/[0-9a-f]{32}/turns/[0-9a-f]{32}/events)"')


def _script() -> ScriptedModel:
    return ScriptedModel({
        "supervisor": [route(("analytics", "how many campaigns?")), route(("production", "create Web Launch")),
                       say("Web Launch still waits for marketing-leadership.")],
        "analytics": [call("spine__list_campaigns", limit=100), say("There are 12 campaigns.")],
        "production": [call("spine__create_campaign", **campaign_args("Web Launch", "25000")),
                       say("Web Launch is created.")],
    })  # fmt: skip


@pytest.fixture
def client(demo_app: App) -> Iterator[TestClient]:
    web = create_web_app(demo_app, passwords=FAST_PASSWORDS, throttle_store=MemoryCounters())
    web.state.chat_model = _script()
    with TestClient(web, base_url="http://testserver", follow_redirects=False) as c:
        yield c


def as_user(client: TestClient, user_id: str, tenant: str = "acme") -> str:
    """Sign the client in as ``user_id`` (a fresh session); returns its CSRF token."""
    client.cookies.clear()
    sign_in_as(client, user_id, tenant)
    return csrf_of(client, "/chat")


def start_thread(client: TestClient, token: str, message: str) -> str:
    sent = client.post("/chat", data={"message": message, "csrf_token": token})
    assert sent.status_code == 303, sent.text[:300]
    match = _THREAD.fullmatch(sent.headers["location"])
    assert match
    return match.group(1)


def follow_turn(client: TestClient, page_html: str) -> str:
    """The SSE body of the live turn a page or fragment connects to (the turn runs to its end)."""
    url = _TURN_EVENTS.search(page_html)
    assert url, page_html[-1500:]
    with client.stream("GET", url.group(1)) as events:
        assert events.status_code == 200 and events.headers["content-type"].startswith("text/event-stream")
        return "".join(events.iter_text())


def test_anonymous_requests_are_sent_to_sign_in_and_never_reach_a_thread(client: TestClient) -> None:
    for path in ("/chat", "/chat/" + "a" * 32, "/chat/" + "a" * 32 + "/turns/" + "b" * 32 + "/events"):
        page = client.get(path)
        assert page.status_code == 303 and page.headers["location"].startswith("/login"), path
        assert client.get(path, headers={"HX-Request": "true"}).status_code == 401
    token = csrf_of(client)  # an anonymous session's token passes CSRF but not sign-in
    sent = client.post("/chat", data={"message": "hi", "csrf_token": token})
    assert sent.status_code == 303 and sent.headers["location"].startswith("/login")


def test_posts_without_the_sessions_csrf_token_are_refused_before_anything_runs(client: TestClient) -> None:
    token = as_user(client, "maya.chen")
    for data in ({"message": "how many campaigns?"}, {"message": "how many campaigns?", "csrf_token": "forged"}):
        refused = client.post("/chat", data=data)
        assert refused.status_code == 403 and "CSRF" in refused.text
    refused = client.post("/chat/" + "a" * 32 + "/messages", data={"message": "x"}, headers={"X-CSRF-Token": "no"})
    assert refused.status_code == 403
    assert "Your conversations" in client.get("/chat").text and "No conversations yet" in client.get("/chat").text
    start_thread(client, token, "how many campaigns?")  # the same post with the token is accepted


def test_a_message_streams_over_sse_and_the_thread_is_only_its_users(client: TestClient) -> None:
    token = as_user(client, "maya.chen")
    thread = start_thread(client, token, "how many campaigns?")
    page = client.get(f"/chat/{thread}")
    assert page.status_code == 200 and "how many campaigns?" in page.text
    body = follow_turn(client, page.text)
    assert "event: activity" in body and "list_campaigns" in body and "allowed" in body
    assert "event: token" in body and body.index("event: token") < body.index("event: final")
    assert body.rstrip().endswith("event: done\r\ndata:") or "event: done" in body
    assert "There are 12 campaigns." in body.split("event: final", 1)[1]
    done = client.get(f"/chat/{thread}")
    assert "There are 12 campaigns." in done.text and "sse-connect" not in done.text
    listing = client.get("/chat")
    assert f"/chat/{thread}" in listing.text
    turn_url = _TURN_EVENTS.search(page.text).group(1)  # type: ignore[union-attr]
    for user, tenant in (("omar.farouk", "acme"), ("hank.scorpio", "globex")):
        other = as_user(client, user, tenant)
        assert client.get(f"/chat/{thread}").status_code == 404
        assert client.get(turn_url).status_code == 404
        posted = client.post(f"/chat/{thread}/messages", data={"message": "mine now", "csrf_token": other})
        assert posted.status_code == 404
        assert f"/chat/{thread}" not in client.get("/chat").text


def test_an_approval_shows_inline_and_the_conversation_continues_once_approved(
    client: TestClient, demo_app: App
) -> None:
    token = as_user(client, "maya.chen")
    start_thread(client, token, "how many campaigns?")  # the script's first supervisor step
    thread = start_thread(client, token, "create Web Launch with a $25k budget")
    body = follow_turn(client, client.get(f"/chat/{thread}").text)
    assert "event: approval" in body and "needs approval" in body and "marketing-leadership" in body
    page = client.get(f"/chat/{thread}").text
    approval_id = re.search(r'id="approval-([0-9a-f-]{36})"', page).group(1)  # type: ignore[union-attr]
    status_url = f"/chat/{thread}/approvals/{approval_id}"
    assert f'hx-get="{status_url}"' in page and 'hx-trigger="every 2s"' in page
    card = client.get(status_url, headers={"HX-Request": "true"})
    assert card.status_code == 200 and 'data-status="pending"' in card.text and "sse-connect" not in card.text
    meanwhile = client.post(f"/chat/{thread}/messages", data={"message": "and?", "csrf_token": token})
    assert meanwhile.status_code == 303  # answered while the call keeps waiting on its approval
    page = client.get(f"/chat/{thread}").text
    # the side turn may have finished before the page is read: then the page itself shows its answer
    answered = follow_turn(client, page) if _TURN_EVENTS.search(page) else page
    assert "Web Launch still waits for marketing-leadership." in answered and approval_id in answered
    assert f'id="approval-{approval_id}"' in client.get(f"/chat/{thread}").text  # its card still shows
    ApprovalStore(demo_app.sessions).resolve("acme", approval_id, "dana.reyes", ["marketing-leadership"], "approve")
    card = client.get(status_url, headers={"HX-Request": "true"})
    assert 'data-status="approved"' in card.text and 'hx-swap-oob="beforeend:#turns"' in card.text
    # a second poll never starts a second run: it follows the same resumed turn, or shows its finished answer
    again = client.get(status_url, headers={"HX-Request": "true"})
    turn_of, again_of = _TURN_EVENTS.search(card.text), _TURN_EVENTS.search(again.text)
    assert turn_of and (again_of.group(1) == turn_of.group(1) if again_of else "Web Launch is created." in again.text)
    resumed = follow_turn(client, card.text)
    assert "Web Launch is created." in resumed.split("event: final", 1)[1]
    assert "Web Launch is created." in client.get(f"/chat/{thread}").text
    done = client.get(status_url, headers={"HX-Request": "true"})  # nothing waits any more: the answer, no new run
    assert "sse-connect" not in done.text and "Web Launch is created." in done.text
    hank = as_user(client, "hank.scorpio", "globex")
    assert hank and client.get(status_url).status_code == 404
