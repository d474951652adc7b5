"""`mcc measurements import` and `mcc sync push` as a user runs them, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from connectors.workfront.sandbox import WorkfrontSandbox
from mcc.cli import app as cli
from mcc.settings import load_settings
from mcc.wiring import open_app
from spine.models import Measurement
from spine.models.governance import AuditEntry
from spine.repositories import open_store

T = "newco"
ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def mcc(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.fixture
def world(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for var in ("MCC_POLICY_MODE", "MCC_USER", "MCC_TENANT", "MCC_SECRET_KEY", "MCC_DBOS_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MCC_DATABASE_URL", db_url)
    assert mcc("tenants", "create", T, "--name", "NewCo")[0] == 0
    assert mcc("users", "add", "dana.ortiz", "--tenant", T, "--group", "campaign-managers")[0] == 0
    with open_app(load_settings()) as app, open_store(app.sessions, T) as store:
        camp = store.campaigns.create({"name": "Spring Launch", "type": "product_launch", "tier": 1,
                                       "launch_date": "2027-03-01", "end_date": "2027-04-30",
                                       "owner_id": "dana.ortiz"}, actor="t")  # fmt: skip
        keys = store.tracking.get(camp.id)
    return {"campaign": camp.id, "adobe": keys.adobe_analytics, "home": tmp_path / "home", "db_url": db_url}


def _count() -> int:
    with open_app(load_settings()) as app, app.sessions() as s:
        return s.scalar(select(func.count()).select_from(Measurement)) or 0


def test_measurements_import_cli(world: dict[str, Any], tmp_path: Path) -> None:
    export = tmp_path / "adobe.csv"
    export.write_text(
        "# Freeform table\nTracking Code,Day,Visits,Orders,Revenue,Marketing Cost\n"
        f'{world["adobe"]},"Mar 1, 2027",100,3,300.00,40.00\n'
        f'{world["adobe"]},"Mar 2, 2027",80,1,90.00,35.50\n'
        'someone_elses_key,"Mar 2, 2027",5,0,0,0\n'
    )
    code, out = mcc("measurements", "import", str(export), "--tenant", T, "--dry-run", "--json")
    assert code == 0, out
    dry = json.loads(out)
    assert dry["imported"] == 2 and dry["stored"] is False and _count() == 0
    code, out = mcc("measurements", "import", str(export), "--tenant", T, "--json")
    report = json.loads(out)
    assert code == 0 and report["imported"] == 2 and report["format"] == "adobe"
    assert report["unmatched"] == [{"line": 5, "key": "someone_elses_key", "key_systems": ["adobe_analytics"],
                                    "reason": "no campaign of the tenant has this tracking key"}]  # fmt: skip
    assert report["budget_spent"] == {world["campaign"]: "75.50"}
    code, out = mcc("measurements", "import", str(export), "--tenant", T)
    assert code == 0 and "0 imported, 2 already present, 1 unmatched" in out and _count() == 2
    with open_app(load_settings()) as app, app.sessions() as s:
        tools = s.scalars(select(AuditEntry.tool).where(AuditEntry.tool == "measurements.import")).all()
        assert len(tools) == 2  # the dry run is not audited: it changed nothing

    bad = tmp_path / "bad.csv"
    bad.write_text(export.read_text().replace("80,1,90.00", "80,one,90.00"))
    code, out = mcc("measurements", "import", str(bad), "--tenant", T, "--format", "adobe")
    assert code == 2 and "line 4" in out and "Orders" in out and "nothing stored" in out
    assert _count() == 2


def test_sync_push_cli_sends_to_the_tenant_sandbox_once(world: dict[str, Any]) -> None:
    if not world["db_url"].startswith("sqlite"):
        pytest.skip("one real `mcc sync push` process is enough; PostgreSQL propagation is tested in test_outbound")
    sandbox_dir = load_settings().sandbox_dir / T / "workfront"

    async def create() -> str:
        wf = WorkfrontSandbox(sandbox_dir)
        try:
            return (await wf.create_project("Spring Launch", planned_start_date="2027-03-01")).id
        finally:
            await wf.aclose()

    pid = asyncio.run(create())
    with open_app(load_settings()) as app, open_store(app.sessions, T) as store:
        store.refs.link("campaign", world["campaign"], "workfront", pid, actor="t")
        store.campaigns.update(world["campaign"], {"name": "Spring Launch NA", "end_date": "2027-05-31"},
                               expected_version=1, actor="dana.ortiz")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCC_")}
    env |= {"MCC_HOME": str(world["home"]), "MCC_DATABASE_URL": world["db_url"], "MCC_DBOS_POLLING_SEC": "0.1"}

    def push() -> dict[str, Any]:
        done = subprocess.run([sys.executable, "-m", "mcc", "sync", "push", "--tenant", T, "--json"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)

    first = push()
    assert list(first["propagations"].values()) == ["synced"] and first["failed"] == 0

    async def read() -> Any:
        wf = WorkfrontSandbox(sandbox_dir)
        try:
            return (await wf.get_project(pid)).project
        finally:
            await wf.aclose()

    project = asyncio.run(read())
    assert (project.name, str(project.planned_completion_date)) == ("Spring Launch NA", "2027-05-31")
    with open_app(load_settings()) as app, app.sessions() as s:
        (entry,) = s.scalars(select(AuditEntry).where(AuditEntry.tool == "outbound.workfront")).all()
        assert (entry.actor, entry.decision, entry.detail["campaign_id"]) == ("sync:outbound", "executed",
                                                                              world["campaign"])  # fmt: skip
    assert mcc("audit", "verify")[0] == 0
