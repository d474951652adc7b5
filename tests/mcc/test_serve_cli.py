"""`mcc serve` around serving: --list-tools, and a server that cannot start explains why to the MCP client too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.mcc.test_serve import _env


def _mcc(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcc", *args], env=_env(home), input=stdin, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_list_tools_prints_every_tool_with_title_and_hints_as_json(tmp_path: Path) -> None:
    done = _mcc(tmp_path, "serve", "spine", "--list-tools", "--json")
    assert done.returncode == 0, done.stderr
    tools = {t["name"]: t for t in json.loads(done.stdout)}
    assert {"create_campaign", "get_campaign", "resolve_approval"} <= set(tools)
    assert all(t["title"] and t["annotations"]["title"] == t["title"] for t in tools.values())
    assert tools["get_campaign"]["annotations"]["readOnlyHint"] is True
    assert tools["create_campaign"]["inputSchema"]["additionalProperties"] is False
    text = _mcc(tmp_path, "serve", "spine", "--list-tools")
    assert text.returncode == 0 and "create_campaign" in text.stdout and "read-only" in text.stdout


async def test_a_missing_tenant_is_explained_to_the_client_and_on_stderr(tmp_path: Path) -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", "mcc", "serve", "spine"], env=_env(tmp_path))
    with pytest.raises(Exception) as failed:  # the error type depends on the transport
        async with Client(params) as client:
            await client.list_tools()
    assert "no tenant 'acme'" in repr(failed.value) and "mcc demo" in repr(failed.value)
    done = _mcc(tmp_path, "serve", "spine")
    assert done.returncode == 2 and "no tenant 'acme'" in done.stderr and "mcc tenants create acme" in done.stderr


def test_a_tool_prefix_makes_every_served_name_unique_across_servers(tmp_path: Path) -> None:
    names = []
    for server in ("workfront", "asana"):
        done = _mcc(tmp_path, "serve", server, "--list-tools", "--json", "--tool-prefix", f"{server}_")
        assert done.returncode == 0, done.stderr
        names += [t["name"] for t in json.loads(done.stdout)]
    assert "workfront_create_project" in names and "asana_create_project" in names
    assert len(names) == len(set(names)) and all(n.startswith(("workfront_", "asana_")) for n in names)
