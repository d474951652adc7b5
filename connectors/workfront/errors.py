"""Typed errors raised identically by every Workfront backend (sandbox and REST client).

Each error names the argument at fault (``field``) and says how to fix it, so an MCP tool can hand the
message straight back to the model or the user.
"""

from __future__ import annotations

from connectors.errors import (
    ConnectorError,
    ForbiddenError,
    InvalidArgumentError,
    NotFoundError,
    RateLimitedError,
    UpstreamError,
)


class WorkfrontError(ConnectorError):
    """Base class of every Workfront backend error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)

    def to_dict(self) -> dict[str, object]:
        """A JSON-safe description (for tool results and audit rows)."""
        return {"error": type(self).__name__, "message": self.message}


class InvalidArgument(WorkfrontError, InvalidArgumentError):
    """An argument is malformed or not allowed; nothing was written."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "field": self.field}


class NotFound(WorkfrontError, NotFoundError):
    """An id names no object of the expected type; nothing was written."""

    def __init__(self, field: str, obj_code: str, obj_id: str) -> None:
        super().__init__(f"{field}: no {obj_code} with ID {obj_id!r} exists; search for the object first to get its ID")
        self.field = field
        self.obj_code = obj_code
        self.obj_id = obj_id

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "field": self.field, "objCode": self.obj_code, "ID": self.obj_id}


class PermissionDenied(WorkfrontError, ForbiddenError):
    """Workfront refused the credentials or the caller may not touch the object (HTTP 401/403)."""


class RateLimited(WorkfrontError, RateLimitedError):
    """Workfront kept answering 429 (or asked to wait longer than the client allows)."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "retry_after": self.retry_after}


class ServerError(WorkfrontError, UpstreamError):
    """Workfront failed (5xx, timeout, unreadable answer) after the allowed retries.

    ``outcome_unknown`` is True when a non-idempotent write may or may not have been applied (for
    instance a POST that timed out): the caller must reconcile before trying again.
    """

    def __init__(self, message: str, status: int | None = None, outcome_unknown: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.outcome_unknown = outcome_unknown

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "status": self.status, "outcome_unknown": self.outcome_unknown}
