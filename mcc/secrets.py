"""Secrets of per-tenant connections: resolved only here, at the composition root, and never printed or logged.

A connection names its secret by reference (``env:VAR``, ``file:/path``) or holds it encrypted with Fernet under a
key kept outside the database: ``MCC_SECRET_KEY`` (a Fernet key), else ``$MCC_HOME/secret.key`` (created on first
use, mode 0600). Losing that key makes the stored secrets unreadable; store them again with ``mcc connect``.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from connectors.errors import ConnectorError
from mcc.settings import Settings
from spine.repositories.connections import ConnectionOut

KEY_FILE = "secret.key"


class SecretError(ConnectorError):
    """A connection's secret cannot be had; the message names where it was looked for and the fix. A connector
    error, so a tool call that needs the connection answers ``[not_connected] ...`` instead of an internal error."""

    code = "not_connected"


def _key(settings: Settings, *, create: bool) -> bytes:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = settings.home / KEY_FILE
    if not path.exists():
        if not create:
            raise SecretError(f"no key to decrypt stored secrets ({path} is missing). Fix: set MCC_SECRET_KEY or "
                              "store the secret again with mcc connect")  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others, not even briefly
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key())
    return path.read_bytes().strip()


def encrypt(settings: Settings, secret: str) -> str:
    """The secret encrypted under the key outside the database (created on first use)."""
    if not secret.strip():
        raise SecretError("the secret is empty. Fix: pass the API key or token itself")
    return Fernet(_key(settings, create=True)).encrypt(secret.strip().encode()).decode()


def resolve(settings: Settings, conn: ConnectionOut) -> str:
    """The connection's secret in clear, for the REST client only."""
    ref = conn.secret_ref
    if ref is not None and ref.startswith("env:"):
        value = os.environ.get(ref[4:], "").strip()
        if not value:
            raise SecretError(f"{conn.system} secret: environment variable {ref[4:]} is not set. Fix: export it")
        return value
    if ref is not None and ref.startswith("file:"):
        try:
            value = Path(ref[5:]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            why = f"{conn.system} secret: cannot read {ref[5:]} ({exc.strerror}). Fix: check the path"
            raise SecretError(why) from None
        if not value:
            raise SecretError(f"{conn.system} secret: {ref[5:]} is empty")
        return value
    if conn.secret_ciphertext is None:
        raise SecretError(f"{conn.system} connection has no secret. Fix: mcc connect {conn.system} again")
    try:
        return Fernet(_key(settings, create=False)).decrypt(conn.secret_ciphertext.encode()).decode()
    except (InvalidToken, ValueError):
        why = (f"{conn.system} secret cannot be decrypted with the current key. Fix: set the key it was stored "
               f"with, or store the secret again with mcc connect {conn.system}")  # fmt: skip
        raise SecretError(why) from None
