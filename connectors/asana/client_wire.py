"""Asana wire-format helpers for the REST client: error bodies to typed errors, Retry-After, and the
signed opaque offsets the client mints for task search (which Asana pages by created_at, not offset)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Mapping

import httpx

from connectors.asana.errors import (
    AsanaError,
    Forbidden,
    InvalidArgument,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
)

_FIELD_PREFIX = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*): ")
_BAD_OFFSET = "offset is not a token this search returned (tampered or from another query); start over"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def retry_after_seconds(resp: httpx.Response) -> float | None:
    raw = resp.headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


def error_from_response(resp: httpx.Response, fields: Mapping[str, str], default_field: str | None) -> AsanaError:
    """Map an Asana `{"errors": [{"message", "help", "phrase"}]}` response to our typed error."""
    try:
        errors = resp.json().get("errors") or []
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
    except (ValueError, AttributeError):
        first = {}
    message = str(first.get("message") or f"HTTP {resp.status_code}")
    m = _FIELD_PREFIX.match(message)
    field = fields.get(m.group(1), m.group(1)) if m else default_field
    status = resp.status_code
    if status == 400:
        return InvalidArgument(field or "request", message)
    if status == 401:
        return Unauthorized(message)
    if status == 402:  # Payment Required: a premium feature (custom fields, ...) on a free workspace
        return Forbidden(f"{message} (this Asana feature needs a paid plan for the workspace)", field=field)
    if status == 403:
        return Forbidden(message, field=field)
    if status == 404:
        return NotFound(field or default_field or "gid", message)
    if status == 429:
        return RateLimited(message, retry_after=retry_after_seconds(resp))
    if status >= 500:
        phrase = first.get("phrase")
        return ServerError(f"{message} (phrase: {phrase})" if phrase else message)
    return AsanaError(message)


def encode_search_offset(key: bytes, scope: str, after: dt.datetime | None, skip: list[str]) -> str:
    """Signed opaque search offset: the last created_at seen and the gids already returned at that instant."""
    raw = json.dumps({"q": scope, "t": after.isoformat() if after else None, "s": skip}).encode()
    return f"{b64(raw)}.{b64(hmac.new(key, raw, hashlib.sha256).digest()[:12])}"


def decode_search_offset(key: bytes, token: object, scope: str) -> tuple[dt.datetime | None, list[str]]:
    """Inverse of encode_search_offset; InvalidArgument naming `offset` when altered or from another query."""
    bad = InvalidArgument("offset", _BAD_OFFSET)
    if not isinstance(token, str) or token.count(".") != 1 or len(token) > 8192:
        raise bad
    body, sig = token.split(".")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError:
        raise bad from None
    if not hmac.compare_digest(b64(hmac.new(key, raw, hashlib.sha256).digest()[:12]), sig):
        raise bad
    try:
        data = json.loads(raw)
        if data["q"] != scope:
            raise bad
        return (dt.datetime.fromisoformat(data["t"]) if data["t"] else None), [str(g) for g in data["s"]]
    except (ValueError, KeyError, TypeError):
        raise bad from None
