"""`webhooks subscribe` against the local wire servers, end to end over real HTTP: Asana's POST /webhooks makes
its handshake call to our running receiver; Workfront's event subscriptions carry the tenant's token; then events
sent by the wire servers are received, stored and processed into the spine."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.asana.client import AsanaRestClient
from connectors.errors import ConnectorError
from spine.db import transaction
from spine.models import SystemRef, WebhookSecret, WorkItem
from spine.repositories import SpineStore
from sync.process import AsanaReader, process_pending
from sync.receiver import Receiver, build_app
from sync.subscribe import subscribe_asana, subscribe_workfront
from tests.sync.inbound_world import TENANT, World, build_world
from tests.sync.test_receiver import sealed_secrets
from tests.wire.asana_server import AsanaWireServer, asana_wire_server
from tests.wire.workfront_server import TOKEN, WorkfrontWireServer, workfront_wire, workfront_wire_server

__all__ = ["asana_wire_server", "workfront_wire", "workfront_wire_server"]
ASANA_TOKEN = "1/asana-inbound-token-0123456789"


class Served:
    """The receiver app on a real port (uvicorn in a thread)."""

    def __init__(self, app: Any) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)


@pytest.fixture
def served(world: World) -> Iterator[tuple[Served, Any]]:
    secrets = sealed_secrets(world.sessions)
    served = Served(build_app(Receiver(world.sessions, secrets)))
    yield served, secrets
    served.stop()


def test_workfront_subscribe_then_events_arrive_and_apply(world: World, served: tuple[Served, Any],
                                                          workfront_wire: WorkfrontWireServer) -> None:  # fmt: skip
    receiver, secrets = served
    done = asyncio.run(subscribe_workfront(secrets, workfront_wire.base_url, TOKEN, TENANT, receiver.url))
    assert len(done.created) == 6 and done.existing == []
    subs = workfront_wire.state.subscriptions
    assert {(s["objCode"], s["eventType"]) for s in subs.values()} == {
        (c, e) for c in ("PROJ", "TASK") for e in ("CREATE", "UPDATE", "DELETE")}  # fmt: skip
    token = secrets.get(TENANT, "workfront", "default")
    assert token and all(s["authToken"] == token for s in subs.values())
    assert all(s["url"] == f"{receiver.url}/webhooks/workfront/{TENANT}" for s in subs.values())
    again = asyncio.run(subscribe_workfront(secrets, workfront_wire.base_url, TOKEN, TENANT, receiver.url))
    assert again.created == [] and len(again.existing) == 6  # Workfront answers 409: nothing doubled

    task = world.task_ids[0]
    base = {"ID": task, "projectID": world.project_id}
    assert workfront_wire.emit("UPDATE", "TASK", {**base, "status": "CPL", "percentComplete": 100},
                               {**base, "status": "INP", "percentComplete": 50}) == [200]  # fmt: skip
    assert process_pending(world.sessions, world.audit) == {"processed": 1}
    with world.sessions() as s:
        row = s.get(WorkItem, world.item_ids[0])
        assert row is not None and (row.status, row.percent_complete) == ("completed", 100)


def test_workfront_subscribe_needs_an_admin_key(world: World, served: tuple[Served, Any],
                                                workfront_wire: WorkfrontWireServer) -> None:  # fmt: skip
    receiver, secrets = served
    with pytest.raises(ConnectorError, match="System Administrator"):
        asyncio.run(subscribe_workfront(secrets, workfront_wire.base_url, "wrong-key", TENANT, receiver.url))


def test_asana_subscribe_handshakes_with_our_receiver(world: World, served: tuple[Served, Any],
                                                      asana_wire_server: Any) -> None:  # fmt: skip
    receiver, secrets = served
    wire: AsanaWireServer = asana_wire_server()
    ws = wire.state.add_workspace("Acme")
    wire.state.add_user("Ops", "ops@acme.test", ws, token=ASANA_TOKEN)

    async def seed() -> tuple[str, str]:
        async with AsanaRestClient(wire.base_url, token=ASANA_TOKEN, workspace_gid=ws, backoff_base=0.001) as c:
            project = await c.create_project({"name": "Launch board"})
            task = await c.create_task({"name": "Write the launch post", "projects": [project.gid]})
            return project.gid, task.gid

    project, task = asyncio.run(seed())
    with transaction(world.sessions) as s:
        SpineStore(s, TENANT).refs.link("campaign", world.campaign_id, "asana", project, actor="test")
    done = asyncio.run(subscribe_asana(secrets, wire.base_url, ASANA_TOKEN, TENANT, receiver.url, [project]))
    assert len(done.created) == 1
    hook = wire.state.webhooks[done.created[0]]
    assert hook["target"] == f"{receiver.url}/webhooks/asana/{TENANT}?hook={project}"
    with world.sessions() as s:  # the handshake secret was stored sealed and the hook is active
        row = s.get(WebhookSecret, (TENANT, "asana", project))
        assert row is not None and row.status == "active" and row.external_id == done.created[0]
        assert hook["secret"] not in (row.secret_ciphertext or "")

    event = {
        "action": "added",
        "resource": {"gid": task, "resource_type": "task"},
        "parent": {"gid": project, "resource_type": "project"},
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    assert wire.deliver(done.created[0], [event]).status_code == 200  # fmt: skip
    assert wire.deliver(done.created[0], []).status_code == 200  # heartbeat

    reader = AsanaReader(lambda _t: AsanaRestClient(wire.base_url, token=ASANA_TOKEN, workspace_gid=ws))
    assert process_pending(world.sessions, world.audit, reader) == {"processed": 1}
    with world.sessions() as s:
        ref = s.scalars(select(SystemRef).where(SystemRef.external_id == task)).one()
        item = s.get(WorkItem, ref.canonical_id)
        assert item is not None and (item.name, item.campaign_id, item.source_system) == (
            "Write the launch post", world.campaign_id, "asana")  # fmt: skip

    stranger = "1299999999999999"  # a task MCC never linked: recorded as unknown without an API call
    unknown = {"action": "changed", "resource": {"gid": stranger, "resource_type": "task"},
               "created_at": dt.datetime.now(dt.UTC).isoformat()}  # fmt: skip
    assert wire.deliver(done.created[0], [unknown]).status_code == 200
    assert process_pending(world.sessions, world.audit, reader) == {"ignored": 1}
    assert not [r for r in wire.requests if stranger in r["path"]]
