"""The one place that uses the MCP SDK's internals: building tools ourselves and registering them on ``MCPServer``.

We build the SDK's ``Tool`` (a class the SDK marks internal) with a synthesized signature so that (a) the published
input schema is the strict model's schema and (b) the raw arguments reach the guard unfiltered: an unknown argument
is an error, never silently dropped. Written for the ``mcp`` versions in ``SUPPORTED_MCP``; a test pins that range,
so an upgrade that could change these internals fails loudly instead of silently.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools.base import Tool
from mcp.types import ToolAnnotations

from mcp_servers.guard.toolkit import ApprovalRequired, Dispatcher, ToolDef, ToolFailure

SUPPORTED_MCP = (">=2.3", "<2.4")  # the versions whose Tool/Context internals this module was written against


class ToolSchemaCache:
    """Registered tools by definition, minus their handler: generating a tool's schemas costs ~5 ms, so a process
    that builds the same servers many times over different databases (eval worlds) generates each schema once."""

    def __init__(self) -> None:
        self._tools: dict[tuple[Any, ...], Tool] = {}

    def tool(self, defn: ToolDef, dispatcher: Dispatcher) -> Tool:
        """``defn`` registered to run through ``dispatcher``, with schemas generated on the first request only."""
        # Everything the registration is made of except the handler, which is bound to one database.
        key = (defn.name, defn.input_model, defn.output_model, defn.description, defn.title, defn.read_only,
               defn.destructive, defn.idempotent, defn.open_world)  # fmt: skip
        cached = self._tools.get(key)
        if cached is None:
            tool = _mcp_tool(defn, dispatcher)
            self._tools[key] = tool.model_copy(update={"fn": _unbound})  # holds no server's dispatcher
            return tool
        return cached.model_copy(update={"fn": _call_through(defn, dispatcher)})


async def _unbound(ctx: Context) -> Any:
    """The handler of a cached registration, replaced whenever the registration is used."""
    raise RuntimeError("a cached tool registration runs only after its handler is bound")


def _call_through(defn: ToolDef, dispatcher: Dispatcher) -> Callable[[Context], Awaitable[Any]]:
    """The registered function: hands the raw arguments of a call of ``defn`` to ``dispatcher``."""
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
    call.__doc__ = defn.description
    call.tool_def = defn  # type: ignore[attr-defined]  # read back by served_tool()
    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Context)],
        return_annotation=result_type,
    )
    call.__annotations__ = {"ctx": Context, "return": result_type}
    return call


def _mcp_tool(defn: ToolDef, dispatcher: Dispatcher) -> Tool:
    if not defn.description:
        raise ValueError(f"tool {defn.name} has no docstring; the docstring is what the model reads")
    tool = Tool.from_function(
        _call_through(defn, dispatcher),
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
    name: str,
    instructions: str,
    tools: Sequence[ToolDef],
    dispatcher: Dispatcher,
    *,
    schema_cache: ToolSchemaCache | None = None,
    **server_kwargs: Any,
) -> MCPServer:
    """An ``MCPServer`` whose every tool runs through ``dispatcher`` (the guard); ``schema_cache`` reuses the
    schemas of tools registered before."""
    names = [t.name for t in tools]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate tool names in {name}: {names}")
    # MCPServer configures the root logger at this level: INFO would print library chatter into CLI output.
    server_kwargs.setdefault("log_level", "WARNING")
    register = _mcp_tool if schema_cache is None else schema_cache.tool
    return MCPServer(
        name,
        instructions=instructions,
        tools=[register(t, dispatcher) for t in tools],
        **server_kwargs,
    )


def served_tool(server: MCPServer, name: str) -> ToolDef | None:
    """The ``ToolDef`` behind tool ``name`` of a server built by ``build_server`` (None when it serves no such tool)."""
    tool = server._tool_manager.get_tool(name)
    return getattr(tool.fn, "tool_def", None) if tool is not None else None
