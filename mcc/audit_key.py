"""The audit chain's HMAC key: from ``MCC_AUDIT_KEY`` (settings), else a file generated once outside the database.

The key is the audit log's trust root (see ``spine.audit``): it must not live in the database it protects, and it
is never printed or logged. The file is created atomically with mode 0600; one readable by group or others is
refused.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path


class AuditKeyError(Exception):
    """The audit key file is unusable; the message says how to fix it."""


def load_or_create_key(path: Path) -> bytes:
    """The key stored in ``path``, generating 32 random bytes (hex) into it when it does not exist yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".audit.key.")  # mkstemp creates it 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_hex(32) + "\n")
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)  # atomic and never overwrites: of two racing processes one key wins
        finally:
            os.unlink(tmp)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AuditKeyError(f"{path} is accessible by group or others; run: chmod 600 {path}")
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise AuditKeyError(f"{path} holds a key shorter than 32 characters; remove it to generate a new one")
    return key.encode("ascii")
