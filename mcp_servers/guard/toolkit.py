"""Tool definitions and their registration on an ``MCPServer``.

Each tool is a strict pydantic input model, an output model and an async handler. Registration builds
the MCP ``Tool`` ourselves so that (a) the published input schema is the strict model's schema and (b) the
raw arguments reach the guard unfiltered: an unknown argument is an error, never silently dropped.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.tools.base import Tool
from mcp.types import ToolAnnotations
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
Uuid = Annotated[str, Field(pattern=UUID_PATTERN)]  # a canonical spine id, as every server's tools take it


class ToolInput(BaseModel):
    """Base of every tool's arguments: unknown fields are rejected, strings are stripped and bounded."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, str_max_length=20_000)

    approval_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f-]{36}$",
        description=(
            "Only when re-sending a call that was answered with status 'approval_required' and has since "
            "been approved: the approval_id from that answer. The arguments must be identical."
        ),
    )


class CreateInput(ToolInput):
    """Arguments of a tool that creates something: carries an idempotency key."""

    idempotency_key: str | None = Field(
        default=None,
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description=(
            "Client-chosen key that makes the create safe to retry: the same key with the same arguments "
            "returns the first result instead of creating a duplicate; the same key with different arguments "
            "is an error. When omitted, a key is derived from the arguments and the caller."
        ),
    )


class ApprovalRequired(BaseModel):
    """The structured, non-error answer to a call that waits for a human approval."""

    status: Literal["approval_required"] = "approval_required"
    approval_id: str
    required_group: str
    expires_at: AwareDatetime
    reason: str
    rule_ids: list[str] = Field(default_factory=list)
    next_step: str = Field(
        default="Ask a member of required_group to approve it; then re-send the identical call with approval_id.",
    )


class ToolFailure(Exception):
    """A tool error a model can act on: which argument, what is wrong, how to fix it."""

    def __init__(
        self, message: str, *, field: str | None = None, fix: str | None = None, code: str = "invalid"
    ) -> None:
        super().__init__(message)
        self.field = field
        self.fix = fix
        self.code = code

    def render(self) -> str:
        """The text the caller sees: ``[code] field: message. Fix: ...``."""
        text = str(self)
        head = f"{self.field}: {text}" if self.field and not text.startswith(f"{self.field}:") else text
        return f"[{self.code}] {head}" + (f" Fix: {self.fix}" if self.fix else "")


@dataclass(frozen=True, slots=True)
class ToolDef:
    """One tool: name, strict input, output, handler and honest annotations (hints, never security)."""

    name: str
    input_model: type[ToolInput]
    output_model: type[BaseModel]
    handler: Callable[[Any, Any], Awaitable[BaseModel]]
    read_only: bool
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = False
    title: str | None = None

    @property
    def description(self) -> str:
        """The handler's docstring: what the model reads, so it states units, id formats and side effects."""
        return inspect.cleandoc(self.handler.__doc__ or "").strip()


class Dispatcher(Protocol):
    """What runs a call: the guard in production."""

    async def dispatch(self, tool: ToolDef, raw_arguments: dict[str, Any], ctx: Context) -> BaseModel: ...


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
            from mcp.server.mcpserver.exceptions import ToolError

            raise ToolError(failure.render()) from None

    call.__name__ = defn.name
    call.__doc__ = defn.description
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
