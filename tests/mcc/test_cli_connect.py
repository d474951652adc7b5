"""`mcc connect`: per-tenant connections to the local wire-format Workfront and Asana servers, end to end."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from sqlalchemy import text
from typer.testing import CliRunner

from mcc.cli import app as cli
from mcc.settings import load_settings
from mcc.wiring import open_app
from mcp_servers.guard.identity import FixedPrincipal
from tests.wire.asana_server import AsanaWireServer, asana_wire_server
from tests.wire.workfront_server import TOKEN as WF_TOKEN
from tests.wire.workfront_server import WorkfrontWireServer, workfront_wire, workfront_wire_server

__all__ = ["asana_wire_server", "workfront_wire", "workfront_wire_server"]
runner = CliRunner()
ASANA_TOKEN = "1/wire-token-for-newco-0123456789"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh home (SQLite) with tenant newco and one campaign manager; no demo world."""
    for var in ("MCC_DATABASE_URL", "MCC_POLICY_MODE", "MCC_USER", "MCC_TENANT", "MCC_SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MCC_HOME", str(tmp_path / "home"))
    assert mcc("tenants", "create", "newco", "--name", "NewCo")[0] == 0
    assert mcc("users", "add", "alex.kim", "--tenant", "newco", "--group", "campaign-managers")[0] == 0
    return tmp_path / "home"


@pytest.fixture
def asana(asana_wire_server: Any) -> tuple[AsanaWireServer, str]:
    srv: AsanaWireServer = asana_wire_server()
    ws = srv.state.add_workspace("NewCo")
    srv.state.add_user("Alex Kim", "alex@newco.example", ws, token=ASANA_TOKEN)
    return srv, ws


def mcc(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(cli, list(args), input=stdin)
    return result.exit_code, result.output


def test_connections_are_checked_listed_and_removed_without_showing_secrets(
    home: Path, workfront_wire: WorkfrontWireServer, asana: tuple[AsanaWireServer, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    server, ws = asana
    monkeypatch.setenv("NEWCO_WF_KEY", WF_TOKEN)
    code, out = mcc("connect", "workfront", "--tenant", "newco", "--url", workfront_wire.base_url,
                    "--api-key-env", "NEWCO_WF_KEY", "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["secret"] == "env:NEWCO_WF_KEY"
    code, out = mcc("connect", "asana", "--tenant", "newco", "--url", server.base_url,
                    "--workspace", ws, "--token-stdin", stdin=ASANA_TOKEN + "\n")  # fmt: skip
    assert code == 0, out
    assert ASANA_TOKEN not in out

    code, out = mcc("connect", "check", "--tenant", "newco", "--json")
    assert code == 0, out
    checks = {r["system"]: r for r in json.loads(out)}
    assert checks["workfront"]["ok"] and checks["asana"]["ok"] and "Alex Kim" in checks["asana"]["detail"]

    listed = json.loads(mcc("connect", "list", "--tenant", "newco", "--json")[1])
    assert [(c["system"], c["secret"]) for c in listed] == [("asana", "encrypted"), ("workfront", "env:NEWCO_WF_KEY")]
    with open_app(load_settings()) as app, app.sessions() as s:
        stored = s.execute(text("select secret_ciphertext from connections where system = 'asana'")).scalar_one()
        audit = s.execute(text("select detail from audit_log where server = 'connections'")).scalars().all()
    assert ASANA_TOKEN not in stored and ASANA_TOKEN not in json.dumps(audit) and len(audit) == 2
    key = home / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600  # the key lives outside the database, readable by us only

    monkeypatch.setenv("NEWCO_WF_KEY", "a-wrong-key")
    code, out = mcc("connect", "check", "--tenant", "newco")
    assert code == 1 and "workfront: failed [forbidden]" in " ".join(out.split())
    monkeypatch.delenv("NEWCO_WF_KEY")
    code, out = mcc("connect", "check", "--tenant", "newco")
    assert code == 1 and "NEWCO_WF_KEY is not set" in " ".join(out.split())

    assert mcc("connect", "remove", "workfront", "--tenant", "newco")[0] == 0
    assert [c["system"] for c in json.loads(mcc("connect", "list", "--tenant", "newco", "--json")[1])] == ["asana"]
    assert mcc("connect", "remove", "workfront", "--tenant", "newco")[0] == 2


def test_bad_connections_are_refused_and_store_nothing(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = mcc("connect", "workfront", "--tenant", "newco", "--url", "ftp://x", "--api-key-env", "K")
    assert code == 2 and "url" in out
    code, out = mcc("connect", "workfront", "--tenant", "newco", "--url", "https://u:p@x.example", "--api-key-env", "K")
    assert code == 2 and "credentials" in out
    code, out = mcc("connect", "asana", "--tenant", "newco", "--workspace", "ws1", "--token-env", "K")
    assert code == 2 and "workspace" in out
    code, out = mcc("connect", "workfront", "--tenant", "ghost", "--url", "https://x.example", "--api-key-env", "K")
    assert code == 2 and "ghost" in out
    code, _ = mcc("connect", "workfront", "--tenant", "newco", "--url", "https://x.example")
    assert code == 2  # no secret source
    assert json.loads(mcc("connect", "list", "--tenant", "newco", "--json")[1]) == []


def test_tools_use_the_tenant_connection_and_other_tenants_keep_their_sandbox(
    home: Path, workfront_wire: WorkfrontWireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWCO_WF_KEY", WF_TOKEN)
    mcc("connect", "workfront", "--tenant", "newco", "--url", workfront_wire.base_url, "--api-key-env", "NEWCO_WF_KEY")
    assert mcc("tenants", "create", "other", "--name", "Other")[0] == 0
    assert mcc("users", "add", "sam.lee", "--tenant", "other", "--group", "campaign-managers")[0] == 0

    async def search_as(app: Any, user: str, tenant: str) -> Any:
        server = app.workfront_server(FixedPrincipal(app.principal(user, tenant)))
        async with Client(server) as client:
            return await client.call_tool("search", {"obj_code": "PROJ", "filters": {}})

    async def both(app: Any) -> tuple[int, int, int]:
        try:
            before = len(workfront_wire.state.seen)
            first = await search_as(app, "alex.kim", "newco")
            assert not first.is_error, first.content
            seen = len(workfront_wire.state.seen)
            second = await search_as(app, "sam.lee", "other")
            assert not second.is_error, second.content
            return before, seen, len(workfront_wire.state.seen)
        finally:
            await app.aclose_backends()

    with open_app(load_settings()) as app:
        before, after_newco, after_other = asyncio.run(both(app))
    assert after_newco > before  # newco's call went to its own Workfront
    assert after_other == after_newco  # the other tenant stayed on its sandbox
