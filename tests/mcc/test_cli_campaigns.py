"""The ``mcc`` CLI as a user runs it: a real subprocess on a fresh MCC_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MCC = [sys.executable, "-m", "mcc"]


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MCC_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    env.pop("MCC_DATABASE_URL", None)
    return subprocess.run([*MCC, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("mcc-home")
    out = run(home, "demo", "--skip-knowledge", "--skip-conversation", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["demo"]["created"] is True and data["demo"]["campaigns"] >= 12
    return home


def test_init_creates_the_database(tmp_path: Path) -> None:
    out = run(tmp_path, "init")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "mcc.db").exists()


def test_init_never_prints_the_database_password(db_url: str, tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("a SQLite URL carries no password")
    # trust auth accepts any password, so the URL works and the secret would show if it were printed
    with_secret = url.set(password="s3cret-pw").render_as_string(hide_password=False)
    env = {**os.environ, "MCC_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1", "MCC_DATABASE_URL": with_secret}
    out = subprocess.run([*MCC, "init"], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "database ready" in out.stdout
    assert "s3cret-pw" not in out.stdout + out.stderr and "***" in out.stdout


def test_demo_is_idempotent_and_prints_an_overview(home: Path) -> None:
    out = run(home, "demo", "--skip-knowledge", "--skip-conversation")
    assert out.returncode == 0, out.stderr
    assert "already present" in out.stdout and "Campaigns of tenant acme" in out.stdout


def test_campaigns_list_and_show_json(home: Path) -> None:
    listed = json.loads(run(home, "campaigns", "list", "--json").stdout)
    assert len(listed) >= 12 and {c["tenant_id"] for c in listed} == {"acme"}
    assert {c["type"] for c in listed} == {"standard", "event", "partner", "product_launch"}
    tier1 = json.loads(run(home, "campaigns", "list", "--tier", "1", "--json").stdout)
    assert tier1 and all(c["tier"] == 1 for c in tier1)
    shown = json.loads(run(home, "campaigns", "show", listed[0]["id"], "--json").stdout)
    assert shown["campaign"]["id"] == listed[0]["id"]
    assert shown["tracking_keys"]["google_analytics"] == "CMP_" + listed[0]["id"][-8:].upper()


def test_bad_input_gets_a_clear_error_naming_the_field(home: Path) -> None:
    out = run(home, "campaigns", "show", "not-a-campaign")
    assert out.returncode == 2 and "campaign_id" in out.stderr
    out = run(home, "campaigns", "list", "--tenant", "nope")
    assert out.returncode == 2 and "tenant_id" in out.stderr
    out = run(home, "campaigns", "list", "--tier", "7")
    assert out.returncode != 0 and "tier" in out.stderr.lower()
