"""Claude's context budget (results capped one by one and per step, oldest dropped) and the usage meter."""

from __future__ import annotations

import json

from agents.models import (
    Message,
    MessageDone,
    ModelRequest,
    ModelResponse,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
    UsageMeter,
)
from agents.models.context import RESULT_CHARS, STEP_CHARS, cap_text, fit_context, fit_step


def _round(i: int, size: int) -> list[Message]:
    use = ToolUseBlock(id=f"t{i}", name="s__read", input={"page": i})
    return [
        Message(role="assistant", content=[use]),
        Message(role="user", content=[ToolResultBlock(tool_use_id=f"t{i}", content=str(i) * size)]),
    ]


def test_a_long_json_list_is_cut_to_whole_items_with_a_hint() -> None:
    rows = [{"id": i, "notes": "n" * 200} for i in range(1_000)]
    text = cap_text(json.dumps({"count": 1_000, "tasks": rows}), RESULT_CHARS)
    data = json.loads(text)
    shown = len(data["tasks"])
    assert len(text) <= RESULT_CHARS and 0 < shown < 1_000 and data["tasks"][-1] == rows[shown - 1]
    assert f"{shown} of 1000 items shown ({1_000 - shown} more available)" in data["truncated"]
    assert "offset" in data["truncated"] and data["count"] == 1_000
    plain = cap_text("x" * 50_000, 1_000)
    assert plain.startswith("x" * 1_000) and "[truncated: 49000 more characters;" in plain
    assert cap_text("short", 10) == "short"


def test_one_step_shares_its_budget_small_results_stay_whole() -> None:
    small = ToolResultBlock(tool_use_id="s", content='{"ok": true}')
    big = [ToolResultBlock(tool_use_id=f"b{i}", content=json.dumps(list(range(30_000)))) for i in range(4)]
    fitted = fit_step([small, *big])
    assert fitted[0] == small
    assert sum(len(b.content) for b in fitted) <= STEP_CHARS
    assert all(json.loads(b.content)["truncated"] for b in fitted[1:])
    assert [b.tool_use_id for b in fitted] == ["s", "b0", "b1", "b2", "b3"]
    assert fit_step([small]) == [small]


def test_each_result_is_capped_then_the_oldest_are_dropped_first_and_the_last_message_never() -> None:
    huge = [Message(role="user", content="read"), *_round(9, 500_000)]
    assert len(fit_context(huge)[-1].blocks[0].content) <= RESULT_CHARS + 200  # capped, even in the last message
    messages = [Message(role="user", content="read everything"), *_round(1, 30_000), *_round(2, 30_000)]
    messages += _round(3, 30_000)
    fitted = fit_context(messages, budget=70_000)
    results = [m.blocks[0] for m in fitted if isinstance(m.blocks[0], ToolResultBlock)]
    assert "dropped to fit the context" in results[0].content and "30000 characters" in results[0].content
    assert results[1].content == "2" * 30_000 and results[2].content == "3" * 30_000
    assert [b.tool_use_id for b in results] == ["t1", "t2", "t3"]  # pairing with the tool_use blocks is kept
    assert fit_context(messages, budget=1_000_000) == messages  # under budget: unchanged (cache-friendly)
    squeezed = fit_context(messages, budget=10)
    assert squeezed[-1] == messages[-1]  # what the model answers now is never cut


class _Fixed:
    name = "fixed"

    def __init__(self, usage: Usage) -> None:
        self.usage = usage

    async def complete(self, request: ModelRequest) -> ModelResponse:
        return ModelResponse(content=[TextBlock(text="ok")], stop_reason="end_turn", usage=self.usage)

    async def stream(self, request: ModelRequest):  # type: ignore[no-untyped-def]
        yield MessageDone(response=await self.complete(request))


async def test_usage_meter_sums_complete_and_stream_calls() -> None:
    one = Usage(input_tokens=10, output_tokens=5, cache_creation_input_tokens=100, cache_read_input_tokens=7)
    meter = UsageMeter(_Fixed(one))
    request = ModelRequest(messages=[Message(role="user", content="hi")])
    await meter.complete(request)
    _ = [e async for e in meter.stream(request)]
    assert meter.name == "fixed" and meter.total.model_calls == 2
    assert (meter.total.input_tokens, meter.total.output_tokens) == (20, 10)
    assert (meter.total.cache_creation_input_tokens, meter.total.cache_read_input_tokens) == (200, 14)
    assert meter.total.total_input_tokens == 20 + 200 + 14
