"""The model interface types and their wire conversions, without any network."""

import json

import pytest
from pydantic import TypeAdapter, ValidationError

from agents.models import (
    Message,
    MessageDone,
    ModelRequest,
    ModelResponse,
    StreamEvent,
    TextBlock,
    TextDelta,
    ToolChoiceTool,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    messages_from_wire,
    response_from_wire,
    response_to_wire,
    to_wire_messages,
    to_wire_tools,
)
from agents.models.wire import to_wire_system, tool_choice_to_wire

WIRE_CONVERSATION = [
    {"role": "user", "content": "Create the Q3 launch campaign"},
    {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Creating it."},
            {"type": "tool_use", "id": "toolu_1", "name": "create_campaign", "input": {"name": "Q3 launch"}},
        ],
    },
    {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "created", "is_error": True},
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "ok"}]},
        ],
    },
]


def test_wire_messages_round_trip_exactly() -> None:
    messages = messages_from_wire(WIRE_CONVERSATION)
    assert isinstance(messages[1].content[1], ToolUseBlock)
    assert isinstance(messages[2].content[0], ToolResultBlock)
    assert messages[2].content[0].is_error is True
    assert to_wire_messages(messages) == WIRE_CONVERSATION


def test_messages_survive_json_like_graph_state() -> None:
    messages = messages_from_wire(WIRE_CONVERSATION)
    dumped = json.loads(json.dumps([m.model_dump(mode="json") for m in messages]))
    assert messages_from_wire(dumped) == messages


def test_response_from_wire_keeps_text_and_tool_use_and_skips_other_blocks() -> None:
    response = response_from_wire(
        {
            "id": "msg_1",
            "model": "claude-x",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "s"},
                {"type": "text", "text": "Let me look.", "citations": None},
                {"type": "tool_use", "id": "toolu_9", "name": "search", "input": {"q": "budget"}},
            ],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 10, "output_tokens": 3, "cache_read_input_tokens": None},
        }
    )
    assert [b.type for b in response.content] == ["text", "tool_use"]
    assert response.text == "Let me look."
    assert response.tool_uses == [ToolUseBlock(id="toolu_9", name="search", input={"q": "budget"})]
    assert response.usage.cache_read_input_tokens == 0
    assert response.to_message().role == "assistant"
    assert response_from_wire(response_to_wire(response)) == response


def test_tools_system_and_tool_choice_on_the_wire() -> None:
    tools = [ToolSpec(name="a", description="A", input_schema={"type": "object"}), ToolSpec(name="b")]
    wire = to_wire_tools(tools, cache_last=True)
    assert "cache_control" not in wire[0]
    assert wire[1]["cache_control"] == {"type": "ephemeral"}
    assert to_wire_tools(tools)[1].get("cache_control") is None
    assert to_wire_system("") == []
    assert to_wire_system("Be brief.", cache=True) == [
        {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}
    ]
    assert tool_choice_to_wire("any") == {"type": "any"}
    request = ModelRequest(messages=[Message(role="user", content="hi")], tool_choice={"type": "tool", "name": "a"})
    assert request.tool_choice == ToolChoiceTool(name="a")
    assert tool_choice_to_wire(request.tool_choice) == {"type": "tool", "name": "a"}


def test_request_validation_names_the_field() -> None:
    with pytest.raises(ValidationError, match="name"):
        ToolSpec(name="has space")
    with pytest.raises(ValidationError, match="max_tokens"):
        ModelRequest(messages=[], max_tokens=0)
    with pytest.raises(ValidationError, match="role"):
        Message(role="system", content="x")


def test_stream_events_are_a_discriminated_union() -> None:
    adapter = TypeAdapter(StreamEvent)
    assert adapter.validate_python({"type": "text_delta", "text": "a"}) == TextDelta(text="a")
    done = MessageDone(response=ModelResponse(content=[TextBlock(text="x")], stop_reason="end_turn"))
    assert adapter.validate_python(done.model_dump()) == done


def test_plain_string_content_as_blocks() -> None:
    assert Message(role="user", content="hi").blocks == [TextBlock(text="hi")]
