"""Transport edges the MCP SDK leaves open, closed for every server: each malformed message gets a JSON-RPC error.

- stdio: a line that is not JSON gets ``-32700`` (parse error); a batch (a JSON array) or JSON that is not a
  JSON-RPC message gets ``-32600`` (invalid request), with the request's id when it has one. The SDK drops such
  lines without a reply, so a client waits until its timeout.
- streamable HTTP (stateless): ``GET /mcp`` answers 405 (a stateless server never sends on a standalone stream,
  and the SDK would hold it open for nothing); a batch POST answers 400 with one short ``-32600`` error instead of
  the SDK's -32602 and its long validation dump.

Batches are refused because MCP (2025-06-18 and later) has no JSON-RPC batching.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from io import TextIOWrapper
from typing import Any

import anyio
import mcp_types as types
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage

BATCH_REFUSED = "batch requests are not supported by MCP; send one JSON-RPC message per line or request"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def classify(line: str) -> tuple[int, str, str | int | None] | None:
    """None for a message the SDK can read; else (JSON-RPC error code, message, the request id if any)."""
    try:
        data = json.loads(line)
    except ValueError:
        return types.PARSE_ERROR, "parse error: the line is not valid JSON", None
    msg_id = data.get("id") if isinstance(data, dict) else None
    msg_id = msg_id if isinstance(msg_id, str | int) and not isinstance(msg_id, bool) else None
    if isinstance(data, list):
        return types.INVALID_REQUEST, BATCH_REFUSED, None
    try:
        types.jsonrpc_message_adapter.validate_python(data, by_name=False)
    except ValueError:
        return types.INVALID_REQUEST, "invalid request: not a JSON-RPC 2.0 message", msg_id
    return None


def error_message(code: int, message: str, msg_id: str | int | None) -> types.JSONRPCError:
    return types.JSONRPCError(jsonrpc="2.0", id=msg_id, error=types.ErrorData(code=code, message=message))


class _AnsweringStdin:
    """Lines of stdin for the SDK's reader; a malformed line is answered with a JSON-RPC error instead."""

    def __init__(self, lines: AsyncIterator[str]) -> None:
        self._lines = lines
        self._ready = anyio.Event()
        self.replies: Any = None  # the transport's write stream, set once the transport is up

    def attach(self, replies: Any) -> None:
        self.replies = replies
        self._ready.set()

    def __aiter__(self) -> _AnsweringStdin:
        return self

    async def __anext__(self) -> str:
        while True:
            line = await self._lines.__anext__()
            if not line.strip():
                continue
            problem = classify(line)
            if problem is None:
                return line
            await self._ready.wait()
            await self.replies.send(SessionMessage(error_message(*problem)))


async def run_stdio(server: MCPServer) -> None:
    """``server.run_stdio_async()``, except that malformed lines and batches get a JSON-RPC error reply."""
    raw = anyio.wrap_file(TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace"))
    stdin = _AnsweringStdin(raw.__aiter__())
    lowlevel = server._lowlevel_server  # the SDK's own run_stdio_async does exactly this
    async with stdio_server(stdin=stdin) as (read_stream, write_stream):  # type: ignore[arg-type]
        stdin.attach(write_stream)
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())


class TransportEdges:
    """ASGI middleware in front of a stateless streamable-HTTP app: 405 for GET on the MCP path, and a short
    -32600 for a batch POST."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], path: str = "/mcp") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            return await self.app(scope, receive, send)
        if scope["method"] == "GET":
            body = {"error": "method not allowed: this stateless MCP server takes POST requests only"}
            return await _json(send, 405, body, [(b"allow", b"POST")])
        if scope["method"] != "POST":
            return await self.app(scope, receive, send)
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body_bytes = b"".join(chunks)
        if body_bytes.lstrip()[:1] == b"[":
            reply = error_message(types.INVALID_REQUEST, BATCH_REFUSED, None)
            return await _json(send, 400, reply.model_dump(mode="json", by_alias=True, exclude_none=False))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body_bytes, "more_body": False}

        return await self.app(scope, replay, send)


async def _json(send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    data = json.dumps(body).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": data})
