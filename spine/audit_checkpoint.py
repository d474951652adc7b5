"""Signed checkpoints of the audit chain: the evidence, kept outside the database, that rows existed.

A checkpoint names the head at one moment (seq = row count, since seq is gapless; the head hash; the time) and is
signed with the audit key. ``verify_against`` fails when the chain no longer holds that row with that hash:
truncation back past it, a wipe, or a rollback to an older copy of the database, none of which the chain itself
can reveal (see ``spine.audit``). The signature stops a forged or edited checkpoint file from vouching for a
rewritten chain.
"""

from __future__ import annotations

import datetime as dt
import hmac

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from spine.audit import AuditLog, Problem
from spine.fingerprint import canonical_json


class Checkpoint(BaseModel):
    """One signed checkpoint, as written to a file or an external sink (JSON)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    seq: int = Field(ge=0, description="Last seq of the chain (= rows written, seq is gapless)")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    count: int = Field(ge=0)
    at: AwareDatetime
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    signature: str = Field(pattern=r"^[0-9a-f]{64}$")

    def signed_bytes(self) -> bytes:
        """What the signature covers: every field but the signature itself."""
        body = self.model_dump(mode="json", exclude={"signature"})
        return b"checkpoint:" + canonical_json(body).encode()


def make_checkpoint(log: AuditLog, now: dt.datetime) -> Checkpoint:
    """Seal the head when needed, then sign the current head (seq, hash, count, time) with the audit key."""
    log.seal()
    seq, head_hash = log.head()
    unsigned = Checkpoint(seq=seq, hash=head_hash, count=seq, at=now, key_id=log.key_id or "0" * 16,
                          signature="0" * 64)  # fmt: skip
    return unsigned.model_copy(update={"signature": log.sign(unsigned.signed_bytes())})


def verify_against(log: AuditLog, cp: Checkpoint) -> list[Problem]:
    """Problems that show the chain lost or changed what ``cp`` saw; [] when it still holds that row."""
    if cp.key_id != log.key_id or not hmac.compare_digest(cp.signature, log.sign(cp.signed_bytes())):
        return [Problem(cp.seq, "bad_checkpoint", "the checkpoint's signature does not match the audit key: it "
                        "was edited or signed with another key, so it proves nothing")]  # fmt: skip
    if cp.seq == 0:
        return []
    found = log.row_hash(cp.seq)
    if found is None:
        kind = "wiped" if log.row_hash(1) is None else "truncated"
        return [Problem(cp.seq, kind, f"the checkpoint of {cp.at.isoformat()} saw {cp.count} rows ending at seq "
                        f"{cp.seq}; that row is gone: the log was {kind}")]  # fmt: skip
    if not hmac.compare_digest(found, cp.hash):
        return [Problem(cp.seq, "truncated", f"seq {cp.seq} differs from the checkpoint of {cp.at.isoformat()}: "
                        "the chain was truncated and rewritten from there, or rolled back")]  # fmt: skip
    return []
