"""The local Messages API enforces the real API's request rules, and ClaudeModel's requests follow them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import pytest

from agents.models import Message, ModelRequest, TextBlock, ToolResultBlock, ToolSpec, ToolUseBlock
from agents.models.claude import ClaudeModel
from tests.wire.anthropic_server import KNOWN_MODELS, AnthropicWireServer, text_message, tool_use_message

Factory = Callable[..., AnthropicWireServer]
MODEL = "claude-sonnet-4-6"
TOOL = {"name": "lookup", "description": "Look up", "input_schema": {"type": "object", "properties": {}}}
USE = {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}
RESULT = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "found"}
EPH = {"type": "ephemeral"}


def _body(**over: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}], **over}


BROKEN: dict[str, tuple[dict[str, Any], str]] = {
    "unknown model": (_body(model="claude-sonnet-4-5-wrong"), "not a known model id"),
    "max_tokens over the limit": (_body(max_tokens=200_000), "max_tokens"),
    "whitespace text before a tool_use": (
        _body(tools=[TOOL], messages=[
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [{"type": "text", "text": "\n\n"}, USE]},
            {"role": "user", "content": [RESULT]},
        ]),
        "non-whitespace text",
    ),
    "empty string content": (_body(messages=[{"role": "user", "content": "  "}]), "non-whitespace text"),
    "tool_use without its result": (
        _body(tools=[TOOL], messages=[
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [USE]},
            {"role": "user", "content": "and?"},
        ]),
        "without `tool_result`",
    ),
    "tool name with a dot": (_body(tools=[{**TOOL, "name": "spine.get"}]), "pattern"),
    "tool name of 65 characters": (_body(tools=[{**TOOL, "name": "x" * 65}]), "pattern"),
    "duplicate tool names": (_body(tools=[TOOL, TOOL]), "unique"),
    "forced tool that does not exist": (_body(tools=[TOOL], tool_choice={"type": "tool", "name": "nope"}), "not found"),
    "five cache breakpoints": (
        _body(
            system=[{"type": "text", "text": f"s{i}", "cache_control": EPH} for i in range(3)],
            tools=[{**TOOL, "cache_control": EPH}],
            messages=[{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": EPH}]}],
        ),
        "maximum of 4",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_the_server_rejects_what_the_api_rejects(anthropic_wire_server: Factory, case: str) -> None:
    server = anthropic_wire_server()
    server.reply(text_message("never sent"))
    body, says = BROKEN[case]
    client = anthropic.Anthropic(api_key=server.api_key, base_url=server.base_url, max_retries=0, timeout=30)
    with pytest.raises(anthropic.BadRequestError, match=says):
        client.messages.create(**body)
    assert server.pending == 1  # nothing was answered


def test_a_valid_request_passes_and_the_known_models_come_from_the_sdk(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server()
    server.reply(text_message("fine"))
    client = anthropic.Anthropic(api_key=server.api_key, base_url=server.base_url, max_retries=0)
    turns = [{"role": "user", "content": "go"}, {"role": "assistant", "content": [USE]}]
    body = _body(tools=[TOOL], messages=[*turns, {"role": "user", "content": [RESULT]}])
    assert client.messages.create(**body).content[0].text == "fine"
    assert MODEL in KNOWN_MODELS and len(KNOWN_MODELS) > 3


@pytest.mark.parametrize(
    ("choice", "scripted"),
    [
        ({"type": "tool", "name": "lookup"}, text_message("hello")),
        ({"type": "any"}, tool_use_message("lookup", {}, text="Let me look.")),
    ],
)
def test_a_forced_tool_choice_cannot_be_scripted_with_text(
    anthropic_wire_server: Factory, choice: dict[str, Any], scripted: dict[str, Any]
) -> None:
    server = anthropic_wire_server()
    server.reply(scripted)
    client = anthropic.Anthropic(api_key=server.api_key, base_url=server.base_url, max_retries=0)
    with pytest.raises(anthropic.BadRequestError, match="tool calls only"):
        client.messages.create(**_body(tools=[TOOL], tool_choice=choice))
    assert server.script_errors


async def test_claude_model_drops_blank_text_and_stays_within_four_breakpoints(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server()
    server.reply(text_message("done"))
    model = ClaudeModel(api_key=server.api_key, model=MODEL, base_url=server.base_url, max_retries=0)
    conversation = [
        Message(role="user", content="find it"),
        Message(role="assistant", content=[TextBlock(text="\n\n"), ToolUseBlock(id="toolu_1", name="lookup")]),
        Message(role="user", content=[ToolResultBlock(tool_use_id="toolu_1", content=[TextBlock(text=" ")])]),
        Message(role="assistant", content=[TextBlock(text="  ")]),  # nothing left: the message is skipped
        Message(role="user", content="thanks"),
    ]
    tools = [ToolSpec(name="lookup")]
    response = await model.complete(ModelRequest(system="S", messages=conversation, tools=tools))
    assert response.text == "done"  # the server would have answered 400 to a blank block
    sent = server.bodies[0]
    assert sent["messages"][1]["content"] == [{"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}]
    assert sent["messages"][2]["content"] == [{"type": "tool_result", "tool_use_id": "toolu_1"}]
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user", "user"]
    await model.aclose()
