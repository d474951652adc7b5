"""ClaudeModel against a local HTTP server speaking the Anthropic Messages API (tests/wire/anthropic_server.py)."""

import json
import logging
import traceback
from collections.abc import Callable

import pytest

from agents.models import (
    ChatModel,
    Message,
    MessageDone,
    ModelError,
    ModelOverloaded,
    ModelRateLimited,
    ModelRequest,
    ModelUnavailable,
    TextBlock,
    TextDelta,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    ToolUseDone,
    ToolUseStart,
)
from agents.models.claude import ClaudeModel, opaque_user_id
from tests.wire.anthropic_server import (
    DEFAULT_KEY,
    AnthropicWireServer,
    sent_key,
    sse_events,
    text_message,
    tool_use_message,
)

MODEL = "claude-sonnet-4-6"
SYSTEM = "You are the MCC campaign assistant."
TOOLS = [
    ToolSpec(
        name="search_campaigns",
        description="Find campaigns",
        input_schema={"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
    ),
    ToolSpec(
        name="create_task",
        description="Create a task",
        input_schema={
            "type": "object",
            "properties": {"title": {"type": "string"}, "budget": {"type": "number"}, "tags": {"type": "array"}},
        },
    ),
]
TASK_INPUT = {"title": 'Launch "Q3" brief, {draft}', "budget": 12500.5, "tags": ["email", "paid social"]}

Factory = Callable[..., AnthropicWireServer]


def claude(server: AnthropicWireServer, **kw: object) -> ClaudeModel:
    return ClaudeModel(api_key=server.api_key, model=MODEL, base_url=server.base_url, **kw)


def ask(text: str = "Create a task for the Q3 launch", **kw: object) -> ModelRequest:
    return ModelRequest(system=SYSTEM, messages=[Message(role="user", content=text)], tools=TOOLS, **kw)


async def test_tool_use_round_trip_with_cached_static_prefix(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server()
    server.reply(
        tool_use_message("create_task", TASK_INPUT, text="I'll create it.", id="toolu_01"),
        text_message("Done: task created."),
    )
    model = claude(server)
    assert isinstance(model, ChatModel)
    first = await model.complete(ask())

    assert first.stop_reason == "tool_use"
    assert first.text == "I'll create it."
    assert first.tool_uses == [ToolUseBlock(id="toolu_01", name="create_task", input=TASK_INPUT)]
    body = server.bodies[0]
    assert body["model"] == MODEL and body["max_tokens"] == 1024
    assert body["system"] == [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    assert [t["name"] for t in body["tools"]] == ["search_campaigns", "create_task"]
    assert "cache_control" not in body["tools"][0]
    assert body["tools"][1]["cache_control"] == {"type": "ephemeral"}
    assert body["tools"][1]["input_schema"] == TOOLS[1].input_schema
    assert body["tool_choice"] == {"type": "auto"}
    # The conversation's end is the third breakpoint: the next step reads everything before it from the cache.
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Create a task for the Q3 launch", "cache_control": {"type": "ephemeral"}}
            ],
        }
    ]
    assert "temperature" not in body and "metadata" not in body
    headers = server.requests[0].headers
    assert sent_key(headers) == DEFAULT_KEY and headers["anthropic-version"]

    # Send the tool result back; the server rejects a tool_result whose id is not in the previous turn.
    conversation = [
        *ask().messages,
        first.to_message(),
        Message(role="user", content=[ToolResultBlock(tool_use_id="toolu_01", content="task 42 created")]),
    ]
    second = await model.complete(ask().model_copy(update={"messages": conversation}))
    assert second.stop_reason == "end_turn" and second.text == "Done: task created."
    sent = server.bodies[1]["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "I'll create it."},
            {"type": "tool_use", "id": "toolu_01", "name": "create_task", "input": TASK_INPUT},
        ],
    }
    assert sent[2] == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_01",
                "content": "task 42 created",
                "cache_control": {"type": "ephemeral"},
            }
        ],
    }
    assert json.dumps(sent).count("cache_control") == 1  # only the newest block: the breakpoint moves each step
    await model.aclose()


async def test_error_tool_result_and_request_options_on_the_wire(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server()
    server.reply(tool_use_message("search_campaigns", {"query": "q2"}))  # a forced tool is answered by a call only
    model = claude(server)
    conversation = [
        Message(role="user", content="go"),
        Message(role="assistant", content=[ToolUseBlock(id="toolu_x", name="search_campaigns", input={"query": "q"})]),
        Message(
            role="user",
            content=[ToolResultBlock(tool_use_id="toolu_x", content=[TextBlock(text="boom")], is_error=True)],
        ),
    ]
    request = ModelRequest(
        system=SYSTEM,
        messages=conversation,
        tools=TOOLS,
        max_tokens=200,
        temperature=0.0,
        tool_choice={"type": "tool", "name": "search_campaigns"},
        metadata={"user": {"user_id": "maya.chen", "tenant_id": "acme"}, "user_id": "maya.chen", "trace": "x"},
    )
    await model.complete(request)
    body = server.bodies[0]
    assert body["messages"][2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_x",
            "content": [{"type": "text", "text": "boom"}],
            "is_error": True,
            "cache_control": {"type": "ephemeral"},
        }
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "search_campaigns"}
    assert body["temperature"] == 0.0 and body["max_tokens"] == 200
    # An opaque, stable hash of tenant and user: the API never sees the name, and tenants do not collide.
    sent_user = body["metadata"]["user_id"]
    assert set(body["metadata"]) == {"user_id"} and "maya" not in sent_user and "acme" not in sent_user
    assert sent_user == opaque_user_id({"user": {"user_id": "maya.chen", "tenant_id": "acme"}})
    assert sent_user != opaque_user_id({"user": {"user_id": "maya.chen", "tenant_id": "globex"}})


async def test_no_tools_no_system_sends_neither(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server()
    server.reply(text_message("hello"))
    response = await claude(server).complete(ModelRequest(messages=[Message(role="user", content="hi")]))
    assert response.text == "hello"
    assert not {"system", "tools", "tool_choice"} & server.bodies[0].keys()


async def test_usage_with_cache_fields(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server()
    server.reply(
        text_message("a", usage={"input_tokens": 5, "output_tokens": 2, "cache_creation_input_tokens": 1800}),
        text_message("b", usage={"input_tokens": 6, "output_tokens": 3, "cache_read_input_tokens": 1800}),
    )
    model = claude(server)
    first, second = await model.complete(ask()), await model.complete(ask())
    assert (first.usage.input_tokens, first.usage.output_tokens) == (5, 2)
    assert (first.usage.cache_creation_input_tokens, first.usage.cache_read_input_tokens) == (1800, 0)
    assert (second.usage.cache_creation_input_tokens, second.usage.cache_read_input_tokens) == (0, 1800)
    assert first.model == MODEL and first.id.startswith("msg_")


async def test_streaming_text(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server(chunk=4)
    text = "Your Q3 launch has three open tasks."
    server.reply(text_message(text, usage={"cache_read_input_tokens": 900}))
    events = [e async for e in claude(server).stream(ask())]

    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 1 and "".join(deltas) == text
    assert isinstance(events[-1], MessageDone)
    assert sum(isinstance(e, MessageDone) for e in events) == 1
    done = events[-1].response
    assert done.text == text and done.stop_reason == "end_turn"
    assert done.usage.output_tokens == 12 and done.usage.cache_read_input_tokens == 900
    assert server.bodies[0]["stream"] is True
    assert server.bodies[0]["system"][0]["cache_control"] == {"type": "ephemeral"}


async def test_streaming_tool_use_reassembles_split_json(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server(chunk=5)
    reply = tool_use_message("create_task", TASK_INPUT, text="On it.", id="toolu_s1")
    partials = [
        json.loads(e.decode().split("data: ", 1)[1])["delta"]["partial_json"]
        for e in sse_events(reply, chunk=5)
        if b"input_json_delta" in e
    ]
    assert len(partials) > 5 and "".join(partials) == json.dumps(TASK_INPUT)  # really split mid-JSON
    server.reply(reply)

    events = [e async for e in claude(server).stream(ask())]
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("ToolUseStart") < kinds.index("ToolUseDone") < kinds.index("MessageDone") == len(kinds) - 1
    start = next(e for e in events if isinstance(e, ToolUseStart))
    done = next(e for e in events if isinstance(e, ToolUseDone))
    assert (start.id, start.name) == ("toolu_s1", "create_task")
    assert done.block == ToolUseBlock(id="toolu_s1", name="create_task", input=TASK_INPUT)
    final = events[-1].response
    assert final.stop_reason == "tool_use" and final.text == "On it." and final.tool_uses == [done.block]


async def test_429_is_retried_then_succeeds(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server()
    server.fail(429, "rate_limit_error", "Number of requests has exceeded your rate limit", retry_after="0.01")
    server.reply(text_message("after the wait"))
    response = await claude(server).complete(ask())
    assert response.text == "after the wait"
    assert [r.status for r in server.requests] == [429, 200]


async def test_529_is_retried_then_succeeds_also_when_streaming(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server()
    server.fail(529, "overloaded_error", "Overloaded", retry_after="0.01")
    server.reply(text_message("ok"))
    assert (await claude(server).complete(ask())).text == "ok"
    server.fail(529, "overloaded_error", "Overloaded", times=2, retry_after="0.01")
    server.reply(text_message("streamed"))
    events = [e async for e in claude(server).stream(ask())]
    assert events[-1].response.text == "streamed"
    assert [r.status for r in server.requests] == [529, 200, 529, 529, 200]


async def test_persistent_529_raises_model_overloaded_after_max_retries(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server()
    server.fail(529, "overloaded_error", "Overloaded", times=10, retry_after="0.01")
    with pytest.raises(ModelOverloaded, match="overloaded after 2 retries") as info:
        await claude(server, max_retries=2).complete(ask())
    assert len(server.requests) == 3
    assert info.value.status_code == 529


async def test_persistent_429_raises_model_rate_limited_with_retry_after(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server()
    server.fail(429, "rate_limit_error", "slow down", times=10, retry_after="0.02")
    with pytest.raises(ModelRateLimited) as info:
        await claude(server, max_retries=1).complete(ask())
    assert info.value.retry_after == pytest.approx(0.02)
    assert len(server.requests) == 2


async def test_overloaded_mid_stream_before_any_text_is_retried(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server()
    server.fail_mid_stream("overloaded_error", "Overloaded", times=2)
    server.reply(text_message("after two overloads"))
    events = [e async for e in claude(server).stream(ask())]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "after two overloads"
    assert events[-1].response.text == "after two overloads"
    assert [r.status for r in server.requests] == [200, 200, 200]


async def test_overloaded_mid_stream_every_time_says_so_honestly(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server()
    server.fail_mid_stream("overloaded_error", "Overloaded", times=5)
    with pytest.raises(ModelOverloaded, match="mid-stream after 1 retries") as info:
        _ = [e async for e in claude(server, max_retries=1).stream(ask())]
    assert len(server.requests) == 2 and "after 1 retries" in str(info.value)


async def test_a_non_retryable_error_event_mid_stream_is_not_retried(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server()
    server.fail_mid_stream("invalid_request_error", "prompt is too long")
    server.reply(text_message("never asked for"))
    with pytest.raises(ModelError, match="prompt is too long"):
        _ = [e async for e in claude(server).stream(ask())]
    assert len(server.requests) == 1


async def test_bad_request_is_a_model_error_not_retried(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server()
    server.fail(400, "invalid_request_error", "max_tokens: too large")
    with pytest.raises(ModelError, match=r"400 invalid_request_error.*max_tokens") as info:
        await claude(server).complete(ask())
    assert type(info.value) is ModelError and len(server.requests) == 1


async def test_401_raises_model_unavailable_without_the_key(anthropic_wire_server: Factory) -> None:
    server = anthropic_wire_server()
    wrong_key = "sk-ant-WRONG-secret-value-987654321"
    model = ClaudeModel(api_key=wrong_key, model=MODEL, base_url=server.base_url)
    with pytest.raises(ModelUnavailable, match="rejected the API key") as info:
        await model.complete(ask())
    assert len(server.requests) == 1  # auth errors are not retried
    assert sent_key(server.requests[0].headers) == wrong_key
    rendered = [str(info.value), repr(info.value), "".join(traceback.format_exception(info.value))]
    assert all(wrong_key not in text for text in rendered)
    assert info.value.status_code == 401


async def test_unreachable_endpoint_raises_model_unavailable() -> None:
    model = ClaudeModel(api_key=DEFAULT_KEY, model=MODEL, base_url="http://127.0.0.1:9", max_retries=0, timeout=5)
    with pytest.raises(ModelUnavailable, match="cannot reach"):
        await model.complete(ask())


def test_api_key_never_in_repr_or_errors() -> None:
    secret = "sk-ant-api03-very-secret-key"
    model = ClaudeModel(api_key=secret, model=MODEL, base_url="http://127.0.0.1:9")
    assert secret not in repr(model) and secret not in str(model)
    assert secret not in repr(vars(model))
    assert MODEL in repr(model)
    with pytest.raises(ModelUnavailable, match="API key"):
        ClaudeModel(api_key="", model=MODEL)


async def test_api_key_not_in_debug_logs(anthropic_wire_server: Factory, caplog: pytest.LogCaptureFixture) -> None:
    server = anthropic_wire_server()
    server.fail(429, "rate_limit_error", "slow down", retry_after="0.01")
    server.reply(text_message("fine"))
    with caplog.at_level(logging.DEBUG):
        await claude(server).complete(ask())
    assert caplog.records  # the SDK did log the request at debug level
    assert server.api_key not in caplog.text
