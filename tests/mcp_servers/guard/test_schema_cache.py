"""Tool registration: servers built through a ToolSchemaCache publish exactly the tools of a server built without
it, and each runs its calls through its own dispatcher (the cache keeps schemas, never a server's handler)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp import Client
from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from mcp_servers.guard.sdk_adapter import ToolSchemaCache, build_server
from mcp_servers.guard.toolkit import ToolDef, ToolInput


class EchoArgs(ToolInput):
    text: str = Field(min_length=1, description="What to say back.")


class EchoOut(BaseModel):
    text: str
    by: str


async def echo(args: Any, call: Any) -> EchoOut:
    """Say ``text`` back."""
    raise AssertionError("the dispatcher answers; the handler is never reached in these tests")


ECHO = ToolDef("echo", EchoArgs, EchoOut, echo, read_only=True, idempotent=True)


@dataclass
class Answering:
    """A dispatcher that answers every call in its own name."""

    name: str

    async def dispatch(self, tool: ToolDef, raw_arguments: dict[str, Any], ctx: Context) -> BaseModel:
        return EchoOut(text=str(raw_arguments.get("text")), by=self.name)


async def test_cached_registrations_list_the_same_tools_and_call_their_own_dispatcher() -> None:
    cache = ToolSchemaCache()
    servers = {
        "plain": build_server("t", "test", [ECHO], Answering("plain")),
        "first": build_server("t", "test", [ECHO], Answering("first"), schema_cache=cache),
        "second": build_server("t", "test", [ECHO], Answering("second"), schema_cache=cache),
    }
    listings = []
    for name, server in servers.items():
        async with Client(server) as client:
            listings.append([t.model_dump() for t in (await client.list_tools()).tools])
            result = await client.call_tool("echo", {"text": "hi"})
        assert not result.is_error and result.structured_content == {"text": "hi", "by": name}
    assert listings[0] == listings[1] == listings[2]
    assert listings[0][0]["input_schema"]["properties"]["text"]["description"] == "What to say back."
