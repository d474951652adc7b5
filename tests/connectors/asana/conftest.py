"""Fixtures: one seeded world per backend (embedded sandbox, REST client against the local wire server)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from connectors.asana.backend import AsanaBackend
from connectors.asana.client import AsanaRestClient
from connectors.asana.sandbox import AsanaSandbox
from tests.wire.asana_server import AsanaWireServer, asana_wire_server

__all__ = ["asana_wire_server"]

TOKEN = "0/test-personal-access-token-1234567890"


@dataclasses.dataclass
class World:
    kind: str
    backend: AsanaBackend
    workspace: str
    team: str
    alice: str
    bob: str
    server: AsanaWireServer | None = None


@pytest.fixture
def server(asana_wire_server: Any) -> AsanaWireServer:
    """A wire server with workspace Acme and Alice Adams, whose token is ``TOKEN``."""
    srv: AsanaWireServer = asana_wire_server()
    ws = srv.state.add_workspace("Acme")
    srv.state.add_user("Alice Adams", "alice@example.com", ws, token=TOKEN)
    return srv


async def make_world(kind: str, tmp_path: Any, start_server: Any) -> World:
    if kind == "sandbox":
        sandbox = AsanaSandbox(tmp_path / "asana" / "sandbox.db")
        seed = sandbox.seed_demo(
            workspace_name="Acme",
            team_name="Marketing",
            users=[("Alice Adams", "alice@example.com"), ("Bob Brown", "bob@example.com")],
        )
        return World(
            kind,
            sandbox,
            seed.workspace_gid,
            seed.team_gid,
            seed.users["alice@example.com"],
            seed.users["bob@example.com"],
        )
    server: AsanaWireServer = start_server()
    st = server.state
    ws = st.add_workspace("Acme")
    alice = st.add_user("Alice Adams", "alice@example.com", ws, token=TOKEN)
    bob = st.add_user("Bob Brown", "bob@example.com", ws)
    team = st.add_team("Marketing", ws)
    client = AsanaRestClient(server.base_url, token=TOKEN, workspace_gid=ws, backoff_base=0.001, backoff_max=0.01)
    return World(kind, client, ws, team, alice, bob, server)


@pytest.fixture(params=["sandbox", "rest"])
async def world(request: pytest.FixtureRequest, tmp_path: Any, asana_wire_server: Any) -> AsyncIterator[World]:
    """The same seeded world (workspace Acme, team Marketing, Alice (the caller) and Bob) on each backend."""
    w = await make_world(request.param, tmp_path, asana_wire_server)
    yield w
    await w.backend.aclose()
