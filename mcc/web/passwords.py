"""Argon2id password hashing for local sign-in (argon2-cffi defaults: RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # hashing a megabyte "password" is a denial of service, not a password


class PasswordError(ValueError):
    """A password that may not be set; names the field and the fix."""

    def __init__(self, message: str) -> None:
        super().__init__(f"password: {message}")


def check_new_password(password: str) -> str:
    """The password when it is acceptable to set, else PasswordError saying what to change."""
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"use at most {MAX_LENGTH} characters")
    if password.strip() != password:
        raise PasswordError("remove leading or trailing spaces")
    return password


class Passwords:
    """Hash and verify; ``verify`` spends the same work on unknown users so timing does not reveal them."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._dummy = self._hasher.hash("not a real password: equalises unknown-user timing")

    def hash(self, password: str) -> str:
        return self._hasher.hash(check_new_password(password))

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored_hash``; None (no such user or no password) is always False."""
        if len(password) > MAX_LENGTH:
            return False
        try:
            ok = self._hasher.verify(stored_hash or self._dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and stored_hash is not None
