"""The one small model interface: message types in the Anthropic Messages format, ChatModel, typed errors.

These types are also the graph-state format, so they are pydantic models that round-trip through JSON.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

# Blocks ignore unknown wire fields (citations, parsed_output, ...) so new API fields never break parsing.
_BLOCK_CONFIG = ConfigDict(extra="ignore")


class TextBlock(BaseModel):
    """A text content block."""

    model_config = _BLOCK_CONFIG
    type: Literal["text"] = "text"
    text: str


class ToolUseBlock(BaseModel):
    """A tool call requested by the model; `input` is the parsed JSON arguments."""

    model_config = _BLOCK_CONFIG
    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: dict[str, Any] = Field(default_factory=dict)


class ToolResultBlock(BaseModel):
    """The result of a tool call, sent back in a user message."""

    model_config = _BLOCK_CONFIG
    type: Literal["tool_result"] = "tool_result"
    tool_use_id: str
    content: str | list[TextBlock] = ""
    is_error: bool = False


ContentBlock = Annotated[TextBlock | ToolUseBlock | ToolResultBlock, Field(discriminator="type")]
OutputBlock = Annotated[TextBlock | ToolUseBlock, Field(discriminator="type")]


class Message(BaseModel):
    """One conversation turn; `content` is a plain string or a list of blocks."""

    model_config = ConfigDict(extra="ignore")
    role: Literal["user", "assistant"]
    content: str | list[ContentBlock]

    @property
    def blocks(self) -> list[TextBlock | ToolUseBlock | ToolResultBlock]:
        """The content as a list of blocks (a plain string becomes one TextBlock)."""
        if isinstance(self.content, str):
            return [TextBlock(text=self.content)]
        return list(self.content)


class ToolSpec(BaseModel):
    """A tool the model may call; `input_schema` is a JSON Schema object."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]{1,64}$")  # the Messages API's rule
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ToolChoiceTool(BaseModel):
    """Force the model to call the named tool."""

    type: Literal["tool"] = "tool"
    name: str


ToolChoice = Literal["auto", "any", "none"] | ToolChoiceTool


class ModelRequest(BaseModel):
    """Everything a model needs for one turn. `system` and `tools` are the static (cacheable) part.

    `temperature=None` means the model's default (recent Claude models reject an explicit temperature).
    `metadata` is for tracing and for the step's facts (see agents.protocol); the API gets only an opaque hash of
    the user (``user`` -> tenant_id and user_id), never a name.
    """

    system: str = ""
    messages: list[Message]
    tools: list[ToolSpec] = Field(default_factory=list)
    max_tokens: int = Field(default=1024, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=1.0)
    tool_choice: ToolChoice = "auto"
    metadata: dict[str, Any] = Field(default_factory=dict)


class Usage(BaseModel):
    """Token counts; the cache fields show whether the static prefix was written to or read from the cache."""

    model_config = ConfigDict(extra="ignore")
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
        )

    @property
    def total_input_tokens(self) -> int:
        """Every input token of the call: uncached, written to the cache and read from it."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens


StopReason = Literal[
    "end_turn", "tool_use", "max_tokens", "stop_sequence", "pause_turn", "refusal", "model_context_window_exceeded"
]
CUT_STOPS: frozenset[str] = frozenset({"max_tokens", "model_context_window_exceeded"})  # the output was cut off


class ModelResponse(BaseModel):
    """The model's answer to one request."""

    content: list[OutputBlock]
    stop_reason: StopReason | None = None
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    id: str = ""
    # What this answer asks the user about ({"request": the words it completes, "options": readings offered}):
    # the graph keeps it in the thread's state so the user's short reply can complete it.
    asks: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def text(self) -> str:
        """All text blocks joined."""
        return "".join(b.text for b in self.content if isinstance(b, TextBlock))

    @property
    def cut_off(self) -> bool:
        """The output stopped at a length limit: its last block (text or a tool call's input) is incomplete."""
        return self.stop_reason in CUT_STOPS

    @property
    def tool_uses(self) -> list[ToolUseBlock]:
        """The tool calls the model asked for, in order."""
        return [b for b in self.content if isinstance(b, ToolUseBlock)]

    def to_message(self) -> Message:
        """The assistant message to append to the conversation."""
        return Message(role="assistant", content=list(self.content))


# --- stream events -------------------------------------------------------------------------------------------


class TextDelta(BaseModel):
    """A piece of streamed text."""

    type: Literal["text_delta"] = "text_delta"
    text: str


class ToolUseStart(BaseModel):
    """The model started a tool call (arguments still streaming)."""

    type: Literal["tool_use_start"] = "tool_use_start"
    id: str
    name: str


class ToolUseDone(BaseModel):
    """A tool call is complete, with its parsed arguments."""

    type: Literal["tool_use_done"] = "tool_use_done"
    block: ToolUseBlock


class MessageDone(BaseModel):
    """Always the last event of a stream: the full response."""

    type: Literal["message_done"] = "message_done"
    response: ModelResponse


StreamEvent = Annotated[TextDelta | ToolUseStart | ToolUseDone | MessageDone, Field(discriminator="type")]


# --- the interface -------------------------------------------------------------------------------------------


@runtime_checkable
class ChatModel(Protocol):
    """What the graph needs from a model. Implemented by ClaudeModel and the offline deterministic model."""

    name: str

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Answer one request."""
        ...

    def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        """Answer one request as events; the last event is always MessageDone with the full response."""
        ...


# --- errors --------------------------------------------------------------------------------------------------


class ModelError(Exception):
    """A model call failed. Messages never contain credentials."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class ModelRateLimited(ModelError):
    """The provider kept answering 429 after all retries; `retry_after` is its last hint in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, status_code: int | None = 429) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class ModelOverloaded(ModelError):
    """The provider kept answering 529 overloaded after all retries."""


class ModelUnavailable(ModelError):
    """The model cannot be used: bad credentials, unreachable endpoint, timeouts or persistent 5xx."""
