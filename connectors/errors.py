"""The one neutral error base every connector raises: what kind of failure (``code``), which argument is at fault
(``field``) and how to fix it (``fix``).

Each system's errors subclass one kind below, so callers (the MCP guard, the sync engine) map failures by kind and
never need to know which system raised them.
"""

from __future__ import annotations

from typing import ClassVar


class ConnectorError(Exception):
    """Base of every connector error; ``message`` is the text a caller may show, ``code`` the kind of failure."""

    code: ClassVar[str] = "invalid"

    def __init__(self, message: str, *, field: str | None = None, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.fix = fix


class InvalidArgumentError(ConnectorError):
    """An argument is malformed, oversize or not allowed; nothing was written."""

    code = "invalid"


class NotFoundError(ConnectorError):
    """An id names no object of the expected type; nothing was written."""

    code = "not_found"


class ForbiddenError(ConnectorError):
    """The system refused the credentials, or the caller may not see or change the object."""

    code = "forbidden"


class RateLimitedError(ConnectorError):
    """The system kept answering 429; ``retry_after`` is its last hint in seconds (None when it gave none)."""

    code = "rate_limited"
    retry_after: float | None = None


class UpstreamError(ConnectorError):
    """The system failed (5xx, timeout, unreadable answer) after the allowed retries."""

    code = "upstream_error"
