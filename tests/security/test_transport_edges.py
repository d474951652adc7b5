"""Attacks on the transports, against real `mcc serve` subprocesses: a GET that would hold an HTTP stream open
for ever, a JSON-RPC batch, and malformed or batch lines over stdio that used to get no reply (clients hung)."""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow

TOKEN = "tok-maya-0123456789abcdef"
HEADERS = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {TOKEN}"}


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCC_") and k != "ANTHROPIC_API_KEY"}
    return {**env, "MCC_HOME": str(home), **extra}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the demo world (users of acme), no playbooks and no conversation: enough for the spine server."""
    path = tmp_path_factory.mktemp("transport-home")
    done = subprocess.run([sys.executable, "-m", "mcc", "demo", "--json", "--skip-knowledge", "--skip-conversation"],
                          env=_env(path), capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return path


@pytest.fixture(scope="module")
def http_url(home: Path) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    cmd = [sys.executable, "-m", "mcc", "serve", "spine", "--transport", "http", "--port", str(port)]
    env = _env(home, MCC_HTTP_TOKENS=json.dumps({TOKEN: "acme/maya.chen"}))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "the HTTP server did not listen"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_get_on_the_stateless_endpoint_is_refused_at_once_not_held_open(http_url: str) -> None:
    # A read timeout well below the client's default: a held-open stream would fail this, a 405 answers at once.
    response = httpx.get(http_url, headers={**HEADERS, "Accept": "text/event-stream"}, timeout=10)
    assert response.status_code == 405 and response.headers["allow"] == "POST"


def test_a_batch_post_gets_one_short_invalid_request_error(http_url: str) -> None:
    batch = [{"jsonrpc": "2.0", "id": i, "method": "tools/list", "params": {}} for i in (1, 2)]
    response = httpx.post(http_url, json=batch, headers=HEADERS, timeout=30)
    assert response.status_code == 400
    body = response.json()
    assert body["jsonrpc"] == "2.0" and body["id"] is None and body["error"]["code"] == -32600
    assert "batch" in body["error"]["message"] and len(response.text) < 300


def test_a_single_post_still_works_behind_the_middleware(http_url: str) -> None:
    params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    response = httpx.post(http_url, json=init, headers=HEADERS, timeout=30)
    assert response.status_code == 200 and response.json()["result"]["serverInfo"]["name"] == "spine"


class StdioServer:
    """`mcc serve spine` over stdio, spoken to line by line."""

    def __init__(self, home: Path) -> None:
        cmd = [sys.executable, "-m", "mcc", "serve", "spine", "--as", "maya.chen", "--tenant", "acme"]
        self.proc = subprocess.Popen(cmd, env=_env(home), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)  # fmt: skip
        self.sel = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        self.sel.register(self.proc.stdout, selectors.EVENT_READ)
        self.buffer = b""

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def reply(self, wait_s: float = 60) -> dict[str, Any]:
        """The next line the server writes; fails when nothing comes (the old behaviour: no reply at all)."""
        deadline = time.monotonic() + wait_s
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            assert left > 0 and self.sel.select(timeout=left), "no reply from the server"
            chunk = os.read(self.proc.stdout.fileno(), 65536)  # type: ignore[union-attr]
            assert chunk, "the server closed stdout"
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def stdio(home: Path) -> Iterator[StdioServer]:
    server = StdioServer(home)
    try:
        yield server
    finally:
        server.close()


def test_a_malformed_line_over_stdio_gets_a_parse_error(stdio: StdioServer) -> None:
    stdio.send("{this is not json")
    assert stdio.reply() == {"jsonrpc": "2.0", "id": None, "error": {"code": -32700,
                             "message": "parse error: the line is not valid JSON"}}  # fmt: skip


def test_a_batch_line_over_stdio_gets_an_invalid_request_error(stdio: StdioServer) -> None:
    stdio.send(json.dumps([{"jsonrpc": "2.0", "id": i, "method": "ping"} for i in (1, 2)]))
    answer = stdio.reply()
    assert answer["id"] is None and answer["error"]["code"] == -32600 and "batch" in answer["error"]["message"]


def test_json_that_is_not_a_jsonrpc_message_gets_invalid_request_with_its_id(stdio: StdioServer) -> None:
    stdio.send(json.dumps({"id": 7, "method": 12}))
    answer = stdio.reply()
    assert answer["id"] == 7 and answer["error"]["code"] == -32600


def test_the_server_still_answers_a_valid_request_afterwards(stdio: StdioServer) -> None:
    params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    stdio.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}))
    assert stdio.reply()["result"]["serverInfo"]["name"] == "spine"
