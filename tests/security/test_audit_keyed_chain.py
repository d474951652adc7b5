"""Attacks on the audit log by someone with full database access but not the audit key: recompute the chain,
truncate the tail and rewrite the head, roll back to an old copy, wipe it, forge a checkpoint, move the legacy
boundary. The keyed chain and signed checkpoints (kept outside the database) must catch each."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from mcc.cli import app as cli
from mcc.settings import load_settings
from mcc.wiring import open_app
from spine.audit import AuditLog, entry_hash
from spine.audit_checkpoint import Checkpoint, make_checkpoint, verify_against
from spine.db import make_engine, make_session_factory, utcnow
from spine.migrate import downgrade, upgrade
from spine.models.governance import GENESIS_HASH, AuditChainHead, AuditEntry

KEY = b"k" * 16 + os.urandom(16)


def _log(sf: sessionmaker[Session], key: bytes | None = KEY) -> AuditLog:
    return AuditLog(sf, key=key)


def _fill(log: AuditLog, n: int = 6) -> None:
    for i in range(n):
        log.append(tenant_id="acme", actor="maya.chen", server="spine", tool="create_campaign",
                   decision="executed", detail={"i": i})  # fmt: skip


def _kinds(log: AuditLog, cp: Checkpoint | None = None) -> list[str]:
    report = log.verify()
    problems = report.problems + (verify_against(log, cp) if cp is not None else [])
    return [p.kind for p in problems]


def _recompute_unkeyed(sf: sessionmaker[Session], from_seq: int) -> None:
    """What an attacker without the key can do: rewrite rows and re-link them with plain SHA-256."""
    with sf.begin() as s:
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        prev = GENESIS_HASH
        for e in rows:
            if e.seq >= from_seq:
                e.prev_hash, e.key_id = prev, None
                e.hash = entry_hash(e)
            prev = e.hash
        s.execute(update(AuditChainHead).values(last_seq=rows[-1].seq, last_hash=prev))


def test_an_edited_row_recomputed_without_the_key_is_caught(session_factory: sessionmaker[Session]) -> None:
    log = _log(session_factory)
    _fill(log)
    assert log.verify().ok
    with session_factory.begin() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(decision="deny"))
    _recompute_unkeyed(session_factory, 3)
    assert "unkeyed" in _kinds(log)


def test_a_recomputed_chain_with_a_guessed_key_is_caught(session_factory: sessionmaker[Session]) -> None:
    log = _log(session_factory)
    _fill(log)
    forger = _log(session_factory, b"g" * 32)
    with session_factory.begin() as s:
        s.execute(delete(AuditEntry))
        s.execute(delete(AuditChainHead))
    _fill(forger)
    with session_factory.begin() as s:  # claim to be the real key
        s.execute(update(AuditEntry).values(key_id=log.key_id))
    assert set(_kinds(log)) >= {"edited"}


def test_tail_truncation_with_the_head_rewritten_is_caught(session_factory: sessionmaker[Session]) -> None:
    log = _log(session_factory)
    _fill(log)
    with session_factory.begin() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq > 4))
        kept = s.scalar(select(AuditEntry.hash).where(AuditEntry.seq == 4))
        s.execute(update(AuditChainHead).values(last_seq=4, last_hash=kept))
    assert _kinds(log) == ["head_forged"]


def test_a_rollback_passes_the_chain_but_not_the_checkpoint(session_factory: sessionmaker[Session]) -> None:
    log = _log(session_factory)
    _fill(log, 4)
    with session_factory() as s:  # the attacker's old copy of the head (seq 4, with its valid HMAC)
        old_head = s.execute(select(AuditChainHead.__table__)).mappings().one()
    _fill(log, 3)
    cp = make_checkpoint(log, utcnow())
    assert cp.seq == 7 and _kinds(log, cp) == []
    with session_factory.begin() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq > 4))
        s.execute(update(AuditChainHead).values(**{k: v for k, v in old_head.items() if k != "id"}))
    assert log.verify().ok  # indistinguishable from inside the database ...
    assert _kinds(log, cp) == ["truncated"]  # ... but not from the checkpoint kept elsewhere


def test_a_wipe_is_caught_by_the_checkpoint(session_factory: sessionmaker[Session]) -> None:
    log = _log(session_factory)
    _fill(log)
    cp = make_checkpoint(log, utcnow())
    with session_factory.begin() as s:
        s.execute(delete(AuditEntry))
        s.execute(delete(AuditChainHead))
    assert log.verify().ok and log.verify().checked == 0
    assert _kinds(log, cp) == ["wiped"]


def test_a_forged_checkpoint_proves_nothing(session_factory: sessionmaker[Session]) -> None:
    log = _log(session_factory)
    _fill(log)
    cp = make_checkpoint(log, utcnow())
    with session_factory.begin() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq > 3))
    short = log.verify()
    edited = cp.model_copy(update={"seq": 3, "count": 3, "hash": log.row_hash(3)})
    assert not short.ok and _kinds(log, edited)[-1] == "bad_checkpoint"
    assert [p.kind for p in verify_against(_log(session_factory, b"o" * 32), cp)] == ["bad_checkpoint"]


def test_legacy_rows_verify_after_the_migration_and_the_boundary_cannot_move(tmp_path: Path) -> None:
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine)
    _fill(_log(make_session_factory(engine), None), 3)  # unkeyed rows, as the code before 0003 wrote them
    downgrade(engine, "0002")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == 3
    upgrade(engine)
    sf = make_session_factory(engine)
    log = _log(sf)
    assert _kinds(log) == ["unsealed"]  # until sealed, a recomputed legacy chain could not be told apart
    assert log.seal() and log.verify().ok
    _fill(log, 2)
    assert log.verify().ok and log.verify().checked == 5
    with engine.begin() as conn:  # move the boundary over the keyed rows, keeping the head's HMAC
        conn.execute(update(AuditChainHead).values(legacy_until=5))
    assert _kinds(log) == ["head_forged"]
    with engine.begin() as conn:
        conn.execute(update(AuditChainHead).values(legacy_until=3))
    assert log.verify().ok
    _fill(_log(sf, None), 1)  # a writer without the key, after the chain was keyed
    assert set(_kinds(log)) == {"unkeyed", "unsealed"}
    engine.dispose()


# -- the CLI and the key file ----------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("MCC_DATABASE_URL", "MCC_AUDIT_KEY", "MCC_POLICY_MODE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MCC_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_cli_checkpoint_then_a_truncation_fails_verify_against_it(home: Path, tmp_path: Path) -> None:
    with open_app(load_settings()) as app:
        _fill(app.audit_log(), 5)
    key_file = home / "audit.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    secret = key_file.read_text().strip()
    cp_file = tmp_path / "outside" / "cp.json"
    cp_file.parent.mkdir()
    result = runner.invoke(cli, ["audit", "checkpoint", "--out", str(cp_file)])
    assert result.exit_code == 0 and secret not in result.output
    assert json.loads(cp_file.read_text())["seq"] == 5
    result = runner.invoke(cli, ["audit", "verify", "--against", str(cp_file)])
    assert result.exit_code == 0 and "intact" in result.output

    with open_app(load_settings()) as app, app.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq > 2"))
        last = conn.execute(text("SELECT hash FROM audit_log WHERE seq = 2")).scalar()
        conn.execute(text("UPDATE audit_chain_head SET last_seq = 2, last_hash = :h"), {"h": last})
    result = runner.invoke(cli, ["audit", "verify", "--json", "--against", str(cp_file)])
    report = json.loads(result.output)
    assert result.exit_code == 1 and {p["kind"] for p in report["problems"]} == {"head_forged", "truncated"}
    assert secret not in result.output


def test_the_key_from_the_environment_is_used_and_never_printed(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCC_AUDIT_KEY", "e" * 40)
    with open_app(load_settings()) as app:
        _fill(app.audit_log(), 2)
        assert app.audit_log().key_id == AuditLog(app.sessions, key=b"e" * 40).key_id
        assert "e" * 40 not in repr(app.settings)
    assert not (home / "audit.key").exists()
    result = runner.invoke(cli, ["audit", "checkpoint"])
    assert result.exit_code == 0 and "e" * 40 not in result.output


def test_a_key_file_readable_by_others_is_refused(home: Path) -> None:
    home.mkdir(parents=True)
    key_file = home / "audit.key"
    key_file.write_text("x" * 64)
    key_file.chmod(0o644)
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code != 0
