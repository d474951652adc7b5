"""Kill -9 the campaign-setup worker at every step, start another: the job finishes with no duplicate project, task,
mapping or event, and the audit chain verifies.

Each case runs the workflow in a subprocess (``setup_harness``) that freezes at a stop point and is SIGKILLed there:
``STEP:done`` is the hardest place, the step's effects committed (in the spine or the external system) and its DBOS
record not yet written, so the next worker runs the step again; ``create@N`` stops inside the structure step, after
some of its external creates.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from spine.audit import AuditLog
from spine.models import SystemRef
from sync.campaign_setup import STEPS, request_id_for, workflow_id_for
from sync.setup_client import CampaignSetupClient
from sync.setup_templates import choose_template
from tests.sync.setup_world import AUDIT_KEY, TENANT, counts, existing_campaign, seed_world
from tests.sync.test_campaign_setup import dbos_config

ROOT = Path(__file__).resolve().parents[2]
STOPS = [f"{step}:done" for step in STEPS] + ["create@3"]


def _harness(args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tests.sync.setup_harness", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def _kill_when_stopped(proc: subprocess.Popen[str], marker: Path, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the worker ended before its stop point: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the worker never reached its stop point")
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    return marker.read_text()


def _expected(kind: str) -> dict[str, int]:
    template = choose_template(kind, 2)
    tasks = sum(len(sec.tasks) for sec in template.sections)
    items = len(template.sections) + tasks  # section parents and their tasks, each mapped once
    system = "wf" if kind == "standard" else "asana"
    return {"work_items": items, "refs": items + 1, "campaign.created": 1, "campaign.synced": 1,
            f"{system}_projects": 1, f"{system}_tasks": items if kind == "standard" else tasks}  # fmt: skip


@pytest.mark.parametrize("mode", ["new", "existing"])
@pytest.mark.parametrize("stop", STOPS)
def test_killed_worker_finishes_on_restart_without_duplicates(
    stop: str, mode: str, db_backend: str, engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """``new``: the request carries the campaign's fields; ``existing``: a campaign with a linked empty project
    (what the production agent leaves), set up by campaign_id: its project is adopted, never a second one."""
    if db_backend == "postgresql" and stop not in ("create_tasks:done", "create@3"):
        pytest.skip("PostgreSQL runs the two structure stops; SQLite runs every stop")
    seed_world(session_factory, tmp_path)
    config, schema = dbos_config(engine, tmp_path)
    key = f"kill-{uuid.uuid4().hex[:10]}"
    common = ["--spine", engine.url.render_as_string(hide_password=False), "--home", str(tmp_path),
              "--dbos", config.system_database_url, "--dbos-schema", config.schema, "--key", key]  # fmt: skip
    adopted = None
    if mode == "existing":
        campaign_id, adopted = existing_campaign(session_factory, tmp_path)
        common += ["--campaign-id", campaign_id]
    try:
        first = _harness([*common, "--enqueue", "--stop", stop])
        assert _kill_when_stopped(first, tmp_path / "stopped") == stop

        wid = workflow_id_for(request_id_for(TENANT, key))
        killed = CampaignSetupClient(config).get(wid)
        assert killed is not None and killed.status == "PENDING"
        step = stop.split(":")[0] if ":" in stop else "create_tasks"
        states = {s.name: s.state for s in killed.steps}
        assert states[step] != "done"  # it ran (its effects are there) but was never recorded
        assert all(states[s] == "done" for s in STEPS[: STEPS.index(step)])

        second = _harness(common)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err[-3000:]
        run = json.loads(out.strip().splitlines()[-1])
        assert run["status"] == "SUCCESS", run["error"]
        assert set(run["steps"].values()) == {"done"}

        assert adopted is None or run["result"]["project_id"] == adopted
        seen = counts(session_factory, tmp_path)
        assert {k: seen[k] for k in _expected("standard")} == _expected("standard")
        assert seen["asana_projects"] == 0
        with session_factory() as s:
            refs = s.scalars(select(SystemRef.external_id)).all()
        assert len(refs) == len(set(refs))
        assert AuditLog(session_factory, key=AUDIT_KEY).verify().ok
    finally:
        if schema is not None:
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
