"""Model interface of the agent layer (`ChatModel`) and its message types.

`ClaudeModel` lives in `agents.models.claude` (imported on demand: it pulls in the anthropic SDK).
"""

from agents.models.base import (
    ChatModel,
    ContentBlock,
    Message,
    MessageDone,
    ModelError,
    ModelOverloaded,
    ModelRateLimited,
    ModelRequest,
    ModelResponse,
    ModelUnavailable,
    StopReason,
    StreamEvent,
    TextBlock,
    TextDelta,
    ToolChoice,
    ToolChoiceTool,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    ToolUseDone,
    ToolUseStart,
    Usage,
)
from agents.models.usage import TurnUsage, UsageMeter
from agents.models.wire import (
    messages_from_wire,
    response_from_wire,
    response_to_wire,
    to_wire_messages,
    to_wire_tools,
)

__all__ = [
    "ChatModel",
    "ContentBlock",
    "Message",
    "MessageDone",
    "ModelError",
    "ModelOverloaded",
    "ModelRateLimited",
    "ModelRequest",
    "ModelResponse",
    "ModelUnavailable",
    "StopReason",
    "StreamEvent",
    "TextBlock",
    "TextDelta",
    "ToolChoice",
    "ToolChoiceTool",
    "ToolResultBlock",
    "ToolSpec",
    "ToolUseBlock",
    "ToolUseDone",
    "ToolUseStart",
    "TurnUsage",
    "Usage",
    "UsageMeter",
    "messages_from_wire",
    "response_from_wire",
    "response_to_wire",
    "to_wire_messages",
    "to_wire_tools",
]
