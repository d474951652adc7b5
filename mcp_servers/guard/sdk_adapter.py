"""The one place that uses the MCP SDK's internals: building tools ourselves and registering them on ``MCPServer``.

We build the SDK's ``Tool`` (a class the SDK marks internal) with a synthesized signature so that (a) the published
input schema is the strict model's schema and (b) the raw arguments reach the guard unfiltered: an unknown argument
is an error, never silently dropped. Resources are templates whose read calls a guarded read tool, and
``resources/list`` is extended (a subclass of ``MCPServer``) with each caller's own resources. Written for the
``mcp`` versions in ``SUPPORTED_MCP``; a test pins that range, so an upgrade that could change these internals fails
loudly instead of silently.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.server.mcpserver.prompts.base import Prompt
from mcp.server.mcpserver.tools.base import Tool
from mcp.types import CallToolResult, ListResourcesResult, TextContent, ToolAnnotations
from mcp.types import Resource as MCPResource
from pydantic import BaseModel, TypeAdapter

from mcp_servers.guard.toolkit import ApprovalRequired, Dispatcher, ToolDef, ToolFailure

TOOL_PREFIX = re.compile(r"(?:[A-Za-z][A-Za-z0-9_-]{0,31})?")  # tool names allow letters, digits, _ and -
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


def approvable(defn: ToolDef) -> bool:
    """True when a call of ``defn`` can be held for approval: its input carries ``approval_id``."""
    return "approval_id" in defn.input_model.control_fields


def _call_through(defn: ToolDef, dispatcher: Dispatcher) -> Callable[[Context], Awaitable[Any]]:
    """The registered function: hands the raw arguments of a call of ``defn`` to ``dispatcher`` and answers with the
    tool's own object as structured content and its compact JSON as the text copy."""

    async def call(ctx: Context) -> CallToolResult:
        params = ctx.request_context.params
        raw = params.get("arguments") if isinstance(params, dict) else None
        try:
            result = await dispatcher.dispatch(defn, dict(raw or {}), ctx)
        except ToolFailure as failure:
            # Rendered text only: no stack traces or internals reach the caller.
            raise ToolError(failure.render()) from None
        if isinstance(result, ApprovalRequired) and not approvable(defn):
            raise ToolError(f"[denied] {defn.name} cannot be approved; it is refused.")  # never: the guard denies
        structured = result.model_dump(mode="json", by_alias=True)
        text = json.dumps(structured, ensure_ascii=False, separators=(",", ":"))
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)

    result_type = defn.output_model | ApprovalRequired if approvable(defn) else defn.output_model
    call.__name__ = defn.name
    call.__doc__ = defn.description
    call.tool_def = defn  # type: ignore[attr-defined]  # read back by served_tool()
    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Context)],
        return_annotation=result_type,
    )
    call.__annotations__ = {"ctx": Context, "return": result_type}
    return call


def _output_schema(defn: ToolDef) -> dict[str, Any]:
    """The published output schema: the tool's own object, or for an approvable tool that object or the
    approval answer (an object root with ``anyOf``: the structured content is either one, never wrapped)."""
    if not approvable(defn):
        return defn.output_model.model_json_schema()
    schema = TypeAdapter(defn.output_model | ApprovalRequired).json_schema()
    return {"type": "object", **schema}


def _mcp_tool(defn: ToolDef, dispatcher: Dispatcher) -> Tool:
    if not defn.description:
        raise ValueError(f"tool {defn.name} has no docstring; the docstring is what the model reads")
    title = defn.title or defn.name.replace("_", " ").capitalize()  # every tool shows a readable title
    tool = Tool.from_function(
        _call_through(defn, dispatcher),
        name=defn.name,
        title=title,
        description=defn.description,
        annotations=ToolAnnotations(
            title=title,
            read_only_hint=defn.read_only,
            destructive_hint=defn.destructive,
            idempotent_hint=defn.idempotent,
            open_world_hint=defn.open_world,
        ),
        structured_output=True,
    )
    # The SDK would wrap a union output in {"result": ...}: publish the object itself and validate against it.
    output = defn.output_model | ApprovalRequired if approvable(defn) else defn.output_model
    meta = tool.fn_metadata.model_copy(
        update={"output_schema": _output_schema(defn), "output_model": output, "wrap_output": False}
    )
    parameters = lean_schema(defn.input_model.model_json_schema())
    return tool.model_copy(update={"parameters": parameters, "fn_metadata": meta})


def lean_schema(schema: Any, *, under_properties: bool = False) -> Any:
    """``schema`` without pydantic's generated ``title`` keywords (the property name says it) and ``default: null``
    (an omitted optional argument is unset anyway): both cost a model's context on every call. Property names
    (``properties``, ``$defs``) are kept whatever they are called."""
    if isinstance(schema, list):
        return [lean_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: lean_schema(value, under_properties=key in ("properties", "$defs") and not under_properties)
        for key, value in schema.items()
        if under_properties or not (key == "title" or (key == "default" and value is None))
    }


def _as_json(result: BaseModel, params: Mapping[str, str]) -> str:
    return result.model_dump_json(indent=2)


@dataclass(frozen=True, slots=True)
class ResourceDef:
    """A resource template whose read IS a call of a guarded read tool: the same principal, tenant rules, policy
    decision and audit row as calling ``tool`` with ``arguments(params)``."""

    uri_template: str
    name: str
    title: str
    description: str
    tool: ToolDef
    arguments: Callable[[Mapping[str, str]], dict[str, Any]]
    render: Callable[[BaseModel, Mapping[str, str]], str] = _as_json
    mime_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class ListedResource:
    """One concrete resource in a ``resources/list`` answer."""

    uri: str
    name: str
    title: str
    description: str | None = None
    mime_type: str = "application/json"


class ResourceCaller:
    """What a resource lister may do for the current request: call guarded tools, or learn who is asking."""

    def __init__(self, dispatcher: Dispatcher, ctx: Context) -> None:
        self._dispatcher, self._ctx = dispatcher, ctx

    async def call(self, tool: ToolDef, arguments: dict[str, Any]) -> BaseModel:
        return await self._dispatcher.dispatch(tool, arguments, self._ctx)

    def principal(self) -> Any:
        """The caller (fails closed, as a tool call would, when there is none)."""
        return self._dispatcher.principals.current(self._ctx)  # type: ignore[attr-defined]


# Lists the concrete resources the caller may read (each server's own rule, through guarded tools).
ResourceLister = Callable[[ResourceCaller], Awaitable[list[ListedResource]]]


@dataclass(frozen=True, slots=True)
class Extras:
    """What a server publishes besides tools: resource templates, listers, prompts, and the resources a tool's
    result changes (tool name -> URI of the changed resource, pushed as a resource-updated event)."""

    resources: Sequence[ResourceDef] = ()
    listers: Sequence[ResourceLister] = ()
    prompts: Sequence[Callable[..., Any]] = ()
    updates: Mapping[str, Callable[[BaseModel], str | None]] = field(default_factory=dict)


class _Notifying:
    """A dispatcher that publishes a resource-updated event after a tool whose result changes a resource."""

    def __init__(self, inner: Dispatcher, updates: Mapping[str, Callable[[BaseModel], str | None]]) -> None:
        self._inner, self._updates = inner, updates
        self.principals = getattr(inner, "principals", None)

    async def dispatch(self, tool: ToolDef, raw_arguments: dict[str, Any], ctx: Context) -> BaseModel:
        result = await self._inner.dispatch(tool, raw_arguments, ctx)
        to_uri = self._updates.get(tool.name)
        uri = to_uri(result) if to_uri is not None and not isinstance(result, ApprovalRequired) else None
        if uri is not None:
            await ctx.notify_resource_updated(uri)
        return result


class _Server(MCPServer):
    """``MCPServer`` whose ``resources/list`` adds the caller's own resources (from the server's listers)."""

    def __init__(self, *args: Any, listers: Sequence[ResourceLister], dispatcher: Dispatcher, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listers, self._dispatcher = listers, dispatcher

    async def _handle_list_resources(self, ctx: Any, params: Any) -> ListResourcesResult:
        listed = await self.list_resources()
        if not self._listers:
            return ListResourcesResult(resources=listed)
        context = Context(request_context=ctx, mcp_server=self, subscriptions=self._subscriptions)
        caller = ResourceCaller(self._dispatcher, context)
        for lister in self._listers:
            try:
                found = await lister(caller)
            except ToolFailure as failure:
                if failure.code == "denied":  # the caller may not list these: they are simply not shown
                    continue
                raise ResourceError(failure.render()) from None
            listed += [MCPResource(uri=r.uri, name=r.name, title=r.title, description=r.description,
                                   mime_type=r.mime_type) for r in found]  # fmt: skip
        return ListResourcesResult(resources=listed)


def _resource_reader(defn: ResourceDef, dispatcher: Dispatcher) -> Callable[..., Awaitable[str]]:
    """The registered read function of ``defn``: its parameters are the URI template's variables."""
    from mcp.shared.uri_template import UriTemplate

    variables = list(UriTemplate.parse(defn.uri_template).variable_names)

    async def read(ctx: Context, **params: str) -> str:
        try:
            result = await dispatcher.dispatch(defn.tool, defn.arguments(params), ctx)
            return defn.render(result, params)
        except ToolFailure as failure:
            raise ResourceError(failure.render()) from None

    read.__name__ = defn.name
    read.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(v, inspect.Parameter.KEYWORD_ONLY, annotation=str) for v in variables]
        + [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)],
        return_annotation=str,
    )
    read.__annotations__ = {**dict.fromkeys(variables, str), "ctx": Context, "return": str}
    return read


def build_server(
    name: str,
    instructions: str,
    tools: Sequence[ToolDef],
    dispatcher: Dispatcher,
    *,
    schema_cache: ToolSchemaCache | None = None,
    extras: Extras | None = None,
    **server_kwargs: Any,
) -> MCPServer:
    """An ``MCPServer`` whose every tool and resource read runs through ``dispatcher`` (the guard);
    ``schema_cache`` reuses the schemas of tools registered before; ``extras`` adds resources and prompts;
    ``tool_prefix`` (e.g. ``workfront_``) is put before every served tool name, for clients that merge servers."""
    tool_prefix = server_kwargs.pop("tool_prefix", "") or ""
    if not TOOL_PREFIX.fullmatch(tool_prefix):
        raise ValueError(f"tool_prefix: {tool_prefix!r} is not a tool-name prefix; use letters, digits, _ or -")
    names = [t.name for t in tools]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate tool names in {name}: {names}")
    # MCPServer configures the root logger at this level: INFO would print library chatter into CLI output.
    server_kwargs.setdefault("log_level", "WARNING")
    server_kwargs.setdefault("version", _version())
    extras = extras or Extras()
    if extras.updates:
        dispatcher = _Notifying(dispatcher, extras.updates)
    register = _mcp_tool if schema_cache is None else schema_cache.tool
    server = _Server(
        name,
        instructions=instructions,
        # Only the wire name changes: the guard, policies and audit see the tool's own name (ToolDef.name).
        tools=[_prefixed(register(t, dispatcher), tool_prefix) for t in tools],
        listers=extras.listers,
        dispatcher=dispatcher,
        **server_kwargs,
    )
    for res in extras.resources:
        server.resource(res.uri_template, name=res.name, title=res.title, description=res.description,
                        mime_type=res.mime_type)(_resource_reader(res, dispatcher))  # fmt: skip
    for fn in extras.prompts:
        server.add_prompt(Prompt.from_function(fn, title=getattr(fn, "title", None)))
    return server


def _prefixed(tool: Tool, prefix: str) -> Tool:
    return tool.model_copy(update={"name": prefix + tool.name}) if prefix else tool


def _version() -> str:
    """MCC's installed version, reported in every server's ``initialize`` answer."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("marketing-command-center")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def served_tool(server: MCPServer, name: str) -> ToolDef | None:
    """The ``ToolDef`` behind tool ``name`` of a server built by ``build_server`` (None when it serves no such tool)."""
    tool = server._tool_manager.get_tool(name)
    return getattr(tool.fn, "tool_def", None) if tool is not None else None
