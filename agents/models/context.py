"""Keep a request within Claude's context: tool results capped one by one and per step, oldest dropped first.

Applied by ``ClaudeModel`` when it builds a request, so the graph state keeps every result whole (the offline model,
which has no context window, reads them whole) and the cuts are a pure function of the conversation (the same
conversation is cut the same way, so the prompt cache still matches). A cut JSON result keeps whole list items and
says how many more are available and how to get them; a conversation over the budget loses its oldest tool results
first (one cache miss); the last message, which the model answers now, is only capped, never dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from agents.models.base import Message, TextBlock, ToolResultBlock, ToolUseBlock

RESULT_CHARS = 40_000  # ~10-13k tokens: one tool result
STEP_CHARS = 100_000  # all results of one step together (a step may run 8 calls)
CONTEXT_CHARS = 400_000  # ~100-130k tokens of conversation, leaving room for system, tools and the answer
MORE_HINT = "narrow the request (filters, a smaller limit) or ask for the next page (offset/page argument)"


def cap_text(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters: JSON keeps whole list items and says how many more exist."""
    if len(text) <= limit:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    fitted = _fit_json(data, limit) if isinstance(data, (list, dict)) else None
    if fitted is not None:
        return fitted
    cut = len(text) - limit
    return f"{text[:limit]}\n[truncated: {cut} more characters; {MORE_HINT}]"


def _fit_json(data: list[Any] | dict[str, Any], limit: int) -> str | None:
    """The JSON with its longest list shortened to what fits, plus a ``truncated`` note; None if that cannot fit."""
    wrap: Callable[[list[Any], str], Any]
    if isinstance(data, list):
        items = data

        def wrap(kept: list[Any], note: str) -> Any:
            return {"items": kept, "truncated": note}
    else:
        lists = [(k, v) for k, v in data.items() if isinstance(v, list) and v]
        if not lists:
            return None
        key, items = max(lists, key=lambda kv: len(json.dumps(kv[1], default=str)))

        def wrap(kept: list[Any], note: str) -> Any:
            return {**data, key: kept, "truncated": note}

    total = len(items)

    def render(k: int) -> str:
        note = f"{k} of {total} items shown ({total - k} more available); {MORE_HINT}"
        return json.dumps(wrap(items[:k], note), ensure_ascii=False, default=str)

    if len(render(0)) > limit:
        return None
    lo, hi = 0, total - 1  # the largest k < total whose rendering fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(render(mid)) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return render(lo)


def result_text(block: ToolResultBlock) -> str:
    """A tool_result's content as one string."""
    return block.content if isinstance(block.content, str) else "".join(t.text for t in block.content)


def fit_step(
    blocks: Sequence[ToolResultBlock], budget: int = STEP_CHARS, per_result: int = RESULT_CHARS
) -> list[ToolResultBlock]:
    """One step's results: each within ``per_result``, and together within ``budget`` (small ones stay whole)."""
    sizes = [min(len(result_text(b)), per_result) for b in blocks]
    cap = per_result
    if sum(sizes) > budget:
        share, left, large = budget, len(blocks), 0
        for size in sorted(sizes):  # water-filling: each gets at most an equal share of what is left
            if size <= share // max(left, 1):
                share, left = share - size, left - 1
            else:
                large += 1
        cap = max(share // max(large, 1), 1_000)
    return [
        b.model_copy(update={"content": cap_text(result_text(b), cap)}) if len(result_text(b)) > cap else b
        for b in blocks
    ]


def _size(message: Message) -> int:
    if isinstance(message.content, str):
        return len(message.content)
    total = 0
    for block in message.content:
        if isinstance(block, TextBlock):
            total += len(block.text)
        elif isinstance(block, ToolResultBlock):
            total += len(result_text(block))
        elif isinstance(block, ToolUseBlock):
            total += len(json.dumps(block.input, default=str)) + len(block.name)
    return total


def _capped(message: Message, budget: int, per_result: int) -> Message:
    """A user message of tool results with the step budget applied (other messages unchanged)."""
    if isinstance(message.content, str) or not any(isinstance(b, ToolResultBlock) for b in message.content):
        return message
    results = [b for b in message.content if isinstance(b, ToolResultBlock)]
    fitted = iter(fit_step(results, budget, per_result))
    blocks = [next(fitted) if isinstance(b, ToolResultBlock) else b for b in message.content]
    return message if blocks == list(message.content) else Message(role=message.role, content=blocks)


def fit_context(
    messages: Sequence[Message],
    budget: int = CONTEXT_CHARS,
    *,
    step: int = STEP_CHARS,
    per_result: int = RESULT_CHARS,
) -> list[Message]:
    """``messages`` with each step's results capped, then the oldest results replaced by a note until it fits."""
    out = [_capped(m, step, per_result) for m in messages]
    excess = sum(_size(m) for m in out) - budget
    for i, message in enumerate(out[:-1]):
        if excess <= 0:
            break
        if isinstance(message.content, str):
            continue
        blocks = list(message.content)
        for j, block in enumerate(blocks):
            if excess <= 0 or not isinstance(block, ToolResultBlock):
                continue
            size = len(result_text(block))
            note = f"[an earlier result of {size} characters was dropped to fit the context; call again if needed]"
            if size <= len(note):
                continue
            blocks[j] = block.model_copy(update={"content": note})
            excess -= size - len(note)
        out[i] = Message(role=message.role, content=blocks)
    return out
