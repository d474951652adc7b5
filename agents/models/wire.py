"""Conversion between our message types and plain Anthropic Messages API JSON (the wire format)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, get_args

from pydantic import TypeAdapter

from agents.models.base import (
    Message,
    ModelResponse,
    StopReason,
    TextBlock,
    ToolChoice,
    ToolChoiceTool,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    Usage,
)

EPHEMERAL: dict[str, str] = {"type": "ephemeral"}

_MESSAGES = TypeAdapter(list[Message])
_STOPS = frozenset(get_args(StopReason))  # a stop reason newer than this code reads as None, not a parse error


def block_to_wire(block: TextBlock | ToolUseBlock | ToolResultBlock) -> dict[str, Any]:
    """One content block as wire JSON (blank text inside a tool_result's list content is dropped)."""
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": dict(block.input)}
    content: str | list[dict[str, Any]] = (
        block.content if isinstance(block.content, str) else [block_to_wire(b) for b in block.content if not _blank(b)]
    )
    out: dict[str, Any] = {"type": "tool_result", "tool_use_id": block.tool_use_id}
    if content != []:  # content is optional; an empty list is left out rather than sent
        out["content"] = content
    if block.is_error:  # the API's default is false; omit it to keep the wire minimal
        out["is_error"] = True
    return out


def _blank(block: TextBlock | ToolUseBlock | ToolResultBlock) -> bool:
    """A text block with nothing but whitespace: the API rejects it (a 400 that no retry fixes)."""
    return isinstance(block, TextBlock) and not block.text.strip()


def to_wire_messages(messages: Iterable[Message], *, cache_last: bool = False) -> list[dict[str, Any]]:
    """Messages as the `messages` array of a request.

    Whitespace-only text blocks (e.g. the "\\n\\n" a model writes before a tool_use) are dropped, and a message
    left with nothing is skipped. With `cache_last` the last block carries cache_control, so the next step of an
    agent reads the conversation so far (earlier tool results included) from the cache.
    """
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m.content, str):
            if not m.content.strip():
                continue
            content: str | list[dict[str, Any]] = m.content
        else:
            content = [block_to_wire(b) for b in m.content if not _blank(b)]
            if not content:
                continue
        out.append({"role": m.role, "content": content})
    if cache_last and out:
        last = out[-1]
        if isinstance(last["content"], str):
            last["content"] = [{"type": "text", "text": last["content"]}]
        last["content"][-1]["cache_control"] = dict(EPHEMERAL)
    return out


def messages_from_wire(data: Sequence[dict[str, Any]]) -> list[Message]:
    """Parse a wire `messages` array (e.g. from graph state) into Messages."""
    return _MESSAGES.validate_python(list(data))


def to_wire_tools(tools: Iterable[ToolSpec], *, cache_last: bool = False) -> list[dict[str, Any]]:
    """Tool definitions; with `cache_last` the last one carries cache_control so every tool is in the cached prefix."""
    out = [{"name": t.name, "description": t.description, "input_schema": dict(t.input_schema)} for t in tools]
    if cache_last and out:
        out[-1]["cache_control"] = dict(EPHEMERAL)
    return out


def to_wire_system(system: str, *, cache: bool = False) -> list[dict[str, Any]]:
    """The system prompt as a list of text blocks (empty when there is no system prompt)."""
    if not system:
        return []
    block: dict[str, Any] = {"type": "text", "text": system}
    if cache:
        block["cache_control"] = dict(EPHEMERAL)
    return [block]


def tool_choice_to_wire(choice: ToolChoice) -> dict[str, Any]:
    """`auto`/`any`/`none` or a forced tool as the wire `tool_choice` object."""
    if isinstance(choice, ToolChoiceTool):
        return {"type": "tool", "name": choice.name}
    return {"type": choice}


def usage_from_wire(data: dict[str, Any] | None) -> Usage:
    """Parse wire usage; absent or null counts become 0."""
    data = data or {}
    return Usage(
        input_tokens=data.get("input_tokens") or 0,
        output_tokens=data.get("output_tokens") or 0,
        cache_creation_input_tokens=data.get("cache_creation_input_tokens") or 0,
        cache_read_input_tokens=data.get("cache_read_input_tokens") or 0,
    )


def response_from_wire(data: dict[str, Any]) -> ModelResponse:
    """Parse a wire Message response. Block types we do not use (thinking, server tools, ...) are skipped."""
    content: list[TextBlock | ToolUseBlock] = []
    for raw in data.get("content") or []:
        kind = raw.get("type")
        if kind == "text":
            content.append(TextBlock(text=raw.get("text", "")))
        elif kind == "tool_use":
            content.append(ToolUseBlock(id=raw["id"], name=raw["name"], input=dict(raw.get("input") or {})))
    return ModelResponse(
        id=data.get("id", ""),
        model=data.get("model", ""),
        content=content,
        stop_reason=data.get("stop_reason") if data.get("stop_reason") in _STOPS else None,
        usage=usage_from_wire(data.get("usage")),
    )


def response_to_wire(response: ModelResponse) -> dict[str, Any]:
    """A response as a wire Message (useful for fixtures and logs)."""
    return {
        "id": response.id,
        "type": "message",
        "role": "assistant",
        "model": response.model,
        "content": [block_to_wire(b) for b in response.content],
        "stop_reason": response.stop_reason,
        "stop_sequence": None,
        "usage": response.usage.model_dump(),
    }
