"""Typed Asana errors, raised identically by the REST client and the embedded sandbox."""

from __future__ import annotations

from connectors.errors import (
    ConnectorError,
    ForbiddenError,
    InvalidArgumentError,
    NotFoundError,
    RateLimitedError,
    UpstreamError,
)


class AsanaError(ConnectorError):
    """Base of every Asana backend error; `field` names the offending argument when there is one."""

    status: int = 500

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.args = (f"{field}: {message}" if field else message,)  # str(exc) names the argument


class InvalidArgument(AsanaError, InvalidArgumentError):
    """400: an argument is malformed, oversize, unknown or inconsistent; nothing was written."""

    status = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


class Unauthorized(AsanaError, ForbiddenError):
    """401: the token is missing, invalid or expired."""

    status = 401


class Forbidden(AsanaError, ForbiddenError):
    """403: the token may not see or change this object."""

    status = 403


class NotFound(AsanaError, NotFoundError):
    """404: an id names no object (the field says which argument held it)."""

    status = 404

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


class RateLimited(AsanaError, RateLimitedError):
    """429 after the retry budget is spent; `retry_after` is the server's last hint in seconds."""

    status = 429

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServerError(AsanaError, UpstreamError):
    """5xx or transport failure (timeout, connection) after the retry budget is spent."""

    status = 500
