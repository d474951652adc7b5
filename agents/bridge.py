"""The MCP -> model tool bridge: MCP tools become ``ToolSpec``s named ``<server>__<tool>``, calls go back through MCP.

Results reach the model as data: the JSON of the tool's structured result (``{"result": ...}`` unwrapped), or the
tool's error text flagged ``is_error``. A structured ``{"status": "approval_required", ...}`` answer is recognised
here so the graph can interrupt instead of showing it to the model.

A result over ``MAX_RESULT_CHARS`` is cut (a JSON list keeps whole items and says how many more there are and how
to get them); Claude's tighter per-result and per-step budgets are applied when its request is built. Schemas are
lean (``agents.models.schema``) and descriptions never tell the model to re-send a call with ``approval_id``: the
graph does that itself once a human approved.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from mcp_types import CallToolResult, TextContent, Tool
from pydantic import ValidationError

from agents.models.base import ToolResultBlock, ToolSpec
from agents.models.context import cap_text
from agents.models.schema import lean_schema
from agents.protocol import AGENT_TOOLS, APPROVAL_ARG, AgentName, model_tool_name, split_tool_name

log = logging.getLogger("mcc.agents")

Decision = Literal["allow", "deny", "require_approval", "error"]
ResultStatus = Literal["ok", "error", "approval_required", "rejected"]

# ~100k tokens: the absolute cap of one result in state. What Claude sees is capped further per result and per step
# when its request is built (agents.models.context), so the offline model still reads a long list whole.
MAX_RESULT_CHARS = 400_000
# The servers' docs tell a direct MCP client to re-send an approved call with approval_id; here the graph does it.
_RESEND_RE = re.compile(
    r"[;,]?\s*(?:and |then )?(?:the identical call is re-sent|(?:the requester may )?re-send the identical call)"
    r"(?: once)? with approval_id",
    re.IGNORECASE,
)
_RESEND_NOTE = "; the system then waits for the human decision and runs the call itself (never re-send it)"
# Error codes the guard renders as "[code] ..." that mean the policy said no (everything else is an error).
_DENY_CODES = ("[denied]", "[approval_rejected]")


class ToolSession(Protocol):
    """What the bridge needs of an MCP client session (``mcp.Client`` satisfies it)."""

    async def list_tools(self) -> Any: ...

    async def call_tool(self, name: str, arguments: dict[str, Any] | None = None) -> CallToolResult: ...


@dataclass(frozen=True, slots=True)
class BridgedTool:
    """One MCP tool as the model sees it, with where it lives and whether it only reads."""

    server: str
    tool: str
    spec: ToolSpec
    read_only: bool


@dataclass(slots=True)
class ToolOutcome:
    """What one MCP call came back with, classified for the graph and the turn record."""

    server: str
    tool: str
    text: str
    is_error: bool
    decision: Decision
    result_status: ResultStatus
    approval: dict[str, Any] | None = None
    structured: Any = None

    def to_result_block(self, tool_use_id: str) -> ToolResultBlock:
        """The tool_result block the model gets (never called for an approval_required answer)."""
        return ToolResultBlock(tool_use_id=tool_use_id, content=self.text, is_error=self.is_error)


@dataclass
class ToolBridge:
    """MCP clients by server name -> model tools; ``load()`` lists every server's tools once."""

    sessions: Mapping[str, ToolSession]
    tools: dict[str, BridgedTool] = field(default_factory=dict)

    async def load(self) -> ToolBridge:
        """List the tools of every server (a server may list fewer tools than ``AGENT_TOOLS`` names)."""
        found: dict[str, BridgedTool] = {}
        for server, session in self.sessions.items():
            listing = await session.list_tools()
            for tool in listing.tools:
                try:
                    bridged = bridge_tool(server, tool)
                except ValidationError:  # a name a model API cannot carry (e.g. dots): no agent is offered it
                    log.warning("tool %s of server %s has a name models cannot use; skipped", tool.name, server)
                    continue
                found[bridged.spec.name] = bridged
        self.tools = found
        return self

    def specs_for(self, agent: AgentName, *, read_only: bool) -> list[ToolSpec]:
        """One agent's tools: its ``AGENT_TOOLS`` that the servers list; a read-only user gets readers only."""
        specs: list[ToolSpec] = []
        for server, names in AGENT_TOOLS[agent].items():
            for name in names:
                bridged = self.tools.get(model_tool_name(server, name))
                if bridged is None or (read_only and not bridged.read_only):
                    continue
                specs.append(bridged.spec)
        return specs

    async def call(self, model_name: str, arguments: Mapping[str, Any]) -> ToolOutcome:
        """Run ``<server>__<tool>`` through its MCP client; unknown names and transport failures become errors."""
        try:
            server, tool = split_tool_name(model_name)
        except ValueError as exc:
            return _error_outcome("", model_name, str(exc))
        session = self.sessions.get(server)
        if session is None:
            return _error_outcome(server, tool, f"unknown tool server {server!r}; use one of the tools offered")
        try:
            result = await session.call_tool(tool, dict(arguments))
        except Exception as exc:  # boundary: a transport or protocol failure must reach the model as a tool error
            return _error_outcome(
                server, tool, f"the {server} server could not run {tool}: {type(exc).__name__}: {exc}"
            )
        return classify(server, tool, result)


def bridge_tool(server: str, tool: Tool) -> BridgedTool:
    """One MCP tool as a ``ToolSpec``; an optional ``approval_id`` (the control argument of a call a policy may hold)
    is hidden because only the graph may add it; a required one names what the tool acts on and stays."""
    schema = dict(tool.input_schema or {"type": "object", "properties": {}})
    properties = dict(schema.get("properties") or {})
    if APPROVAL_ARG in properties and APPROVAL_ARG not in (schema.get("required") or []):
        properties.pop(APPROVAL_ARG)
        schema["properties"] = properties
        if isinstance(schema.get("required"), list):
            schema["required"] = [r for r in schema["required"] if r != APPROVAL_ARG]
    read_only = bool(tool.annotations and tool.annotations.read_only_hint)
    description = _RESEND_RE.sub(_RESEND_NOTE, tool.description or "")
    schema.pop("description", None)  # "Arguments of <tool>": the tool's description already says it
    spec = ToolSpec(name=model_tool_name(server, tool.name), description=description, input_schema=lean_schema(schema))
    return BridgedTool(server=server, tool=tool.name, spec=spec, read_only=read_only)


def classify(server: str, tool: str, result: CallToolResult) -> ToolOutcome:
    """An MCP result as a ``ToolOutcome``: structured ``{"result": x}`` unwrapped to JSON text, errors flagged."""
    if result.is_error:
        text = _bounded(_text_of(result.content) or f"{tool} failed without a message")
        decision: Decision = "deny" if any(code in text for code in _DENY_CODES) else "error"
        return ToolOutcome(server, tool, text, True, decision, "error")
    structured = result.structured_content
    if isinstance(structured, dict) and set(structured) == {"result"}:
        structured = structured["result"]  # tools with a non-object output are wrapped by the server
    if structured is None:
        text = _text_of(result.content)
        try:
            structured = json.loads(text) if text else None
        except ValueError:
            structured = None
    else:
        text = json.dumps(structured, ensure_ascii=False, sort_keys=False, default=str)
    if _is_approval(structured):
        return ToolOutcome(server, tool, text, False, "require_approval", "approval_required", structured, structured)
    return ToolOutcome(server, tool, _bounded(text), False, "allow", "ok", None, structured)


def _bounded(text: str) -> str:
    return cap_text(text, MAX_RESULT_CHARS)


def _is_approval(structured: Any) -> bool:
    return (
        isinstance(structured, dict)
        and structured.get("status") == "approval_required"
        and isinstance(structured.get("approval_id"), str)
        and bool(structured["approval_id"])
    )


def _text_of(content: Iterable[Any]) -> str:
    return "\n".join(block.text for block in content if isinstance(block, TextContent))


def _error_outcome(server: str, tool: str, message: str) -> ToolOutcome:
    return ToolOutcome(server, tool, message, True, "error", "error")
