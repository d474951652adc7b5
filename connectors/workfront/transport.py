"""HTTP layer of the Workfront REST client: auth, rate limit, retries and the response envelope.

Retry policy (and why):

* GET and PUT are idempotent in Workfront (a PUT sets fields to given values), so they are retried on
  5xx, timeouts and dropped connections, with exponential backoff and full jitter.
* POST creates an object and Workfront offers no idempotency key, so a POST is retried only when it
  provably never reached Workfront: a connection that could not be opened, or a 429 (the request was
  refused before processing). A POST that timed out or got a 5xx raises ``ServerError`` with
  ``outcome_unknown=True``; the caller (the spine records idempotency keys) must reconcile by searching
  before creating again.
* 429 waits for ``Retry-After`` (seconds or an HTTP date); a wait longer than ``max_retry_after`` is not
  slept through but raised as ``RateLimited`` so a tool call never hangs.
* Every attempt first takes a token from an ``aiolimiter.AsyncLimiter`` (Workfront: 100 per minute).

The secret is sent in a header only (``sessionID`` for session/API-key tokens, ``Authorization: Bearer``
for OAuth2 access tokens): never in the URL, never logged, never in ``repr``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from aiolimiter import AsyncLimiter

from connectors.workfront.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    WorkfrontError,
)

logger = logging.getLogger(__name__)

AuthScheme = Literal["session", "bearer"]
_MESSAGE_MAX = 500


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent/bad."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Target:
    """What a request is about, so a Workfront error can name the caller's argument."""

    def __init__(self, field: str, obj_code: str, obj_id: str = "") -> None:
        self.field, self.obj_code, self.obj_id = field, obj_code, obj_id


class WorkfrontHttp:
    """Sends one Workfront API call with auth, rate limiting, retries and envelope parsing."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        api_version: str = "20.0",
        auth: AuthScheme = "session",
        rate_per_minute: float = 100,
        rate_period_seconds: float = 60.0,
        max_retries: int = 3,
        timeout: float = 10.0,
        backoff_base: float = 0.25,
        backoff_cap: float = 8.0,
        max_retry_after: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if auth not in ("session", "bearer"):
            raise ValueError("auth must be 'session' or 'bearer'")
        if not api_key:
            raise ValueError("api_key is empty")
        headers = {"sessionID": api_key} if auth == "session" else {"Authorization": f"Bearer {api_key}"}
        headers["Accept"] = "application/json"
        self.api_root = f"{base_url.rstrip('/')}/attask/api/v{api_version}/"
        self.auth = auth
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_retry_after = max_retry_after
        self.limiter = AsyncLimiter(rate_per_minute, rate_period_seconds)
        self._http = httpx.AsyncClient(base_url=self.api_root, headers=headers, timeout=timeout, transport=transport)
        self._random = random.Random()

    def __repr__(self) -> str:
        return f"WorkfrontHttp({self.api_root!r}, auth={self.auth!r}, key=***)"

    async def aclose(self) -> None:
        await self._http.aclose()

    def _backoff(self, attempt: int) -> float:
        # Full jitter: uniform in [0, min(cap, base * 2^attempt)].
        return self._random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))

    async def call(
        self,
        method: Literal["GET", "POST", "PUT"],
        path: str,
        target: Target,
        *,
        params: list[tuple[str, str]] | None = None,
        form: dict[str, str] | None = None,
    ) -> Any:
        """Send a request and return the ``data`` of the answer, or raise the matching WorkfrontError."""
        idempotent = method != "POST"
        attempt = 0
        while True:
            async with self.limiter:
                try:
                    resp = await self._http.request(method, path, params=params, data=form)
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                    # The request never left: safe to retry whatever the method.
                    failure: tuple[str, bool] | None = (f"could not connect ({type(exc).__name__})", False)
                    resp = None
                except (httpx.TimeoutException, httpx.TransportError) as exc:
                    failure = (f"no complete answer ({type(exc).__name__})", True)
                    resp = None
                else:
                    failure = None
            if resp is None and failure is not None:
                message, maybe_sent = failure
                logger.warning("workfront %s %s: %s (attempt %d)", method, path, message, attempt + 1)
                if (idempotent or not maybe_sent) and attempt < self.max_retries:
                    await asyncio.sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                raise ServerError(
                    f"Workfront {method} {path}: {message}", outcome_unknown=maybe_sent and not idempotent
                )
            assert resp is not None
            logger.debug("workfront %s %s -> %d (attempt %d)", method, path, resp.status_code, attempt + 1)
            if resp.status_code == 429:
                wait = parse_retry_after(resp.headers.get("Retry-After"))
                if attempt >= self.max_retries or (wait is not None and wait > self.max_retry_after):
                    raise RateLimited(
                        f"Workfront rate limit hit on {method} {path}; retry after {wait} s", retry_after=wait
                    )
                await asyncio.sleep(wait if wait is not None else self._backoff(attempt))
                attempt += 1
                continue
            if resp.status_code >= 500:
                if idempotent and attempt < self.max_retries:
                    await asyncio.sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                raise ServerError(
                    f"Workfront {method} {path} failed with HTTP {resp.status_code}: {_error_text(resp)}",
                    status=resp.status_code,
                    outcome_unknown=not idempotent,
                )
            return self._unwrap(resp, method, path, target)

    @staticmethod
    def _unwrap(resp: httpx.Response, method: str, path: str, target: Target) -> Any:
        try:
            body = resp.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if resp.status_code < 400 and isinstance(body, dict) and "data" in body and "error" not in body:
            return body["data"]
        raise _map_error(resp.status_code, body, target, f"{method} {path}")


def _error_text(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return resp.reason_phrase
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return str(err.get("message") or err.get("title") or resp.reason_phrase)[:_MESSAGE_MAX]
    return resp.reason_phrase


def _map_error(status: int, body: Any, target: Target, what: str) -> WorkfrontError:
    """Turn a Workfront ``{"error": {"class", "message", "title"}}`` answer into our typed error."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        if status < 400:
            return ServerError(f"Workfront {what}: answer has neither data nor error", status=status)
        err = {}
    cls = str(err.get("class") or "")
    message = str(err.get("message") or err.get("title") or f"HTTP {status}")[:_MESSAGE_MAX]
    if status == 404 or "NotFound" in cls:
        return NotFound(target.field, target.obj_code, target.obj_id or "?")
    if status in (401, 403) or any(k in cls for k in ("Authentication", "Security", "Permission", "Access")):
        return PermissionDenied(f"Workfront refused {what}: {message}")
    if status in (400, 409, 422) or any(k in cls for k in ("IllegalArgument", "InvalidParameter", "Validation")):
        return InvalidArgument(target.field, f"Workfront rejected the request: {message}")
    return ServerError(f"Workfront {what} failed with HTTP {status}: {message}", status=status)
