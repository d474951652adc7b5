"""A small real HTTP server speaking the Anthropic Messages API, for wire tests of the Claude adapter.

Independent of agents.models. POST /v1/messages checks the API key (`x-api-key`, or `Authorization: Bearer`
as anthropic SDK 2.x sends it) and `anthropic-version`, records every request, answers JSON or SSE
(`stream: true`) from a per-test script, and can inject 429 (retry-after) / 529 overloaded / any error
N times or an error event mid-stream. Started by the `anthropic_wire_server` fixture factory on 127.0.0.1
at a free port.

Requests must follow the API's rules (a 400 `invalid_request_error` like the real API's otherwise): a known
model id (the installed SDK's list), `max_tokens` within the model's output limit, every `tool_use` answered by a
`tool_result` in the next user message, no whitespace-only text, tool names matching `^[a-zA-Z0-9_-]{1,64}$` and
unique, at most 4 `cache_control` breakpoints, a forced tool that exists. The script must follow what the API
can do: a reply to a forced tool choice (`tool` or `any`) is tool calls only; a script step that breaks this is
answered 400 `wire_script_error` and listed in `script_errors`, so a test cannot pass on an impossible answer.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import socket
import threading
import time
import typing
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anthropic
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

DEFAULT_KEY = "sk-ant-wire-test-0123456789abcdef"
_ids = itertools.count(1)
# The model ids the installed SDK knows (`anthropic.types.Model` is Literal[...] | str).
KNOWN_MODELS: frozenset[str] = frozenset(typing.get_args(typing.get_args(anthropic.types.Model)[0]))
MAX_OUTPUT_TOKENS = 64_000  # the smallest output limit among the current models
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_BREAKPOINTS = 4

Script = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


def error_body(kind: str, message: str) -> dict[str, Any]:
    """The API's error envelope."""
    return {"type": "error", "error": {"type": kind, "message": message}}


@dataclasses.dataclass
class Fault:
    """An HTTP error answered instead of the next scripted reply (does not consume the script)."""

    status: int
    kind: str
    message: str
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class StreamFault:
    """An `event: error` sent mid-stream, after message_start, instead of the reply's content."""

    kind: str
    message: str


@dataclasses.dataclass
class Recorded:
    """One request as the server saw it."""

    headers: dict[str, str]
    body: dict[str, Any]
    status: int = 0


def message(
    content: list[dict[str, Any]],
    *,
    stop_reason: str = "end_turn",
    model: str = "claude-sonnet-4-6",
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A complete wire Message."""
    return {
        "id": f"msg_wire{next(_ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 25,
            "output_tokens": 12,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            **(usage or {}),
        },
    }


def text_message(text: str, **kw: Any) -> dict[str, Any]:
    """An end_turn answer with one text block."""
    return message([{"type": "text", "text": text}], **kw)


def tool_use_message(name: str, input: dict[str, Any], *, text: str | None = None, id: str | None = None, **kw: Any):
    """A tool_use answer (optionally preceded by a text block)."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    blocks.append({"type": "tool_use", "id": id or f"toolu_wire{next(_ids):06d}", "name": name, "input": input})
    return message(blocks, stop_reason="tool_use", **kw)


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def sse_events(msg: dict[str, Any], *, chunk: int = 7, fault: StreamFault | None = None) -> list[bytes]:
    """A Message as the API's SSE sequence; text and tool-input JSON are split into `chunk`-char deltas."""
    usage = msg["usage"]
    start = {**msg, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    out = [_sse("message_start", {"type": "message_start", "message": start}), _sse("ping", {"type": "ping"})]
    if fault is not None:
        return [*out, _sse("error", error_body(fault.kind, fault.message))]
    for index, block in enumerate(msg["content"]):
        if block["type"] == "text":
            first = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in _chunks(block["text"], chunk)]
        else:
            first = {**block, "input": {}}
            raw = json.dumps(block["input"]) if block["input"] else ""
            deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in _chunks(raw, chunk)]
        out.append(_sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": first}))
        out += [
            _sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas
        ]
        out.append(_sse("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta = {"type": "message_delta", "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": None}}
    out.append(_sse("message_delta", {**delta, "usage": {"output_tokens": usage["output_tokens"]}}))
    out.append(_sse("message_stop", {"type": "message_stop"}))
    return out


class AnthropicWireServer:
    """Scripted Messages API. Queue replies with `reply()`, faults with `fail()`; read `requests` afterwards."""

    def __init__(self, api_key: str = DEFAULT_KEY, *, chunk: int = 7) -> None:
        self.api_key = api_key
        self.chunk = chunk
        self.requests: list[Recorded] = []
        self._script: deque[Script | StreamFault] = deque()
        self.script_errors: list[str] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/v1/messages", self._messages, methods=["POST"])])
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # --- script -------------------------------------------------------------------------------------------------

    def reply(self, *messages: Script) -> None:
        """Queue wire Messages (or functions of the request body returning one), answered in order, as JSON or SSE."""
        with self._lock:
            self._script.extend(messages)

    def fail(self, status: int, kind: str, message: str = "", *, times: int = 1, retry_after: str | None = None):
        """Answer the next `times` requests with an HTTP error (e.g. 429 rate_limit_error, 529 overloaded_error)."""
        headers = {"retry-after": retry_after} if retry_after is not None else {}
        with self._lock:
            self._faults.extend(Fault(status, kind, message or kind, headers) for _ in range(times))

    def fail_mid_stream(self, kind: str, message: str = "", *, times: int = 1) -> None:
        """The next `times` streamed replies send message_start, then an `event: error`."""
        with self._lock:
            self._script.extend(StreamFault(kind, message or kind) for _ in range(times))

    @property
    def pending(self) -> int:
        """Scripted replies not used yet."""
        with self._lock:
            return len(self._script)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of all requests so far."""
        with self._lock:
            return [r.body for r in self.requests]

    # --- HTTP ---------------------------------------------------------------------------------------------------

    async def _messages(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"_unparsable": raw.decode(errors="replace")}
        rec = Recorded(headers={k.lower(): v for k, v in request.headers.items()}, body=body)
        with self._lock:
            self.requests.append(rec)
        rid = {"request-id": f"req_wire{next(_ids):06d}"}

        def error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Response:
            rec.status = status
            return JSONResponse(error_body(kind, message), status_code=status, headers={**rid, **(headers or {})})

        if sent_key(rec.headers) != self.api_key:
            return error(401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return error(400, "invalid_request_error", "anthropic-version: header is required")
        problem = _validate(body)
        if problem:
            return error(400, "invalid_request_error", problem)
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
            reply = None if fault else (self._script.popleft() if self._script else None)
        if fault is not None:
            return error(fault.status, fault.kind, fault.message, fault.headers)
        if reply is None:
            return error(
                400,
                "invalid_request_error",
                f"wire server: no scripted reply left for request #{len(self.requests)}",
            )
        if callable(reply):
            try:
                reply = reply(body)
            except AssertionError as exc:  # a script's check failed: say so once, never as a retryable 500
                with self._lock:
                    self.script_errors.append(f"request #{len(self.requests)}: {exc}")
                return error(400, "wire_script_error", f"scripted check failed: {exc}")
        if isinstance(reply, dict):
            broken = _script_problem(body, reply)
            if broken:
                with self._lock:
                    self.script_errors.append(broken)
                return error(400, "wire_script_error", broken)
        rec.status = 200
        if body.get("stream"):
            msg = reply if isinstance(reply, dict) else text_message("")
            events = sse_events(msg, chunk=self.chunk, fault=reply if isinstance(reply, StreamFault) else None)

            async def gen() -> AsyncIterator[bytes]:
                for ev in events:
                    yield ev

            return StreamingResponse(gen(), media_type="text/event-stream", headers=rid)
        if isinstance(reply, StreamFault):
            return error(500, reply.kind, reply.message)
        return JSONResponse(reply, headers=rid)

    # --- lifecycle ----------------------------------------------------------------------------------------------

    def start(self) -> AnthropicWireServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("anthropic wire server did not start")
            time.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None


def sent_key(headers: dict[str, str]) -> str | None:
    """The API key of a request: `x-api-key`, or `Authorization: Bearer` (what anthropic SDK 2.x sends)."""
    if headers.get("x-api-key"):
        return headers["x-api-key"]
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def _validate(body: dict[str, Any]) -> str | None:
    """The request rules of the real API that an adapter can break."""
    for field in ("model", "max_tokens", "messages"):
        if field not in body:
            return f"{field}: Field required"
    if body["model"] not in KNOWN_MODELS:
        return f"model: {body['model']!r} is not a known model id"
    if not isinstance(body["max_tokens"], int) or not 1 <= body["max_tokens"] <= MAX_OUTPUT_TOKENS:
        return f"max_tokens: {body['max_tokens']} > {MAX_OUTPUT_TOKENS}, the maximum for {body['model']}"
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    if messages[0].get("role") != "user":
        return "messages: first message must use the `user` role"
    return _message_problem(messages) or _tool_problem(body) or _cache_problem(body)


def _blocks(content: Any) -> list[dict[str, Any]]:
    return content if isinstance(content, list) else []


def _message_problem(messages: list[dict[str, Any]]) -> str | None:
    """tool_use/tool_result pairing and non-empty text, as the API checks them."""
    for i, msg in enumerate(messages):
        content = msg.get("content")
        if isinstance(content, str) and not content.strip():
            return f"messages.{i}: text content blocks must contain non-whitespace text"
        if isinstance(content, list) and not content:
            return f"messages.{i}: all messages must have non-empty content"
        for j, block in enumerate(_blocks(content)):
            inner = _blocks(block.get("content")) if block.get("type") == "tool_result" else [block]
            for b in inner:
                if b.get("type") == "text" and not str(b.get("text", "")).strip():
                    return f"messages.{i}.content.{j}: text content blocks must contain non-whitespace text"
        previous = _blocks(messages[i - 1].get("content")) if i else []
        asked = {b["id"] for b in previous if b.get("type") == "tool_use"} if i else set()
        answered = {b.get("tool_use_id") for b in _blocks(content) if b.get("type") == "tool_result"}
        if answered - asked:
            return f"messages.{i}: tool_result block(s) with unknown tool_use_id {sorted(answered - asked)[0]!r}"
        if asked - answered:
            return (
                f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                f"{', '.join(sorted(asked - answered))}. Each `tool_use` block must have a corresponding "
                "`tool_result` block in the next message."
            )
    last = messages[-1]
    if last.get("role") == "assistant" and any(b.get("type") == "tool_use" for b in _blocks(last.get("content"))):
        return "messages: the final assistant message cannot end with a tool_use block"
    return None


def _tool_problem(body: dict[str, Any]) -> str | None:
    tools = body.get("tools") or []
    names: set[str] = set()
    for j, tool in enumerate(tools):
        name = tool.get("name")
        if not name or not isinstance(tool.get("input_schema"), dict):
            return f"tools.{j}: name and input_schema are required"
        if not _TOOL_NAME.fullmatch(name):
            return f"tools.{j}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
        if name in names:
            return f"tools: Tool names must be unique ({name!r})"
        names.add(name)
    choice = body.get("tool_choice")
    if choice is not None:
        if not tools and choice.get("type") != "none":
            return "tool_choice: may only be specified while providing tools"
        if choice.get("type") == "tool" and choice.get("name") not in names:
            return f"tool_choice.name: tool {choice.get('name')!r} not found in tools"
    return None


def _cache_problem(body: dict[str, Any]) -> str | None:
    count = json.dumps(body).count('"cache_control"')
    if count > MAX_BREAKPOINTS:
        return f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {count}."
    return None


def _script_problem(body: dict[str, Any], reply: dict[str, Any]) -> str | None:
    """A scripted answer the real API could not give to this request."""
    choice = body.get("tool_choice") or {}
    content = reply.get("content") or []
    if choice.get("type") in ("tool", "any"):
        if any(b.get("type") != "tool_use" for b in content) or not content:
            kinds = [b.get("type") for b in content]
            return f"a forced tool choice ({choice}) is answered with tool calls only, not {kinds}"
        if choice.get("type") == "tool" and any(b.get("name") != choice.get("name") for b in content):
            return f"a forced tool choice ({choice}) is answered with that tool only"
    return None


@pytest.fixture
def anthropic_wire_server() -> Iterator[Callable[..., AnthropicWireServer]]:
    """Factory: `server = anthropic_wire_server(api_key=...)` starts a server; all are stopped after the test."""
    started: list[AnthropicWireServer] = []

    def make(api_key: str = DEFAULT_KEY, *, chunk: int = 7) -> AnthropicWireServer:
        server = AnthropicWireServer(api_key, chunk=chunk).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
