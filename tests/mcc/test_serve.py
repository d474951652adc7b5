"""`mcc serve`: every server as a real subprocess over stdio and over streamable HTTP, called through mcp.Client."""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from mcc.commands.serve import parse_grants

pytestmark = pytest.mark.slow

TOKENS = {"tok-maya-0123456789abcdef": "acme/maya.chen", "tok-hank-0123456789abcdef": "globex/hank.scorpio"}
MAYA, HANK = list(TOKENS)

# One read call per server that proves the server answers with data of the caller's tenant.
READ_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "spine": ("list_campaigns", {"limit": 100}),
    "knowledge": ("search_playbooks", {"query": "tier 1 campaign approval budget", "k": 3}),
    "workfront": ("search", {"obj_code": "PROJ", "limit": 50}),
    "asana": ("search_tasks", {"limit": 10}),
}


@functools.cache
def _expected(home: Path) -> dict[str, dict[str, int]]:
    """Per tenant, read straight from the spine: campaigns, and campaigns with a Workfront project."""
    from mcc.settings import load_settings
    from mcc.wiring import open_app
    from spine.repositories import open_store

    out: dict[str, dict[str, int]] = {}
    with open_app(load_settings(home=home)) as app:
        for tenant in ("acme", "globex"):
            with open_store(app.sessions, tenant) as store:
                campaigns = store.campaigns.list(limit=1000)
            out[tenant] = {"campaigns": len(campaigns),
                           "projects": sum(1 for c in campaigns if "workfront" in c.external_refs)}  # fmt: skip
    assert out["acme"] != out["globex"]  # otherwise the tenant checks below could not tell them apart
    return out


@pytest.fixture(scope="module")
def home(demo_home: tuple[Path, dict[str, Any]]) -> Path:
    return demo_home[0]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCC_") and k != "ANTHROPIC_API_KEY"}
    return {**env, "MCC_HOME": str(home), **extra}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def http_servers(home: Path) -> Iterator[dict[str, str]]:
    """Each server over streamable HTTP in its own process, started on first use; server name -> URL."""
    procs: list[subprocess.Popen[bytes]] = []
    env = _env(home, MCC_HTTP_TOKENS=json.dumps(TOKENS))

    class Urls(dict[str, str]):
        def __missing__(self, name: str) -> str:
            port = _free_port()
            cmd = [sys.executable, "-m", "mcc", "serve", name, "--transport", "http", "--port", str(port)]
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            procs.append(proc)
            _wait_for_port(port, proc, name)
            self[name] = f"http://127.0.0.1:{port}/mcp"
            return self[name]

    try:
        yield Urls()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{name} server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"{name} server did not listen on {port}")


def _stdio(home: Path, name: str, user: str = "maya.chen", tenant: str = "acme") -> StdioServerParameters:
    args = ["-m", "mcc", "serve", name, "--as", user, "--tenant", tenant]
    return StdioServerParameters(command=sys.executable, args=args, env=_env(home))


def _http(url: str, token: str) -> Any:
    return streamable_http_client(
        url, http_client=httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120)
    )


def _check_read(name: str, result: Any, tenant: str, home: Path) -> None:
    assert not result.is_error, result.content[0].text
    data = result.structured_content
    expected = _expected(home)[tenant]
    if name == "spine":
        assert data["count"] == expected["campaigns"]
        assert all(c["tenant_id"] == tenant for c in data["campaigns"])
    elif name == "knowledge":
        assert data["count"] == 3 and all(h["citation"].startswith(h["doc_id"]) for h in data["hits"])
    elif name == "workfront":  # one project per non-draft Workfront campaign, in the caller tenant's sandbox only
        assert data["total"] == expected["projects"] and all(p["objCode"] == "PROJ" for p in data["items"])
    else:
        assert data["data"] and all(t["gid"].isdigit() for t in data["data"])


@pytest.mark.parametrize("name", list(READ_CALLS))
async def test_each_server_over_stdio_lists_guarded_tools_and_answers(home: Path, name: str) -> None:
    tool, args = READ_CALLS[name]
    async with Client(_stdio(home, name)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert tool in tools and all(t.description for t in tools.values())
        assert all(t.input_schema.get("additionalProperties") is False for t in tools.values())
        _check_read(name, await client.call_tool(tool, args), "acme", home)


async def test_stdio_principal_is_the_as_user_and_the_guard_holds(home: Path) -> None:
    campaign = {"name": "Readonly attempt", "type": "standard", "tier": 3, "launch_date": "2027-05-01",
                "owner_id": "maya.chen", "budget_planned": {"amount": "500", "currency": "USD"}}  # fmt: skip
    async with Client(_stdio(home, "spine", user="sam.taylor")) as client:
        denied = await client.call_tool("create_campaign", campaign)
        listed = await client.call_tool("list_campaigns", {"name_contains": "Readonly attempt"})
    assert denied.is_error and "[denied]" in denied.content[0].text
    assert listed.structured_content["count"] == 0


def test_stdio_with_an_unknown_user_fails_naming_it(home: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mcc", "serve", "spine", "--as", "nobody.here"], env=_env(home),
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
    assert done.returncode == 2 and "user_id" in done.stderr and "nobody.here" in done.stderr


@pytest.mark.parametrize("name", list(READ_CALLS))
async def test_each_server_over_http_takes_the_principal_from_the_token(
    home: Path, http_servers: dict[str, str], name: str
) -> None:
    tool, args = READ_CALLS[name]
    for token, tenant in ((MAYA, "acme"), (HANK, "globex")):
        async with Client(_http(http_servers[name], token)) as client:
            _check_read(name, await client.call_tool(tool, args), tenant, home)


@pytest.mark.parametrize("token", [None, "wrong-token-0123456789", MAYA[:-1]])
def test_http_refuses_missing_or_unknown_tokens(http_servers: dict[str, str], token: str | None) -> None:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    response = httpx.post(http_servers["spine"], json=body, headers=headers, timeout=30)
    assert response.status_code == 401


def test_http_servers_are_stateless_so_any_replica_answers(home: Path, http_servers: dict[str, str]) -> None:
    # No session id is issued: a load balancer may send each request to a different replica.
    headers = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {MAYA}"}
    params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    response = httpx.post(http_servers["spine"], json=init, headers=headers, timeout=30)
    assert response.status_code == 200 and "mcp-session-id" not in response.headers


def test_token_settings_are_validated_without_echoing_the_secret() -> None:
    assert parse_grants({"a" * 20: "acme/maya.chen"}) == {"a" * 20: ("acme", "maya.chen")}
    with pytest.raises(ValueError, match="tenant/user_id") as bad:
        parse_grants({"secret-token-value-123": "maya.chen"})
    assert "secret-token-value-123" not in str(bad.value)
    with pytest.raises(ValueError, match="shorter than 16"):
        parse_grants({"short": "acme/maya.chen"})


def _readme_desktop_config() -> dict[str, Any]:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Use from Claude Desktop") :]
    block = section[section.index("```json") + len("```json") : section.index("```", section.index("```json") + 7)]
    return json.loads(block)


async def test_the_readme_claude_desktop_snippet_works_as_written(home: Path) -> None:
    config = _readme_desktop_config()["mcpServers"]
    assert {entry["args"][1] for entry in config.values()} == set(READ_CALLS)
    checkout = str(Path(__file__).parents[2])
    for entry in config.values():
        command = entry["command"].replace("/path/to/mcc", checkout)
        assert Path(command).exists(), command
        name = entry["args"][1]
        params = StdioServerParameters(command=command, args=entry["args"], env=_env(home))
        async with Client(params) as client:
            tool, args = READ_CALLS[name]
            _check_read(name, await client.call_tool(tool, args), "acme", home)
