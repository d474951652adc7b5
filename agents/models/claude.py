"""ClaudeModel: the ChatModel backed by the Anthropic Messages API through the official `anthropic` SDK.

The SDK retries 408/409/429/5xx/529 and connection errors with exponential backoff that honours retry-after;
an error event inside a stream that has shown no text yet (e.g. `overloaded_error` after HTTP 200) is retried
here the same way. When retries run out the SDK error is mapped to our typed errors. Three cache breakpoints:
the tool definitions, the system prompt and the end of the conversation (so an agent's next step reads the
earlier tool results from the cache). The API sees the user only as an opaque hash of tenant and user.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import random
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anthropic

from agents.models.base import (
    MessageDone,
    ModelError,
    ModelOverloaded,
    ModelRateLimited,
    ModelRequest,
    ModelResponse,
    ModelUnavailable,
    StreamEvent,
    TextDelta,
    ToolUseBlock,
    ToolUseDone,
    ToolUseStart,
)
from agents.models.context import CONTEXT_CHARS, fit_context
from agents.models.wire import (
    response_from_wire,
    to_wire_messages,
    to_wire_system,
    to_wire_tools,
    tool_choice_to_wire,
)

_REDACTED = "[REDACTED]"
_RETRYABLE_KINDS = frozenset({"overloaded_error", "api_error", "rate_limit_error"})  # mid-stream error events
_FIRST_DELAY, _MAX_DELAY = 0.5, 8.0  # the SDK's own backoff bounds (seconds)


class _Secret:
    """Holds the API key so that repr(), vars() dumps and logs never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return _REDACTED

    __str__ = __repr__


class ClaudeModel:
    """ChatModel for Claude. `name` is the model id, e.g. "claude-sonnet-4-6"."""

    def __init__(
        self,
        api_key: str,
        model: str,
        base_url: str | None = None,
        max_retries: int = 4,
        timeout: float = 60.0,
        context_chars: int = CONTEXT_CHARS,
    ) -> None:
        if not api_key or not api_key.strip():
            raise ModelUnavailable(
                "ClaudeModel needs an Anthropic API key: set ANTHROPIC_API_KEY or use the offline model"
            )
        if not model:
            raise ModelError("ClaudeModel needs a model id (e.g. 'claude-sonnet-4-6'): pass model=...")
        if max_retries < 0:
            raise ModelError(f"max_retries must be >= 0, got {max_retries}")
        self.name = model
        self.base_url = base_url
        self.max_retries = max_retries
        self.timeout = timeout
        self.context_chars = context_chars
        self._key = _Secret(api_key)
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
        )

    def __repr__(self) -> str:
        return f"ClaudeModel(model={self.name!r}, base_url={self.base_url!r}, max_retries={self.max_retries})"

    async def aclose(self) -> None:
        """Close the underlying HTTP connections."""
        await self._client.close()

    async def __aenter__(self) -> ClaudeModel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- ChatModel ----------------------------------------------------------------------------------------------

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """One non-streaming Messages call."""
        try:
            message = await self._client.messages.create(
                **self._params(request), timeout=max(self.timeout, _expected_seconds(request.max_tokens))
            )
        except anthropic.AnthropicError as err:
            raise self._map_error(err) from err
        return response_from_wire(message.to_dict())

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        """One streaming Messages call; ends with MessageDone carrying the full response.

        An error event mid-stream is retried (up to ``max_retries``, with backoff) while no text was shown; tool
        events of an attempt that failed may be followed by the retry's own (MessageDone is what counts).
        """
        attempt = 0
        while True:
            shown = False
            try:
                async with self._client.messages.stream(**self._params(request)) as events:
                    async for event in events:
                        if event.type == "text":
                            if event.text:
                                shown = True
                                yield TextDelta(text=event.text)
                        elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                            yield ToolUseStart(id=event.content_block.id, name=event.content_block.name)
                        elif event.type == "content_block_stop" and event.content_block.type == "tool_use":
                            block = event.content_block
                            yield ToolUseDone(
                                block=ToolUseBlock(id=block.id, name=block.name, input=_as_dict(block.input))
                            )
                    final = await events.get_final_message()
            except anthropic.APIStatusError as err:
                if _mid_stream(err) and not shown and attempt < self.max_retries:
                    attempt += 1
                    await asyncio.sleep(_backoff(attempt))
                    continue
                raise self._map_error(err, mid_stream=_mid_stream(err), attempts=attempt, shown=shown) from err
            except anthropic.AnthropicError as err:
                raise self._map_error(err) from err
            except ValueError as err:  # the SDK raises ValueError for unparsable tool-input JSON
                raise ModelError(self._redact(f"Claude streamed invalid tool input: {err}")) from err
            yield MessageDone(response=response_from_wire(final.to_dict()))
            return

    # --- request building ---------------------------------------------------------------------------------------

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        """SDK keyword arguments; cache_control on the last tool, the system block and the conversation's end."""
        params: dict[str, Any] = {
            "model": self.name,
            "max_tokens": request.max_tokens,
            "messages": to_wire_messages(fit_context(request.messages, self.context_chars), cache_last=True),
        }
        system = to_wire_system(request.system, cache=True)
        if system:
            params["system"] = system
        if request.tools:
            params["tools"] = to_wire_tools(request.tools, cache_last=True)
            params["tool_choice"] = tool_choice_to_wire(request.tool_choice)
        user = opaque_user_id(request.metadata)
        if user:
            params["metadata"] = {"user_id": user}
        if request.temperature is not None:
            # The SDK no longer has a temperature argument; older models still accept it in the body.
            params["extra_body"] = {"temperature": request.temperature}
        return params

    # --- errors -------------------------------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        key = self._key.get()
        return text.replace(key, _REDACTED) if key else text

    def _map_error(
        self, err: anthropic.AnthropicError, *, mid_stream: bool = False, attempts: int = 0, shown: bool = False
    ) -> ModelError:
        """SDK error (after the retries) -> our typed error, with a message that names the fix."""
        if isinstance(err, anthropic.APITimeoutError):
            return ModelUnavailable(
                self._redact(f"Claude ({self.name}) timed out after {self.timeout}s and {self.max_retries} retries")
            )
        if isinstance(err, anthropic.APIConnectionError):
            where = self.base_url or "the Anthropic API"
            return ModelUnavailable(
                self._redact(f"cannot reach {where} after {self.max_retries} retries: {err.message}; check the network")
            )
        if not isinstance(err, anthropic.APIStatusError):
            return ModelError(self._redact(f"Claude ({self.name}) call failed: {type(err).__name__}: {err}"))

        status = err.status_code
        kind = _error_type(err.body)
        detail = _error_message(err.body) or err.message
        said = f"({status} {kind or 'error'}): {detail}"
        retried = f"after {self.max_retries} retries"
        if mid_stream:  # an error event after HTTP 200: say what really happened
            retried = (
                f"mid-answer, after part of it was shown ({attempts} retries)"
                if shown
                else f"mid-stream after {attempts} retries"
            )
        if kind == "rate_limit_error" or status == 429:
            retry_after = _retry_after(err.response.headers)
            return ModelRateLimited(
                self._redact(f"Claude rate limit persisted {retried} {said}; slow down or raise the rate limit"),
                retry_after=retry_after,
                status_code=status,
            )
        if kind == "overloaded_error" or status == 529:
            return ModelOverloaded(
                self._redact(f"Claude ({self.name}) is overloaded {retried} {said}; try again later"),
                status_code=status,
            )
        if kind in ("authentication_error", "permission_error") or status in (401, 403):
            return ModelUnavailable(
                self._redact(f"Anthropic rejected the API key {said}; check ANTHROPIC_API_KEY and its permissions"),
                status_code=status,
            )
        if kind == "api_error" or status >= 500:
            return ModelUnavailable(self._redact(f"Anthropic API error {retried} {said}"), status_code=status)
        return ModelError(self._redact(f"Claude ({self.name}) rejected the request {said}"), status_code=status)


def opaque_user_id(metadata: Mapping[str, Any]) -> str | None:
    """An opaque id for the API's abuse tracking: a hash of tenant and user (``metadata["user"]``), never a name."""
    user = metadata.get("user")
    if isinstance(user, Mapping) and user.get("user_id"):
        tenant, name = str(user.get("tenant_id") or ""), str(user["user_id"])
    elif isinstance(metadata.get("user_id"), str) and metadata["user_id"]:
        tenant, name = str(metadata.get("tenant_id") or ""), metadata["user_id"]
    else:
        return None
    return hashlib.sha256(f"mcc-user\x00{tenant}\x00{name}".encode()).hexdigest()[:32]


def _mid_stream(err: anthropic.APIStatusError) -> bool:
    """An error event inside a stream that started with HTTP 200 and whose kind is worth a retry."""
    return err.status_code == 200 and _error_type(err.body) in _RETRYABLE_KINDS


def _backoff(attempt: int) -> float:
    """The SDK's backoff: 0.5 s doubling up to 8 s, with up to 25% jitter off."""
    delay = min(_FIRST_DELAY * 2 ** (attempt - 1), _MAX_DELAY)
    return delay * (1 - 0.25 * random.random())


def _expected_seconds(max_tokens: int) -> float:
    """How long a non-streamed answer of ``max_tokens`` may take (the SDK's estimate: an hour per 128k tokens)."""
    return 3600 * max_tokens / 128_000


def _as_dict(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _error_type(body: object) -> str | None:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("type"), str):
            return error["type"]
    return None


def _error_message(body: object) -> str | None:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
    return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from retry-after-ms / retry-after (number or HTTP date), as the SDK reads them."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        return max(0.0, float(email.utils.mktime_tz(parsed) - time.time())) if parsed else None
