"""The hash-chained audit log: append, tail, verify, tamper detection and concurrent appends."""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from spine.audit import AuditLog, entry_hash
from spine.db import make_engine, make_session_factory, transaction
from spine.errors import ValidationError
from spine.models.governance import GENESIS_HASH, AuditChainHead, AuditEntry

HASHED = ("tenant_id", "at", "actor", "server", "tool", "fingerprint", "decision", "rule_ids", "approval_id")
CONTENT = (*HASHED, "detail", "prev_hash", "hash")


def _url(engine: Engine) -> str:
    """The engine's URL for another process (the shared fixtures' SQLite file or PostgreSQL schema)."""
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def sf(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """The shared ``session_factory`` over a migrated database (SQLite and PostgreSQL, see tests/conftest.py)."""
    return session_factory


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


@pytest.fixture
def log(sf: sessionmaker[Session]) -> AuditLog:
    return AuditLog(sf, Clock())


def _fill(log: AuditLog, n: int = 6) -> None:
    for i in range(n):
        log.append(
            tenant_id="tenant-a" if i % 2 == 0 else "tenant-b", actor=f"user{i}", server="spine",
            tool="update_campaign", decision="allow" if i % 3 else "require_approval",
            fingerprint=f"{i:064x}", rule_ids=[f"rule.{i}"], approval_id=None,
            detail={"fields": ["budget"], "amount": "1200.50", "ratio": 0.25, "n": i},
        )  # fmt: skip


def _exec(sf: sessionmaker[Session], stmt: Any) -> None:
    with transaction(sf) as s:
        s.execute(stmt)


def test_append_tail_and_verify(log: AuditLog) -> None:
    assert log.verify().ok and log.verify().checked == 0 and log.head() == (0, GENESIS_HASH)
    _fill(log)
    rows = log.tail(limit=100)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert all(r.hash == entry_hash(r) and len(r.hash) == 64 for r in rows)
    assert rows[2].decision == "allow" and rows[0].rule_ids == ["rule.0"] and rows[0].detail["ratio"] == 0.25
    assert rows[0].at.tzinfo is not None
    assert [r.seq for r in log.tail(limit=2)] == [5, 6]
    assert [r.seq for r in log.tail(tenant_id="tenant-b")] == [2, 4, 6]
    assert log.head() == (6, rows[-1].hash)
    report = log.verify()
    assert (report.ok, report.checked, report.problems, report.last_seq) == (True, 6, [], 6)


def test_append_in_commits_or_rolls_back_with_the_callers_transaction(log: AuditLog, sf: sessionmaker[Session]) -> None:
    _fill(log, 2)
    with pytest.raises(RuntimeError), transaction(sf) as s:
        log.append_in(s, tenant_id="tenant-a", actor="bob", server="spine", tool="t", decision="executed")
        raise RuntimeError("the write failed")
    assert log.head()[0] == 2
    with transaction(sf) as s:
        entry = log.append_in(s, tenant_id="tenant-a", actor="bob", server="spine", tool="t", decision="executed")
    assert entry.seq == 3
    assert log.verify().ok


def test_edited_row_is_named(log: AuditLog, sf: sessionmaker[Session]) -> None:
    _fill(log)
    _exec(sf, update(AuditEntry).where(AuditEntry.seq == 3).values(actor="mallory"))
    report = log.verify()
    assert not report.ok
    assert [(p.seq, p.kind) for p in report.problems] == [(3, "edited")]


def test_edited_detail_json_is_detected(log: AuditLog, sf: sessionmaker[Session]) -> None:
    _fill(log)
    _exec(sf, update(AuditEntry).where(AuditEntry.seq == 5).values(detail={"fields": ["budget"], "n": 4}))
    assert [(p.seq, p.kind) for p in log.verify().problems] == [(5, "edited")]


def test_rehashed_edit_breaks_the_next_link(log: AuditLog, sf: sessionmaker[Session]) -> None:
    _fill(log)
    with transaction(sf) as s:
        row = s.get(AuditEntry, 2)
        assert row is not None
        row.actor = "mallory"
        row.hash = entry_hash(row)
    report = log.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(3, "broken_link")]
    assert "seq 2" in report.problems[0].message


def test_deleted_rows_are_named(log: AuditLog, sf: sessionmaker[Session]) -> None:
    _fill(log)
    _exec(sf, delete(AuditEntry).where(AuditEntry.seq == 3))
    report = log.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(3, "deleted")]
    assert report.checked == 5
    _exec(sf, delete(AuditEntry).where(AuditEntry.seq == 6))
    assert [(p.seq, p.kind) for p in log.verify().problems] == [(3, "deleted"), (6, "deleted")]


def test_deleted_first_row_is_named(log: AuditLog, sf: sessionmaker[Session]) -> None:
    _fill(log)
    _exec(sf, delete(AuditEntry).where(AuditEntry.seq == 1))
    assert [(p.seq, p.kind) for p in log.verify().problems] == [(1, "deleted")]


def test_swapped_rows_are_reported_as_reordered(log: AuditLog, sf: sessionmaker[Session]) -> None:
    _fill(log)
    with transaction(sf) as s:
        a, b = (
            s.execute(select(*(getattr(AuditEntry, c) for c in CONTENT)).where(AuditEntry.seq == n)).one()
            for n in (2, 3)
        )
        # The unique hash column only makes the attacker take one more step.
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(hash="x" * 64))
        s.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(dict(zip(CONTENT, b, strict=True))))
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(dict(zip(CONTENT, a, strict=True))))
    report = log.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(2, "reordered"), (3, "reordered")]
    assert "written as seq 3" in report.problems[0].message


def test_missing_head_is_reported(log: AuditLog, sf: sessionmaker[Session]) -> None:
    _fill(log, 2)
    _exec(sf, delete(AuditChainHead))
    assert [p.kind for p in log.verify().problems] == ["broken_link"]
    # Appending re-creates the head from the log, so the chain continues.
    log.append(tenant_id=None, actor="system", server="spine", tool="audit", decision="allow")
    assert log.verify().ok and log.head()[0] == 3


def test_append_validates_required_fields(log: AuditLog) -> None:
    with pytest.raises(ValidationError, match="decision"):
        log.append(tenant_id="t", actor="a", server="s", tool="t", decision="")


# -- concurrency ---------------------------------------------------------------------------------------------


def _append_worker(url: str, me: str, n: int, barrier: Any) -> None:
    engine = make_engine(url)
    log = AuditLog(make_session_factory(engine))
    barrier.wait()
    for i in range(n):
        log.append(tenant_id="tenant-a", actor=me, server="spine", tool="update", decision="allow", detail={"i": i})
    engine.dispose()


def test_concurrent_appends_from_two_processes_keep_one_chain(engine: Engine, log: AuditLog) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier, n = ctx.Barrier(2, timeout=60), 40
    procs = [ctx.Process(target=_append_worker, args=(_url(engine), me, n, barrier)) for me in ("p1", "p2")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=90)
        assert p.exitcode == 0
    report = log.verify()
    assert report.ok, report.problems
    assert report.checked == report.last_seq == 2 * n
    actors = [r.actor for r in log.tail(limit=2 * n)]
    assert actors.count("p1") == actors.count("p2") == n


def test_renumbered_rows_are_reported_as_reordered(log: AuditLog, sf: sessionmaker[Session]) -> None:
    _fill(log)
    for old, new in ((4, 1000), (5, 4), (1000, 5)):
        _exec(sf, update(AuditEntry).where(AuditEntry.seq == old).values(seq=new))
    assert [(p.seq, p.kind) for p in log.verify().problems] == [(4, "reordered"), (5, "reordered")]


def test_logs_on_two_databases_in_one_process_keep_their_own_chains(tmp_path: Any) -> None:
    """Each log writes to the engine its factory was made for, interleaved with another database's log."""
    from spine.migrate import upgrade

    first, second = (make_engine(f"sqlite:///{tmp_path / name}.db") for name in ("first", "second"))
    for engine in (first, second):
        upgrade(engine)
    one, two = AuditLog(make_session_factory(first), Clock()), AuditLog(make_session_factory(second), Clock())
    for _ in range(2):
        _fill(one, 1)
        _fill(two, 2)
    assert (one.head()[0], two.head()[0]) == (2, 4)
    assert one.verify().ok and two.verify().ok
    assert AuditLog(make_session_factory(first)).head() == one.head()


def test_a_factory_without_an_engine_is_refused() -> None:
    with pytest.raises(ValidationError) as err:
        AuditLog(sessionmaker())
    assert err.value.field == "session_factory"
