"""`mcc users set-password`: argon2 hash stored (never the password), audited, weak passwords refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from typer.testing import CliRunner

from mcc.cli import app as cli
from spine.models import UserCredential
from spine.models.governance import AuditEntry
from spine.repositories import open_store

runner = CliRunner()
# The CLI's own work does not depend on the backend: SQLite only.
SQLITE_ONLY = True  # see conftest.pytest_collection_modifyitems


@pytest.fixture
def home(demo_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MCC_HOME", str(tmp_path))
    monkeypatch.setenv("MCC_DATABASE_URL", str(demo_app.engine.url))
    monkeypatch.setenv("MCC_AUDIT_KEY", "a" * 40)
    return tmp_path


def test_set_password_stores_an_argon2_hash_and_audits_without_the_secret(home: Path, demo_app) -> None:  # type: ignore[no-untyped-def]
    done = runner.invoke(cli, ["users", "set-password", "maya.chen", "--tenant", "acme", "--password-stdin"],
                         input="a long enough passphrase\n")  # fmt: skip
    assert done.exit_code == 0, done.output
    with demo_app.sessions() as s:
        stored = s.get(UserCredential, ("acme", "maya.chen")).password_hash
        row = s.scalars(select(AuditEntry).where(AuditEntry.tool == "users.set_password")).one()
    assert stored.startswith("$argon2id$") and PasswordHasher().verify(stored, "a long enough passphrase")
    assert "passphrase" not in str(row.detail) and stored not in str(row.detail)
    assert row.detail == {"user_id": "maya.chen"}


def test_short_passwords_and_unknown_users_are_refused(home: Path, demo_app) -> None:  # type: ignore[no-untyped-def]
    short = runner.invoke(cli, ["users", "set-password", "maya.chen", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "at least 12 characters" in short.output
    unknown = runner.invoke(cli, ["users", "set-password", "no.one", "--tenant", "acme", "--password-stdin"],
                            input="a long enough passphrase\n")  # fmt: skip
    assert unknown.exit_code == 2 and "no.one" in unknown.output
    with open_store(demo_app.sessions, "acme") as store:
        assert not store.directory.has_user("no.one")
