"""Keep a conversation within a context budget: the oldest tool results are dropped first, with a note.

Only a conversation over the budget changes (which costs one cache miss); the last message, which the model is
answering now, is never touched.
"""

from __future__ import annotations

from collections.abc import Sequence

from agents.models.base import Message, TextBlock, ToolResultBlock

CONTEXT_CHARS = 400_000  # ~100-130k tokens of conversation, leaving room for system, tools and the answer


def _size(message: Message) -> int:
    if isinstance(message.content, str):
        return len(message.content)
    total = 0
    for block in message.content:
        if isinstance(block, TextBlock):
            total += len(block.text)
        elif isinstance(block, ToolResultBlock):
            total += len(block.content) if isinstance(block.content, str) else sum(len(t.text) for t in block.content)
        else:
            total += len(str(block.input)) + len(block.name)
    return total


def fit_context(messages: Sequence[Message], budget: int = CONTEXT_CHARS) -> list[Message]:
    """``messages`` with the oldest tool results replaced by a short note until the whole fits ``budget`` chars."""
    out = list(messages)
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
            size = _size(Message(role="user", content=[block]))
            note = f"[an earlier result of {size} characters was dropped to fit the context; call again if needed]"
            if size <= len(note):
                continue
            blocks[j] = block.model_copy(update={"content": note})
            excess -= size - len(note)
        out[i] = Message(role=message.role, content=blocks)
    return out
