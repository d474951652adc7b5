"""The webhook receiver over HTTP (Starlette test client), on SQLite and PostgreSQL: Asana handshake, signatures,
heartbeats; Workfront shared token; 401 / 400 / 404 store nothing; duplicates are stored once."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from connectors.asana.webhooks import sign
from spine.models import WebhookDelivery, WebhookSecret
from sync.receiver import Receiver, build_app
from sync.webhook_secrets import WebhookSecrets
from tests.sync.inbound_world import T0, TENANT, World, build_world, task_update, wf_event

WF_TOKEN = "wf-shared-token-0123456789abcdef"
HOOK_SECRET = "b537207f20cbfa02357cf448134da559"


def sealed_secrets(sessions: sessionmaker[Session]) -> WebhookSecrets:
    box = Fernet(Fernet.generate_key())
    return WebhookSecrets(sessions, lambda s: box.encrypt(s.encode()).decode(),
                          lambda _ref, ct: box.decrypt((ct or "").encode()).decode())  # fmt: skip


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)


@pytest.fixture
def queued() -> list[str]:
    return []


@pytest.fixture
def client(world: World, queued: list[str]) -> TestClient:
    secrets = sealed_secrets(world.sessions)
    secrets.set_secret(TENANT, "workfront", "default", WF_TOKEN)
    return TestClient(build_app(Receiver(world.sessions, secrets, queued.append)))


def stored(world: World) -> int:
    with world.sessions() as s:
        return s.scalar(select(func.count()).select_from(WebhookDelivery)) or 0


def asana_event(gid: str = "1200000000000001") -> bytes:
    ev = {"action": "changed", "resource": {"gid": gid, "resource_type": "task"},
          "change": {"field": "name", "action": "changed"}, "created_at": "2026-12-01T09:00:00.000Z"}  # fmt: skip
    return json.dumps({"events": [ev]}).encode()


def test_workfront_delivery_is_stored_once_and_queued(client: TestClient, world: World, queued: list[str]) -> None:
    body = task_update(world, 0, T0, {"status": "NEW"}, {"status": "INP"})
    r = client.post(f"/webhooks/workfront/{TENANT}", content=body, headers={"Authorization": f"Bearer {WF_TOKEN}"})
    assert r.status_code == 200 and r.json()["duplicate"] is False
    again = client.post(f"/webhooks/workfront/{TENANT}", content=body, headers={"Authorization": WF_TOKEN})
    assert again.status_code == 200 and again.json() == {"inbox_id": r.json()["inbox_id"], "duplicate": True}
    assert stored(world) == 1 and queued == [r.json()["inbox_id"]]
    with world.sessions() as s:
        row = s.get(WebhookDelivery, r.json()["inbox_id"])
        assert row is not None and row.body.encode() == body and row.status == "received"
        assert "authorization" not in row.headers  # the token is never stored


@pytest.mark.parametrize("auth", [None, "Bearer wrong-token-000000000000000", WF_TOKEN[:-1]])
def test_workfront_bad_token_is_401_and_nothing_stored(client: TestClient, world: World, auth: str | None) -> None:
    body = wf_event("UPDATE", "TASK", world.task_ids[0], T0, {"name": "a"}, {"name": "b"})
    r = client.post(f"/webhooks/workfront/{TENANT}", content=body, headers={"Authorization": auth} if auth else {})
    assert r.status_code == 401 and stored(world) == 0


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"eventType": "UPDATE"}', b'{"eventType": "MOVE"}'])
def test_workfront_malformed_is_400_and_nothing_stored(client: TestClient, world: World, body: bytes) -> None:
    r = client.post(f"/webhooks/workfront/{TENANT}", content=body, headers={"Authorization": WF_TOKEN})
    assert r.status_code == 400 and stored(world) == 0


def test_unknown_tenant_is_404(client: TestClient, world: World) -> None:
    body = wf_event("UPDATE", "TASK", world.task_ids[0], T0, {"name": "a"}, {"name": "b"})
    assert client.post("/webhooks/workfront/nobody", content=body, headers={"Authorization": WF_TOKEN}).status_code \
        == 404  # fmt: skip
    assert client.post("/webhooks/asana/nobody", content=asana_event()).status_code == 404
    assert stored(world) == 0


def test_asana_handshake_only_for_a_hook_being_subscribed(client: TestClient, world: World) -> None:
    url = f"/webhooks/asana/{TENANT}?hook=1200000000000009"
    planted = client.post(url, headers={"X-Hook-Secret": HOOK_SECRET})
    assert planted.status_code == 401  # nobody asked for this webhook: a stranger cannot plant a secret
    secrets = sealed_secrets(world.sessions)
    secrets.expect_handshake(TENANT, "asana", "1200000000000009")
    ok = client.post(url, headers={"X-Hook-Secret": HOOK_SECRET})
    assert ok.status_code == 200 and ok.headers["X-Hook-Secret"] == HOOK_SECRET
    assert client.post(url, headers={"X-Hook-Secret": "another-secret-0123456789"}).status_code == 401
    with world.sessions() as s:
        row = s.get(WebhookSecret, (TENANT, "asana", "1200000000000009"))
        assert row is not None and row.status == "active" and HOOK_SECRET not in (row.secret_ciphertext or "")


def test_asana_signed_delivery_heartbeat_and_bad_signature(client: TestClient, world: World) -> None:
    url = f"/webhooks/asana/{TENANT}?hook=1200000000000009"
    sealed_secrets(world.sessions).expect_handshake(TENANT, "asana", "1200000000000009")
    assert client.post(url, headers={"X-Hook-Secret": HOOK_SECRET}).status_code == 200
    heartbeat = b'{"events": []}'
    hb = client.post(url, content=heartbeat, headers={"X-Hook-Signature": sign(heartbeat, HOOK_SECRET)})
    assert hb.status_code == 200 and hb.json() == {"heartbeat": True} and stored(world) == 0
    body = asana_event()
    bad = client.post(url, content=body, headers={"X-Hook-Signature": sign(body, "x" * 32)})
    assert bad.status_code == 401 and stored(world) == 0
    unsigned = client.post(url, content=body)
    assert unsigned.status_code == 401 and stored(world) == 0
    good = client.post(url, content=body, headers={"X-Hook-Signature": sign(body, HOOK_SECRET)})
    assert good.status_code == 200 and stored(world) == 1
    junk = b'{"events": [{"action": "exploded"}]}'
    assert client.post(url, content=junk, headers={"X-Hook-Signature": sign(junk, HOOK_SECRET)}).status_code == 400
    assert stored(world) == 1


def test_concurrent_requests_store_each_delivery_once(world: World) -> None:
    """Real threads on the real database (SQLite: they take the write turn and commit rows in groups): each delivery,
    sent three times in a mixed order, is stored once, answered as new once and queued once."""
    import random
    from concurrent.futures import ThreadPoolExecutor

    queued: list[str] = []
    secrets = sealed_secrets(world.sessions)
    secrets.set_secret(TENANT, "workfront", "default", WF_TOKEN)
    receiver = Receiver(world.sessions, secrets, queued.append)
    bodies = [task_update(world, n % 3, T0, {"percentComplete": 0}, {"percentComplete": n}) for n in range(60)]
    order = bodies * 3
    random.Random(7).shuffle(order)
    auth = {"authorization": f"Bearer {WF_TOKEN}"}
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda b: receiver.workfront(TENANT, auth, b), order))
    assert {a.status for a in answers} == {200}
    ids: dict[bytes, set[str]] = {}
    new: dict[bytes, int] = {}
    for body, answer in zip(order, answers, strict=True):
        ids.setdefault(body, set()).add(str(answer.body["inbox_id"]))
        new[body] = new.get(body, 0) + (answer.body["duplicate"] is False)
    assert all(len(v) == 1 for v in ids.values()) and set(new.values()) == {1}
    assert stored(world) == 60 and sorted(queued) == sorted(i for v in ids.values() for i in v)
    with world.sessions() as s:
        for body, (row_id,) in ids.items():
            row = s.get(WebhookDelivery, row_id)
            assert row is not None and row.body.encode() == body


def test_body_not_utf8_is_400_and_nothing_stored(client: TestClient, world: World) -> None:
    body = wf_event("UPDATE", "TASK", world.task_ids[0], T0, {"name": "a"}, {"name": "b"}).decode().encode("utf-16")
    r = client.post(f"/webhooks/workfront/{TENANT}", content=body, headers={"Authorization": WF_TOKEN})
    assert r.status_code == 400 and "UTF-8" in r.json()["error"] and stored(world) == 0


def test_concurrent_requests_over_http_store_each_delivery_once(world: World) -> None:
    """The ASGI app under 90 concurrent requests (30 deliveries, 3 times each, both systems) once the tenant and the
    secrets are cached: on SQLite checked on the event loop and stored by the writer thread in groups."""
    import asyncio

    import httpx

    queued: list[str] = []
    secrets = sealed_secrets(world.sessions)
    secrets.set_secret(TENANT, "workfront", "default", WF_TOKEN)
    secrets.set_secret(TENANT, "asana", "default", HOOK_SECRET)
    app = build_app(Receiver(world.sessions, secrets, queued.append))
    wf = [task_update(world, n % 3, T0, {"percentComplete": 0}, {"percentComplete": n}) for n in range(15)]
    asana = [asana_event(str(1200000000000100 + n)) for n in range(15)]
    sends = [(f"/webhooks/workfront/{TENANT}", b, {"Authorization": WF_TOKEN}) for b in wf]
    sends += [(f"/webhooks/asana/{TENANT}", b, {"X-Hook-Signature": sign(b, HOOK_SECRET)}) for b in asana]

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            warm = [await client.post(p, content=b"{}", headers=h) for p, _, h in (sends[0], sends[-1])]
            assert [w.status_code for w in warm] == [400, 401]  # checked (secrets now cached), nothing stored
            return await asyncio.gather(*(client.post(p, content=b, headers=h) for p, b, h in sends * 3))

    answers = asyncio.run(run())
    assert [a.status_code for a in answers] == [200] * 90
    by_body: dict[bytes, list[dict[str, object]]] = {}
    for (_, body, _), answer in zip(sends * 3, answers, strict=True):
        by_body.setdefault(body, []).append(answer.json())
    assert all(len({a["inbox_id"] for a in got}) == 1 for got in by_body.values())
    assert all(sum(a["duplicate"] is False for a in got) == 1 for got in by_body.values())
    assert stored(world) == 30 and len(queued) == 30 == len(set(queued))
    bad = asana_event("1200000000000999")
    forged = asyncio.run(_post(app, f"/webhooks/asana/{TENANT}", bad, {"X-Hook-Signature": sign(bad, "x" * 32)}))
    assert forged.status_code == 401 and stored(world) == 30  # the in-loop path checks the signature as strictly


async def _post(app, path: str, body: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.post(path, content=body, headers=headers)
