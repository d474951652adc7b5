"""The SDK adapter is written against one range of ``mcp`` versions; an upgrade outside it must fail here first."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import version

import pytest
from mcp import Client
from packaging.specifiers import SpecifierSet
from pydantic import BaseModel

from mcp_servers.guard.sdk_adapter import SUPPORTED_MCP, build_server
from mcp_servers.guard.toolkit import ApprovableInput, ApprovalRequired, ToolDef, ToolFailure, ToolInput


def test_installed_mcp_is_in_the_range_the_adapter_was_written_for() -> None:
    installed = version("mcp")
    assert installed in SpecifierSet(",".join(SUPPORTED_MCP)), (
        f"mcp {installed} is outside {SUPPORTED_MCP}: re-read mcp.server.mcpserver.tools.base.Tool and Context, "
        "then widen SUPPORTED_MCP in mcp_servers/guard/sdk_adapter.py"
    )


class _EchoArgs(ToolInput):
    text: str


class _Echo(BaseModel):
    text: str


class _Direct:
    """A dispatcher that runs the handler as is (the adapter's contract, without the guard)."""

    async def dispatch(self, tool: ToolDef, raw_arguments: dict, ctx: object) -> BaseModel:
        args = tool.input_model.model_validate(raw_arguments)
        return await tool.handler(None, args)


async def _echo(_call: object, args: _EchoArgs) -> _Echo:
    """Echo ``text`` back."""
    if args.text == "fail":
        raise ToolFailure("told to fail", field="text", fix="send something else")
    return _Echo(text=args.text)


async def test_the_adapter_publishes_the_strict_schema_and_passes_raw_arguments_through() -> None:
    tool = ToolDef("echo", _EchoArgs, _Echo, _echo, read_only=True, title="Echo")
    server = build_server("t", "test", [tool], _Direct())
    async with Client(server) as client:
        listed = (await client.list_tools()).tools
        assert listed[0].input_schema["additionalProperties"] is False
        assert listed[0].annotations is not None and listed[0].annotations.read_only_hint is True
        ok = await client.call_tool("echo", {"text": "hi"})
        assert ok.structured_content == {"text": "hi"}  # the tool's own object, never wrapped
        assert ok.content[0].text == '{"text":"hi"}'  # the text copy is compact JSON
        # An unknown argument reaches our validation instead of being dropped by the SDK.
        bad = await client.call_tool("echo", {"text": "hi", "extra": 1})
        assert bad.is_error
        failed = await client.call_tool("echo", {"text": "fail"})
        assert failed.is_error and "[invalid] text: told to fail" in failed.content[0].text


class _HeldArgs(ApprovableInput):
    text: str


class _Holding:
    """A dispatcher that holds every call for approval, as the guard does over a budget limit."""

    def __init__(self) -> None:
        self.names: list[str] = []

    async def dispatch(self, tool: ToolDef, raw_arguments: dict, ctx: object) -> BaseModel:
        self.names.append(tool.name)
        return ApprovalRequired(approval_id="0" * 36, required_group="vp", reason="over budget",
                                expires_at=datetime(2030, 1, 1, tzinfo=UTC))  # fmt: skip


async def test_an_approval_answer_is_its_own_object_and_only_approvable_tools_may_give_it() -> None:
    held = ToolDef("held", _HeldArgs, _Echo, _echo, read_only=False, title="Held")
    plain = ToolDef("plain", _EchoArgs, _Echo, _echo, read_only=False, title="Plain")
    server = build_server("t", "test", [held, plain], _Holding())
    async with Client(server) as client:  # the client validates structured content against the output schema
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert "approval_id" in tools["held"].input_schema["properties"]
        assert "approval_id" not in tools["plain"].input_schema["properties"]
        assert tools["plain"].output_schema is not None and "anyOf" not in tools["plain"].output_schema
        answer = await client.call_tool("held", {"text": "hi"})
        assert not answer.is_error and answer.structured_content is not None
        assert answer.structured_content["status"] == "approval_required" and "result" not in answer.structured_content
        refused = await client.call_tool("plain", {"text": "hi"})  # could never be re-sent with approval_id
        assert refused.is_error and "[denied]" in refused.content[0].text


async def test_a_tool_prefix_changes_only_the_served_name() -> None:
    holding = _Holding()
    server = build_server("t", "test", [ToolDef("held", _HeldArgs, _Echo, _echo, read_only=False)], holding,
                          tool_prefix="workfront_")  # fmt: skip
    async with Client(server) as client:
        assert [t.name for t in (await client.list_tools()).tools] == ["workfront_held"]
        assert not (await client.call_tool("workfront_held", {"text": "hi"})).is_error
        assert (await client.call_tool("held", {"text": "hi"})).is_error
    assert holding.names == ["held"]  # the guard (and so the policies and the audit) sees the tool's own name
    with pytest.raises(ValueError, match="tool_prefix"):
        build_server("t", "test", [], _Direct(), tool_prefix="bad prefix!")
