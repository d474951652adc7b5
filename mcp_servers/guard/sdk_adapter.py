"""The one place that uses the MCP SDK's internals: building tools ourselves and registering them on ``MCPServer``.

We build the SDK's ``Tool`` (a class the SDK marks internal) with a synthesized signature so that (a) the published
input schema is the strict model's schema and (b) the raw arguments reach the guard unfiltered: an unknown argument
is an error, never silently dropped. Written for the ``mcp`` versions in ``SUPPORTED_MCP``; a test pins that range,
so an upgrade that could change these internals fails loudly instead of silently.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools.base import Tool
from mcp.types import ToolAnnotations

from mcp_servers.guard.toolkit import ApprovalRequired, Dispatcher, ToolDef, ToolFailure

SUPPORTED_MCP = (">=2.3", "<2.4")  # the versions whose Tool/Context internals this module was written against


def _mcp_tool(defn: ToolDef, dispatcher: Dispatcher) -> Tool:
    if not defn.description:
        raise ValueError(f"tool {defn.name} has no docstring; the docstring is what the model reads")
    result_type = defn.output_model | ApprovalRequired

    async def call(ctx: Context) -> Any:
        params = ctx.request_context.params
        raw = params.get("arguments") if isinstance(params, dict) else None
        try:
            return await dispatcher.dispatch(defn, dict(raw or {}), ctx)
        except ToolFailure as failure:
            # Rendered text only: no stack traces or internals reach the caller.
            raise ToolError(failure.render()) from None

    call.__name__ = defn.name
    call.tool_def = defn  # type: ignore[attr-defined]  # read back by served_tool()
    call.__doc__ = defn.description
    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Context)],
        return_annotation=result_type,
    )
    call.__annotations__ = {"ctx": Context, "return": result_type}
    tool = Tool.from_function(
        call,
        name=defn.name,
        title=defn.title,
        description=defn.description,
        annotations=ToolAnnotations(
            title=defn.title,
            read_only_hint=defn.read_only,
            destructive_hint=defn.destructive,
            idempotent_hint=defn.idempotent,
            open_world_hint=defn.open_world,
        ),
        structured_output=True,
    )
    schema = defn.input_model.model_json_schema()
    return tool.model_copy(update={"parameters": schema})


def build_server(
    name: str, instructions: str, tools: Sequence[ToolDef], dispatcher: Dispatcher, **server_kwargs: Any
) -> MCPServer:
    """An ``MCPServer`` whose every tool runs through ``dispatcher`` (the guard)."""
    names = [t.name for t in tools]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate tool names in {name}: {names}")
    # MCPServer configures the root logger at this level: INFO would print library chatter into CLI output.
    server_kwargs.setdefault("log_level", "WARNING")
    return MCPServer(
        name,
        instructions=instructions,
        tools=[_mcp_tool(t, dispatcher) for t in tools],
        **server_kwargs,
    )


def served_tool(server: MCPServer, name: str) -> ToolDef | None:
    """The ``ToolDef`` behind tool ``name`` of a server built by ``build_server`` (None when it serves no such tool)."""
    tool = server._tool_manager.get_tool(name)
    return getattr(tool.fn, "tool_def", None) if tool is not None else None
