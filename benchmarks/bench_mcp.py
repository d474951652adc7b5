"""MCP round trips of a read tool on the sandbox backend, and what the guard costs.

Bars (issue 3): p50 of a read tool round trip <= 3 ms in-process, <= 6 ms over stdio, <= 10 ms over streamable
HTTP; guarded minus unguarded p50 <= 1 ms. The tool is workfront.get_project on the embedded sandbox (also
reported: spine.get_campaign). Rate limits stay on with a limit too high to trip, so their cost is measured.

    .venv/bin/python -m benchmarks.bench_mcp
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Report, percentile

N = 300
IN_PROCESS_BAR, STDIO_BAR, HTTP_BAR, GUARD_BAR = 3.0, 6.0, 10.0, 1.0
TOKEN = "bench-token-0123456789abcdef"


async def _p50s(calls: list[tuple[Any, str, dict[str, Any]]], n: int = N) -> list[float]:
    """p50 of each call, the calls taken in turn: a slow spell of a shared machine hits all of them alike, so
    their differences (the guard cost) are not skewed by when each was measured."""
    for client, tool, args in calls:
        for _ in range(20):
            result = await client.call_tool(tool, args)
            assert not result.is_error, result.content[0].text
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(n):
        for i, (client, tool, args) in enumerate(calls):
            t0 = time.perf_counter()
            await client.call_tool(tool, args)
            samples[i].append((time.perf_counter() - t0) * 1000)
    return [percentile(s, 50) for s in samples]


async def _p50(client: Any, tool: str, args: dict[str, Any], n: int = N) -> float:
    return (await _p50s([(client, tool, args)], n))[0]


class _Unguarded:
    """Validation and the handler only: what a call would cost without identity, policy and audit."""

    def __init__(self, principal: Any) -> None:
        self.principal = principal

    async def dispatch(self, tool: Any, raw: dict[str, Any], ctx: Any) -> Any:
        from mcp_servers.guard.guard import CallContext

        args = tool.input_model.model_validate(raw)
        return await tool.handler(CallContext(self.principal, "workfront", tool.name, None, None), args)


async def in_process(home: Path) -> dict[str, float]:
    from mcp import Client

    from mcc.settings import load_settings
    from mcc.wiring import open_app
    from mcp_servers.guard.identity import FixedPrincipal
    from mcp_servers.guard.sdk_adapter import build_server
    from mcp_servers.workfront.project_tools import project_tools
    from mcp_servers.workfront.spine_sync import SpineSync
    from mcp_servers.workfront.task_tools import task_tools

    # Rate limits stay on with a limit too high to trip: the limiter's cost is in the figure, its denials are not.
    with open_app(load_settings(home=home, workfront_rate_per_minute=10**9)) as app:
        principal = app.principal("maya.chen")
        source = FixedPrincipal(principal)
        project_id, campaign_id = _ids(app)
        guarded = app.workfront_server(source)
        sync = SpineSync(app.sessions)
        tools = project_tools(app.workfront_backend, sync) + task_tools(app.workfront_backend, sync)
        unguarded = build_server("workfront", "bench", tools, _Unguarded(principal))
        out: dict[str, float] = {}
        async with Client(guarded) as g, Client(unguarded) as u, Client(app.spine_server(source)) as s:
            args, spine_args = {"project_id": project_id}, {"campaign_id": campaign_id}
            calls = [(g, "get_project", args), (u, "get_project", args), (s, "get_campaign", spine_args)]
            out["guarded"], out["unguarded"], out["spine"] = await _p50s(calls)
        await app.aclose_backends()
    return out


def _ids(app: Any) -> tuple[str, str]:
    from spine.repositories import open_store

    with open_store(app.sessions, "acme") as store:
        c = next(c for c in store.campaigns.list(limit=100) if "workfront" in c.external_refs)
        return c.external_refs["workfront"], c.id


async def over_stdio(home: Path, env: dict[str, str], project_id: str) -> float:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "mcc", "serve", "workfront"], env=env)
    async with Client(params) as client:
        return await _p50(client, "get_project", {"project_id": project_id})


async def over_http(url: str, project_id: str) -> float:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    async with Client(streamable_http_client(url, http_client=http)) as client:
        return await _p50(client, "get_project", {"project_id": project_id})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="mcc-bench-mcp-"))
    # Servers in subprocesses read these; the limits are raised the same way as in-process.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCC_")}
    env |= {"MCC_HOME": str(home), "MCC_HTTP_TOKENS": json.dumps({TOKEN: "acme/maya.chen"}),
            "MCC_WORKFRONT_RATE_PER_MINUTE": "1000000000"}  # fmt: skip
    subprocess.run([sys.executable, "-m", "mcc", "demo", "--skip-knowledge", "--json"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    figures = asyncio.run(in_process(home))
    from mcc.settings import load_settings
    from mcc.wiring import open_app

    with open_app(load_settings(home=home)) as app:
        project_id, _ = _ids(app)
    stdio = asyncio.run(over_stdio(home, env, project_id))
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mcc", "serve", "workfront", "--transport", "http", "--port",
                             str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        for _ in range(300):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        http = asyncio.run(over_http(f"http://127.0.0.1:{port}/mcp", project_id))
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    guarded = figures["guarded"]
    report = Report("MCP round trips (workfront.get_project, sandbox backend)")
    report.add("in-process p50 (guarded)", guarded, IN_PROCESS_BAR, "ms")
    report.add("stdio p50", stdio, STDIO_BAR, "ms")
    report.add("streamable HTTP p50", http, HTTP_BAR, "ms")
    report.add("guard cost: guarded - unguarded p50", guarded - figures["unguarded"], GUARD_BAR, "ms")
    report.notes.append(f"spine.get_campaign in-process p50: {figures['spine']:.3f} ms; "
                        f"unguarded get_project p50: {figures['unguarded']:.3f} ms; N={N} calls each, "
                        "in-process calls taken in turn")  # fmt: skip
    return report.print()


if __name__ == "__main__":
    sys.exit(main())
