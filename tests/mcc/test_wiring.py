"""The composition root: switching a system's backend changes no tool, and a configured Asana REST backend keeps
create idempotency keys across restarts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcp import Client

from mcc.settings import Settings, load_settings
from mcc.wiring import open_app
from mcp_servers.guard.identity import FixedPrincipal
from spine.demo import load_demo
from tests.connectors.asana.conftest import TOKEN
from tests.connectors.workfront.conftest import load_wire_reference
from tests.wire.asana_server import AsanaWireServer, asana_wire_server
from tests.wire.workfront_server import TOKEN as WF_TOKEN
from tests.wire.workfront_server import WorkfrontWireServer, workfront_wire, workfront_wire_server

__all__ = ["asana_wire_server", "workfront_wire", "workfront_wire_server"]  # fixtures


def _rest(home: Path, asana: AsanaWireServer, workspace: str, workfront: WorkfrontWireServer | None = None) -> Settings:
    wf: dict[str, Any] = {}
    if workfront is not None:
        wf = {"workfront_backend": "rest", "workfront_url": workfront.base_url, "workfront_api_key": WF_TOKEN}
    return load_settings(
        home=home, asana_backend="rest", asana_url=asana.base_url, asana_token=TOKEN, asana_workspace_gid=workspace,
        **wf,
    )  # fmt: skip


async def _tools(settings: Settings, server: str) -> list[dict[str, Any]]:
    with open_app(settings) as app:
        load_demo(app.sessions)
        async with Client(app.server(server, FixedPrincipal(app.principal("maya.chen")))) as client:
            tools = (await client.list_tools()).tools
        await app.aclose_backends()
    return [t.model_dump(exclude_none=True) for t in tools]


async def test_switching_backend_changes_no_tool(
    tmp_path: Path, asana_wire_server: Any, workfront_wire: WorkfrontWireServer
) -> None:
    asana: AsanaWireServer = asana_wire_server()
    workspace = asana.state.add_workspace("Acme")
    load_wire_reference(workfront_wire)
    rest = _rest(tmp_path / "rest", asana, workspace, workfront_wire)
    sandbox = load_settings(home=tmp_path / "sandbox")
    for server in ("workfront", "asana"):
        on_rest, on_sandbox = await _tools(rest, server), await _tools(sandbox, server)
        assert on_rest == on_sandbox and len(on_rest) >= 10, server  # names, docs, schemas, annotations


async def _create_task(home: Path, server: AsanaWireServer, workspace: str, key: str) -> dict[str, Any]:
    """One process's life: open the app on the REST backend, create a task through the guarded server, close."""
    with open_app(_rest(home, server, workspace)) as app:
        load_demo(app.sessions)
        server_ = app.asana_server(FixedPrincipal(app.principal("maya.chen")))
        async with Client(server_) as client:
            result = await client.call_tool("create_task", {"name": "Partner brief", "idempotency_key": key})
        await app.aclose_backends()
    assert not result.is_error, result.content[0].text
    assert result.structured_content is not None
    return result.structured_content["data"]


async def test_asana_rest_create_is_not_repeated_after_a_restart(tmp_path: Path, asana_wire_server: Any) -> None:
    server: AsanaWireServer = asana_wire_server()
    workspace = server.state.add_workspace("Acme")
    server.state.add_user("Maya Chen", "maya@example.com", workspace, token=TOKEN)

    first = await _create_task(tmp_path, server, workspace, "brief-0001")
    again = await _create_task(tmp_path, server, workspace, "brief-0001")  # a new App: nothing in memory

    assert again["gid"] == first["gid"]
    assert sum(1 for r in server.requests if r["method"] == "POST" and r["path"].endswith("/tasks")) == 1
    assert [t["name"] for t in server.state.tasks.values()] == ["Partner brief"]


def test_offline_router_cache_is_per_embedding_backend(tmp_path: Path) -> None:
    keys = set()
    for backend in ("onnx", "torch"):
        with open_app(load_settings(home=tmp_path, embedding_backend=backend)) as app:
            model = app.chat_model()
            keys.add(model.router.cache_key)  # type: ignore[attr-defined]
    assert len(keys) == 2 and all(k and k.startswith("minilm:") for k in keys)
