"""The SDK adapter is written against one range of ``mcp`` versions; an upgrade outside it must fail here first."""

from __future__ import annotations

from importlib.metadata import version

from mcp import Client
from packaging.specifiers import SpecifierSet
from pydantic import BaseModel

from mcp_servers.guard.sdk_adapter import SUPPORTED_MCP, build_server
from mcp_servers.guard.toolkit import ToolDef, ToolFailure, ToolInput


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
        assert ok.structured_content == {"result": {"text": "hi"}}  # a union output (result | approval) is wrapped
        # An unknown argument reaches our validation instead of being dropped by the SDK.
        bad = await client.call_tool("echo", {"text": "hi", "extra": 1})
        assert bad.is_error
        failed = await client.call_tool("echo", {"text": "fail"})
        assert failed.is_error and "[invalid] text: told to fail" in failed.content[0].text
