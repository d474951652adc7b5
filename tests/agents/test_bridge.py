"""The MCP -> model tool bridge against the real guarded spine server (in-process MCP client)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, ListToolsResult, TextContent, Tool

from agents.bridge import MAX_RESULT_CHARS, ToolBridge, classify
from agents.protocol import AGENT_TOOLS
from tests.agents.graph.support import World, campaign_args, make_world


@pytest.fixture
def world(engine: Any) -> World:
    return make_world(engine)


async def _bridge(servers: dict[str, Any]) -> tuple[ToolBridge, list[Client]]:
    clients = {name: Client(target) for name, target in servers.items()}
    for c in clients.values():
        await c.__aenter__()
    return await ToolBridge(clients).load(), list(clients.values())


async def _close(clients: list[Client]) -> None:
    for c in reversed(clients):
        await c.__aexit__(None, None, None)


async def test_tools_are_named_by_server_and_filtered_per_agent_and_role(world: World) -> None:
    bridge, clients = await _bridge({"spine": world.spine("maya.chen")})
    try:
        create = bridge.tools["spine__create_campaign"]
        assert create.server == "spine" and create.tool == "create_campaign" and not create.read_only
        assert "approval_id" not in create.spec.input_schema["properties"]  # only the graph adds it
        # Where approval_id is the tool's own required argument (the approval to read), the model must see it.
        get_approval = bridge.tools["spine__get_approval"].spec.input_schema
        assert "approval_id" in get_approval["properties"] and "approval_id" in get_approval["required"]
        assert "idempotency_key" in create.spec.input_schema["properties"]
        assert create.spec.description  # the tool's docstring is what the model reads
        analytics = {s.name for s in bridge.specs_for("analytics", read_only=False)}
        assert analytics == {f"spine__{t}" for t in AGENT_TOOLS["analytics"]["spine"]}
        # Tools of servers that are not connected (workfront, knowledge) are skipped, not invented.
        production = {s.name for s in bridge.specs_for("production", read_only=False)}
        assert production and all(n.startswith("spine__") for n in production)
        assert {s.name for s in bridge.specs_for("knowledge", read_only=False)} == set()
        readonly = {s.name for s in bridge.specs_for("production", read_only=True)}
        assert "spine__create_campaign" not in readonly and "spine__get_campaign" in readonly
        assert all(bridge.tools[n].read_only for n in readonly)
    finally:
        await _close(clients)


async def test_results_errors_denials_and_approvals_are_classified(world: World) -> None:
    bridge, clients = await _bridge({"spine": world.spine("maya.chen"), "ro": world.spine("sam.taylor")})
    try:
        listed = await bridge.call("spine__list_campaigns", {"limit": 2})
        assert (listed.decision, listed.result_status, listed.is_error) == ("allow", "ok", False)
        assert json.loads(listed.text) == listed.structured and listed.structured["count"] == 2  # {"result"} unwrapped

        invalid = await bridge.call("spine__get_campaign", {"campaign_id": "nope"})
        assert invalid.is_error and invalid.decision == "error" and "campaign_id" in invalid.text
        assert invalid.to_result_block("toolu_1").is_error

        denied = await bridge.call("ro__create_campaign", campaign_args("Nope", "100"))
        assert denied.is_error and denied.decision == "deny" and denied.result_status == "error"

        big = await bridge.call("spine__create_campaign", campaign_args("Bridge Big", "90000"))
        assert (big.decision, big.result_status, big.is_error) == ("require_approval", "approval_required", False)
        assert big.approval is not None and big.approval["required_group"] == "marketing-leadership"

        unknown_tool = await bridge.call("spine__no_such_tool", {})
        assert unknown_tool.is_error and unknown_tool.decision == "error"
        unknown_server = await bridge.call("hr__fire_everyone", {})
        assert unknown_server.is_error and "hr" in unknown_server.text
        malformed = await bridge.call("no-separator", {})
        assert malformed.is_error and "<server>__<tool>" in malformed.text
    finally:
        await _close(clients)


async def test_structured_scalars_are_json_and_unstructured_text_passes_through() -> None:
    server = MCPServer("plain")

    @server.tool()
    def shout(word: str) -> str:
        """Shout a word."""
        return word.upper()

    @server.tool()
    def echo(word: str) -> dict:  # type: ignore[type-arg]
        """Echo a word (a bare dict: the server sends text content only)."""
        return {"word": word}

    async with Client(server) as client:
        shouted = classify("plain", "shout", await client.call_tool("shout", {"word": "hi"}))
        echoed = classify("plain", "echo", await client.call_tool("echo", {"word": "hi"}))
    assert (shouted.text, shouted.structured, shouted.result_status) == ('"HI"', "HI", "ok")
    assert json.loads(echoed.text) == {"word": "hi"} and echoed.structured == {"word": "hi"}


class _Listed:
    """A session listing fixed tools (a third-party server whose names a model API cannot carry)."""

    def __init__(self, *names: str) -> None:
        self.names = names

    async def list_tools(self) -> ListToolsResult:
        return ListToolsResult(tools=[Tool(name=n, input_schema={"type": "object"}) for n in self.names])

    async def call_tool(self, name: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
        raise AssertionError("not called")


async def test_oversized_results_are_cut_and_unusable_tool_names_are_skipped() -> None:
    huge = CallToolResult(content=[TextContent(type="text", text="x")], structured_content={"result": "y" * 500_000})
    outcome = classify("s", "t", huge)
    assert len(outcome.text) < MAX_RESULT_CHARS + 200 and "[truncated:" in outcome.text
    bridge = await ToolBridge({"s": _Listed("ok_tool", "dotted.name")}).load()
    assert set(bridge.tools) == {"s__ok_tool"}


async def test_model_tools_are_lean_and_never_ask_the_model_to_resend_with_approval_id(world: World) -> None:
    bridge, clients = await _bridge({"spine": world.spine("maya.chen")})
    try:
        for name in ("spine__create_campaign", "spine__update_campaign", "spine__list_campaigns"):
            spec = bridge.tools[name].spec
            text = json.dumps(spec.input_schema)
            assert '"title": "' not in text and '{"type": "null"}' not in text, name
            assert "re-send the identical call" not in spec.description, name
        create = bridge.tools["spine__create_campaign"].spec.description
        assert "runs the call itself" in create and "approval_required" in create  # the rest of the doc is kept
    finally:
        await _close(clients)


def test_a_json_list_over_the_state_cap_keeps_whole_items_and_says_how_many_more() -> None:
    rows = [{"id": i, "name": f"campaign {i}", "notes": "n" * 200} for i in range(2_000)]
    structured = {"result": {"count": 2_000, "campaigns": rows}}
    outcome = classify("spine", "list_campaigns", CallToolResult(content=[], structured_content=structured))
    assert len(outcome.text) <= MAX_RESULT_CHARS
    data = json.loads(outcome.text)  # still valid JSON
    shown = len(data["campaigns"])
    assert 0 < shown < 2_000 and data["campaigns"][-1] == rows[shown - 1] and data["count"] == 2_000
    assert f"{shown} of 2000 items shown ({2_000 - shown} more available)" in data["truncated"]
