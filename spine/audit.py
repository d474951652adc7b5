"""The tamper-evident audit log: one global, keyed hash chain of decisions and executed writes.

Each row stores ``prev_hash`` (the previous row's hash) and ``hash = HMAC-SHA-256(audit key, prev_hash +
canonical JSON of the row's fields, seq and timestamp included)`` with the key's ``key_id``. Appends are
serialised by first writing the single ``audit_chain_head`` row (PostgreSQL: a row lock held to commit; SQLite:
the database write lock), so two processes never fork the chain and ``seq`` stays gapless. The head records the
last seq and hash under its own HMAC (``mac``). ``verify`` walks the chain and names each bad seq.

Threat model. The attacker can read and write the database (SQL access, a stolen backup restored) but not the
audit key, which lives outside it (``MCC_AUDIT_KEY`` or ``$MCC_HOME/audit.key``, 0600). Then:

* editing, deleting, reordering or inserting rows, or recomputing the whole chain, is detected: a valid hash
  needs the key, and so does a head that matches a shortened chain;
* rolling the whole database (rows and head) back to an older copy, or wiping it, is NOT detectable from inside
  the database: a signed checkpoint kept elsewhere is (``checkpoint`` writes seq, hash, count and time signed
  with the key; ``verify(against=...)`` fails when that row is gone or differs). Write checkpoints regularly to
  storage the database's administrators cannot rewrite;
* whoever holds the key can forge everything: the key is the trust root. The log proves what the guard wrote,
  not that the guard ran (a process that bypasses the guard writes no rows).

Legacy rows (written before migration 0003, ``key_id`` NULL) keep their unkeyed SHA-256 hashes and are accepted
up to the head's ``legacy_until`` only; the head's HMAC covers ``legacy_until``, so the boundary cannot move. A
head without HMAC (right after the migration) is reported as ``unsealed`` until the first keyed append or
``seal()`` (``mcc audit checkpoint``). An ``AuditLog`` without key writes and verifies unkeyed rows only (tests).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from spine.db import utcnow
from spine.errors import ValidationError
from spine.fingerprint import canonical_json, canonicalize, sha256_hex
from spine.models.governance import GENESIS_HASH, AuditChainHead, AuditEntry

HEAD_ID = 1
_HEAD = AuditChainHead.__table__
# Writing the head row takes the chain lock (PostgreSQL row lock, SQLite write lock) and reads it in one statement.
_TOUCH_HEAD = (
    update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(last_seq=_HEAD.c.last_seq)
    .returning(_HEAD.c.last_seq, _HEAD.c.last_hash, _HEAD.c.legacy_until)
)  # fmt: skip
_INSERT_ENTRY = insert(AuditEntry.__table__)
_SET_HEAD = (
    update(_HEAD).where(_HEAD.c.id == HEAD_ID)
    .values(last_seq=bindparam("seq"), last_hash=bindparam("hash"), updated_at=bindparam("at"), mac=bindparam("mac"))
)  # fmt: skip
_READ_HEAD = select(_HEAD.c.last_seq, _HEAD.c.last_hash, _HEAD.c.legacy_until, _HEAD.c.mac).where(_HEAD.c.id == HEAD_ID)
# How far (in seq) verify looks for the original position of a row that fails its own hash.
REORDER_WINDOW = 256


class Problem(NamedTuple):
    """One finding of ``verify``: kind is edited | deleted | reordered | broken_link | unkeyed | unknown_key |
    unsealed | head_forged | truncated | wiped | bad_checkpoint."""

    seq: int
    kind: str
    message: str


@dataclass
class VerifyReport:
    ok: bool
    checked: int
    problems: list[Problem] = field(default_factory=list)
    last_seq: int = 0


def _hashed_fields(entry: AuditEntry, seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "tenant_id": entry.tenant_id,
        "at": entry.at,
        "actor": entry.actor,
        "server": entry.server,
        "tool": entry.tool,
        "fingerprint": entry.fingerprint,
        "decision": entry.decision,
        "rule_ids": entry.rule_ids,
        "approval_id": entry.approval_id,
        "detail": entry.detail,
    }


def key_id(key: bytes) -> str:
    """A short public name of an audit key (so verify can tell which key hashed a row); reveals nothing of it."""
    return hmac.new(key, b"mcc-audit-key-id", hashlib.sha256).hexdigest()[:16]


def entry_hash(entry: AuditEntry, seq: int | None = None, key: bytes | None = None) -> str:
    """The hash ``entry`` must carry if it sits at ``seq`` (default: its own seq): HMAC under ``key`` for a keyed
    row, plain SHA-256 for a legacy row (``key_id`` None)."""
    data = entry.prev_hash + canonical_json(_hashed_fields(entry, entry.seq if seq is None else seq))
    if entry.key_id is None:
        return sha256_hex(data)
    if key is None:
        return ""  # a keyed row cannot be checked without its key
    return hmac.new(key, data.encode(), hashlib.sha256).hexdigest()


def head_mac(key: bytes, last_seq: int, last_hash: str, legacy_until: int) -> str:
    """The HMAC a chain head (last seq, last hash, legacy boundary) carries under ``key``."""
    data = canonical_json({"last_seq": last_seq, "last_hash": last_hash, "legacy_until": legacy_until})
    return hmac.new(key, b"head:" + data.encode(), hashlib.sha256).hexdigest()


class AuditLog:
    """Append, read and verify the audit chain on the spine database, keyed by ``key`` (see the module doc)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Callable[[], dt.datetime] = utcnow,
        key: bytes | None = None,
    ) -> None:
        bind = session_factory.kw.get("bind")
        if not isinstance(bind, Engine):
            raise ValidationError("session_factory", "is not bound to an engine", "pass make_session_factory(engine)")
        if key is not None and len(key) < 16:
            raise ValidationError("audit_key", "is shorter than 16 bytes", "use at least 32 random bytes")
        self._sf = session_factory
        self._engine = bind  # appends run on a bare connection of this engine
        self._clock = clock
        self._key = key
        self.key_id = key_id(key) if key is not None else None

    def sign(self, data: bytes) -> str:
        """HMAC-SHA-256 of ``data`` under the audit key (checkpoints); raises without a key."""
        if self._key is None:
            raise ValidationError("audit_key", "no audit key is configured", "set MCC_AUDIT_KEY")
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def append(
        self,
        *,
        tenant_id: str | None,
        actor: str,
        server: str,
        tool: str,
        decision: str,
        fingerprint: str | None = None,
        rule_ids: Iterable[str] = (),
        approval_id: str | None = None,
        detail: Any = None,
    ) -> AuditEntry:
        """Append one row in its own transaction. ``detail`` must already be masked (no PII)."""
        # A bare connection, not an ORM session: this runs on every tool call and the session costs ~2x more.
        with self._engine.begin() as conn:
            return self.append_in(
                conn, tenant_id=tenant_id, actor=actor, server=server, tool=tool, decision=decision,
                fingerprint=fingerprint, rule_ids=rule_ids, approval_id=approval_id, detail=detail,
            )  # fmt: skip

    def append_in(
        self,
        session: Session | Connection,
        *,
        tenant_id: str | None,
        actor: str,
        server: str,
        tool: str,
        decision: str,
        fingerprint: str | None = None,
        rule_ids: Iterable[str] = (),
        approval_id: str | None = None,
        detail: Any = None,
    ) -> AuditEntry:
        """Append one row inside the caller's transaction, so the write and its audit row commit together.

        Holds the chain lock until that transaction ends: append late in the transaction.
        """
        for name, value in (("actor", actor), ("server", server), ("tool", tool), ("decision", decision)):
            if not isinstance(value, str) or not value:
                raise ValidationError(name, "is empty", f"pass a non-empty audit {name}")
        last_seq, last_hash, legacy_until = self._lock_head(session)
        entry = AuditEntry(
            seq=last_seq + 1, tenant_id=tenant_id, at=self._clock(), actor=actor, server=server, tool=tool,
            fingerprint=fingerprint, decision=decision, rule_ids=canonicalize(list(rule_ids), "rule_ids"),
            approval_id=approval_id, detail=canonicalize({} if detail is None else detail, "detail"),
            prev_hash=last_hash, key_id=self.key_id,
        )  # fmt: skip
        entry.hash = entry_hash(entry, key=self._key)
        # Core statements, not session.add: the ORM unit of work costs ~3x more and this runs on every call.
        session.execute(
            _INSERT_ENTRY,
            [{**_hashed_fields(entry, entry.seq), "prev_hash": entry.prev_hash, "hash": entry.hash,
              "key_id": entry.key_id}],
        )  # fmt: skip
        mac = head_mac(self._key, entry.seq, entry.hash, legacy_until) if self._key is not None else None
        session.execute(_SET_HEAD, {"seq": entry.seq, "hash": entry.hash, "at": entry.at, "mac": mac})
        return entry

    def seal(self) -> bool:
        """Write the head's HMAC when it has none (right after migration 0003); True when it wrote one.

        Seal before anyone could have rewritten the legacy rows: sealing vouches for the chain as it is."""
        if self._key is None:
            raise ValidationError("audit_key", "no audit key is configured", "set MCC_AUDIT_KEY")
        with self._engine.begin() as conn:
            last_seq, last_hash, legacy_until = self._lock_head(conn)
            if conn.execute(select(_HEAD.c.mac).where(_HEAD.c.id == HEAD_ID)).scalar() is not None:
                return False
            mac = head_mac(self._key, last_seq, last_hash, legacy_until)
            conn.execute(update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(mac=mac))
            return True

    def head(self) -> tuple[int, str]:
        """The chain head (last seq, last hash): publish it elsewhere to anchor the log externally."""
        with self._sf() as s:
            row = s.execute(
                select(AuditChainHead.last_seq, AuditChainHead.last_hash).where(AuditChainHead.id == HEAD_ID)
            ).first()
            return (row[0], row[1]) if row else (0, GENESIS_HASH)

    def tail(self, tenant_id: str | None = None, limit: int = 20) -> Sequence[AuditEntry]:
        """The newest ``limit`` rows (of one tenant, or all), oldest first."""
        with self._sf() as s:
            q = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(max(0, limit))
            if tenant_id is not None:
                q = q.where(AuditEntry.tenant_id == tenant_id)
            return list(reversed(s.scalars(q).all()))

    def verify(self) -> VerifyReport:
        """Walk the whole chain; report each edited, deleted, reordered, unlinked or unkeyed row by seq, and a
        head that does not match the chain or its HMAC."""
        problems: list[Problem] = []
        checked = 0
        expected_seq = 1
        prev_hash = GENESIS_HASH
        prev_flagged = False
        with self._sf() as s:
            head = s.execute(_READ_HEAD).first()
            legacy_until = int(head[2]) if head is not None else 0
            rows = s.scalars(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000))
            for e in rows:
                checked += 1
                flagged = False
                gap = e.seq > expected_seq
                if gap:
                    missing = f"{expected_seq}" if e.seq - 1 == expected_seq else f"{expected_seq}..{e.seq - 1}"
                    problems.append(Problem(expected_seq, "deleted", f"row(s) {missing} missing: deleted"))
                key_problem = self._key_problem(e, legacy_until)
                if key_problem is not None:
                    flagged = True
                    problems.append(key_problem)
                elif entry_hash(e, key=self._key) != e.hash:
                    flagged = True
                    origin = self._original_seq(e)
                    if origin is not None:
                        problems.append(
                            Problem(e.seq, "reordered", f"seq {e.seq} holds the row written as seq {origin}")
                        )
                    else:
                        problems.append(
                            Problem(e.seq, "edited", f"seq {e.seq}: contents no longer match its hash: edited")
                        )
                elif e.prev_hash != prev_hash and not gap and not prev_flagged:
                    flagged = True
                    before = f"seq {e.seq - 1}" if e.seq > 1 else "the chain start"
                    problems.append(
                        Problem(
                            e.seq,
                            "broken_link",
                            f"seq {e.seq}: prev_hash does not match {before}: that row was rewritten "
                            "(and rehashed) or rows were removed",
                        )
                    )
                prev_hash, prev_flagged, expected_seq = e.hash, flagged, e.seq + 1
        last_seq = expected_seq - 1
        problems.extend(self._check_head(head, last_seq, prev_hash, checked))
        if head is not None and checked:
            problems.extend(self._check_head_mac(head))
        return VerifyReport(ok=not problems, checked=checked, problems=problems, last_seq=last_seq)

    def row_hash(self, seq: int) -> str | None:
        """The stored hash of row ``seq``, or None when there is no such row (checkpoints)."""
        with self._sf() as s:
            return s.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))

    # -- internals -----------------------------------------------------------------------------------------

    def _key_problem(self, e: AuditEntry, legacy_until: int) -> Problem | None:
        if e.key_id is None:
            if self._key is not None and e.seq > legacy_until:
                return Problem(e.seq, "unkeyed", f"seq {e.seq} carries no keyed hash but was written after the "
                               "chain was keyed: written or recomputed without the audit key")  # fmt: skip
            return None
        if e.key_id != self.key_id:
            return Problem(e.seq, "unknown_key", f"seq {e.seq} was hashed with audit key {e.key_id}, not the "
                           f"configured {self.key_id or 'none'}: configure that key to verify it")  # fmt: skip
        return None

    def _check_head_mac(self, head: Any) -> list[Problem]:
        if self._key is None:
            return []
        seq, hash_, legacy_until, mac = int(head[0]), str(head[1]), int(head[2]), head[3]
        if mac is None:
            return [Problem(seq, "unsealed", "the chain head carries no HMAC, so a recomputed chain cannot be told "
                            "from this one: run `mcc audit checkpoint` right after migrating to seal it")]  # fmt: skip
        if not hmac.compare_digest(str(mac), head_mac(self._key, seq, hash_, legacy_until)):
            return [Problem(seq, "head_forged", "the chain head was rewritten without the audit key (its HMAC does "
                            "not match): rows at the end were removed or the legacy boundary moved")]  # fmt: skip
        return []

    def _lock_head(self, session: Session | Connection) -> tuple[int, str, int]:
        """Take the chain lock (write the head row) and return the last seq, hash and legacy boundary."""
        head = session.execute(_TOUCH_HEAD).first()
        if head is None:
            # First append ever: create the head from whatever the log holds; a racing creator makes this fail.
            last = session.execute(
                select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
            ).first()
            try:
                with session.begin_nested():
                    session.execute(
                        insert(_HEAD).values(
                            id=HEAD_ID,
                            last_seq=last[0] if last else 0,
                            last_hash=last[1] if last else GENESIS_HASH,
                            updated_at=self._clock(),
                        )
                    )
            except IntegrityError:
                pass
            head = session.execute(_TOUCH_HEAD).one()
        return int(head[0]), str(head[1]), int(head[2])

    def _original_seq(self, e: AuditEntry) -> int | None:
        for k in range(max(1, e.seq - REORDER_WINDOW), e.seq + REORDER_WINDOW + 1):
            if k != e.seq and entry_hash(e, k, self._key) == e.hash:
                return k
        return None

    @staticmethod
    def _check_head(head: Any, last_seq: int, last_hash: str, checked: int) -> list[Problem]:
        if head is None:
            if checked:
                return [Problem(last_seq, "broken_link", "the chain head row is missing: it was deleted")]
            return []
        head_seq, head_hash = int(head[0]), str(head[1])
        if head_seq > last_seq:
            missing = f"{last_seq + 1}" if head_seq == last_seq + 1 else f"{last_seq + 1}..{head_seq}"
            return [Problem(last_seq + 1, "deleted", f"row(s) {missing} missing at the end: deleted")]
        if head_seq < last_seq:
            return [Problem(head_seq + 1, "broken_link", f"rows after seq {head_seq} were added outside the audit log")]
        if head_hash != last_hash:
            return [Problem(last_seq, "edited", f"seq {last_seq} does not match the chain head: rewritten")]
        return []
