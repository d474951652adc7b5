"""`mcc tenants`, `mcc users` and `mcc directory import` from an empty database, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mcc.cli import app as cli
from mcc.settings import load_settings
from mcc.wiring import open_app
from spine.errors import NotFoundError
from spine.models.governance import AuditEntry
from spine.repositories import open_store

runner = CliRunner()
WF_ALEX = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def home(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh home on an empty database (no demo world): what a new team starts from."""
    for var in ("MCC_POLICY_MODE", "MCC_USER", "MCC_TENANT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MCC_HOME", str(tmp_path))
    monkeypatch.setenv("MCC_DATABASE_URL", db_url)
    assert runner.invoke(cli, ["init"]).exit_code == 0
    return tmp_path


def mcc(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


def mcc_json(*args: str) -> Any:
    code, out = mcc(*args, "--json")
    assert code == 0, out
    return json.loads(out)


def audit_rows(tool_prefix: str = "") -> list[AuditEntry]:
    with open_app(load_settings()) as app, app.sessions() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.server == "directory")).all()
        return [r for r in rows if r.tool.startswith(tool_prefix)]


def test_a_new_team_creates_its_tenant_and_people_and_they_can_act(home: Path) -> None:
    assert mcc_json("tenants", "create", "newco", "--name", "NewCo Ltd")["tenant_id"] == "newco"
    added = mcc_json("users", "add", "alex.kim", "--tenant", "newco", "--group", "campaign-managers",
                     "--email", "alex@newco.example", "--workfront-id", WF_ALEX)  # fmt: skip
    assert added["groups"] == ["campaign-managers"] and added["workfront_user_id"] == WF_ALEX
    with open_app(load_settings()) as app:
        principal = app.principal("alex.kim", "newco")
    assert principal.groups == frozenset({"campaign-managers"})
    assert [t["tenant_id"] for t in mcc_json("tenants", "list")] == ["newco"]
    assert mcc_json("tenants", "show", "newco")["users"][0]["user_id"] == "alex.kim"
    assert {r.tool for r in audit_rows()} == {"tenants.create", "users.add"}


def test_unknown_groups_and_duplicates_are_refused_naming_the_fix(home: Path) -> None:
    mcc("tenants", "create", "newco", "--name", "NewCo")
    code, out = mcc("users", "add", "alex.kim", "--tenant", "newco", "--group", "admins")
    assert code == 2 and "'admins' is not a group" in out and "campaign-managers" in out
    assert mcc_json("users", "list", "--tenant", "newco") == []  # nothing half-written
    mcc("users", "add", "alex.kim", "--tenant", "newco", "--group", "vp")
    code, out = mcc("users", "add", "alex.kim", "--tenant", "newco", "--group", "vp")
    assert code == 2 and "already exists" in out
    code, out = mcc("users", "add", "sam", "--tenant", "nowhere", "--group", "vp")
    assert code == 2 and "nowhere" in out
    code, out = mcc("tenants", "create", "Bad Slug!", "--name", "x")
    assert code == 2 and "tenant_id" in out


def test_one_external_user_maps_to_one_person(home: Path) -> None:
    mcc("tenants", "create", "newco", "--name", "NewCo")
    mcc("users", "add", "alex.kim", "--tenant", "newco", "--group", "production-team", "--workfront-id", WF_ALEX)
    mcc("users", "add", "sam.lee", "--tenant", "newco", "--group", "production-team")
    code, out = mcc("users", "set-identity", "sam.lee", "--tenant", "newco", "--workfront-id", WF_ALEX)
    assert code == 2 and "already linked to 'alex.kim'" in out
    code, out = mcc("users", "set-identity", "sam.lee", "--tenant", "newco", "--asana-gid", "12ab")
    assert code == 2 and "asana_user_gid" in out
    assert mcc_json("users", "set-identity", "sam.lee", "--tenant", "newco", "--asana-gid", "1200")["asana_user_gid"]
    with open_app(load_settings()) as app, open_store(app.sessions, "newco") as store:
        assert store.directory.user_for_identity("workfront", WF_ALEX).user_id == "alex.kim"  # type: ignore[union-attr]
        assert store.directory.user_for_identity("asana", "1200").user_id == "sam.lee"  # type: ignore[union-attr]
        with pytest.raises(Exception, match=r"mcc users set-identity sam\.lee --workfront-id"):
            store.directory.identity_of("sam.lee", "workfront")
    unlinked = mcc_json("users", "set-identity", "alex.kim", "--tenant", "newco", "--workfront-id", "-")
    assert unlinked["workfront_user_id"] is None


def test_removing_a_person_stops_them_acting_but_keeps_their_history(home: Path) -> None:
    mcc("tenants", "create", "newco", "--name", "NewCo")
    mcc("users", "add", "alex.kim", "--tenant", "newco", "--group", "vp")
    before = len(audit_rows())
    assert mcc_json("users", "remove", "alex.kim", "--tenant", "newco")["active"] is False
    with open_app(load_settings()) as app:
        with pytest.raises(NotFoundError):
            app.principal("alex.kim", "newco")
        assert app.groups_of("newco", "alex.kim") is None  # a bearer token of theirs no longer works
    assert mcc_json("users", "list", "--tenant", "newco") == []
    assert [u["user_id"] for u in mcc_json("users", "list", "--tenant", "newco", "--all")] == ["alex.kim"]
    assert len(audit_rows()) == before + 1 and audit_rows("users.add")  # history kept, removal recorded
    back = mcc_json("users", "add", "alex.kim", "--tenant", "newco", "--group", "campaign-managers")
    assert back["active"] is True and back["groups"] == ["campaign-managers"]
    assert mcc("audit", "verify")[0] == 0


def _write_yaml(path: Path, users: list[dict[str, Any]], **top: Any) -> Path:
    import yaml

    path.write_text(yaml.safe_dump({**top, "users": users}), encoding="utf-8")
    return path


PEOPLE = [
    {"user_id": "alex.kim", "display_name": "Alex Kim", "email": "alex@newco.example",
     "groups": ["campaign-managers"], "workfront_user_id": WF_ALEX},
    {"user_id": "dana.ortiz", "display_name": "Dana Ortiz", "email": "dana@newco.example",
     "groups": ["marketing-leadership"], "asana_user_gid": "1200000000000001"},
]  # fmt: skip


def test_directory_import_is_idempotent_and_reports_what_changed(home: Path, tmp_path: Path) -> None:
    file = _write_yaml(tmp_path / "people.yaml", PEOPLE, tenant="newco", name="NewCo Ltd")
    dry = mcc_json("directory", "import", str(file), "--dry-run")
    assert dry["tenant_created"] and sorted(dry["created"]) == ["alex.kim", "dana.ortiz"]
    assert mcc_json("tenants", "list") == []  # a dry run writes nothing
    first = mcc_json("directory", "import", str(file))
    assert sorted(first["created"]) == ["alex.kim", "dana.ortiz"] and first["tenant_created"]
    rows = len(audit_rows())
    again = mcc_json("directory", "import", str(file))
    assert (
        again["created"] == [] and again["updated"] == {} and sorted(again["unchanged"]) == ["alex.kim", "dana.ortiz"]
    )
    assert len(audit_rows()) == rows  # nothing changed, nothing audited
    changed = [{**PEOPLE[0], "groups": ["campaign-managers", "production-team"]}]
    third = mcc_json("directory", "import", str(_write_yaml(tmp_path / "p2.yaml", changed, tenant="newco")))
    assert third["updated"] == {"alex.kim": ["groups"]} and third["not_in_file"] == ["dana.ortiz"]
    assert mcc_json("users", "show", "dana.ortiz", "--tenant", "newco")["active"] is True  # never removed by import
    assert audit_rows("directory.import")[-1].detail["updated"] == ["alex.kim"]


def test_csv_import_and_bad_files_name_the_entry_and_write_nothing(home: Path, tmp_path: Path) -> None:
    mcc("tenants", "create", "newco", "--name", "NewCo")
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "user_id,display_name,email,groups,workfront_user_id,asana_user_gid\n"
        f"alex.kim,Alex Kim,alex@newco.example,campaign-managers;vp,{WF_ALEX},\n"
        "sam.lee,Sam Lee,sam@newco.example,readonly-users,,\n",
        encoding="utf-8",
    )
    report = mcc_json("directory", "import", str(csv_file), "--tenant", "newco")
    assert sorted(report["created"]) == ["alex.kim", "sam.lee"]
    assert mcc_json("users", "show", "alex.kim", "--tenant", "newco")["groups"] == ["campaign-managers", "vp"]
    bad = _write_yaml(tmp_path / "bad.yaml", [*PEOPLE, {**PEOPLE[1], "user_id": "x.y", "groups": ["root"]}])
    code, out = mcc("directory", "import", str(bad), "--tenant", "newco")
    assert code == 2 and "'root' is not a group" in out
    assert [u["user_id"] for u in mcc_json("users", "list", "--tenant", "newco")] == ["alex.kim", "sam.lee"]
    code, out = mcc("directory", "import", str(_write_yaml(tmp_path / "u.yaml", PEOPLE)), "--tenant", "other")
    assert code == 2 and "other" in out  # an unknown tenant without a name is not created by accident
    mixed = _write_yaml(tmp_path / "m.yaml", PEOPLE, tenant="newco")
    code, out = mcc("directory", "import", str(mixed), "--tenant", "acme")
    assert code == 2 and "pass --tenant" in out
