"""Asana webhook deliveries: the X-Hook-Secret handshake, X-Hook-Signature verification and event parsing.

Asana first POSTs a handshake carrying `X-Hook-Secret`; the receiver echoes it and keeps it. Every later
delivery carries `X-Hook-Signature`, the hex HMAC-SHA256 of the raw body keyed with that secret. Event text
(names, new values) is data only: it is parsed into models and never interpreted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.asana.errors import AsanaError

MAX_BODY_BYTES = 1_000_000
_SECRET_RE = re.compile(r"^[A-Za-z0-9_\-]{16,256}$")
_SIG_RE = re.compile(r"^[0-9a-fA-F]{64}$")


class WebhookError(AsanaError):
    """A delivery we refuse: malformed body or handshake (answer 400)."""

    status = 400


class InvalidSignature(WebhookError):
    """Missing or wrong X-Hook-Signature (answer 401 and drop the delivery)."""

    status = 401


class _Ev(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ResourceRef(_Ev):
    gid: str = Field(pattern=r"^[0-9]{1,20}$")
    resource_type: str = Field(max_length=64)
    resource_subtype: str | None = Field(default=None, max_length=64)
    name: str | None = None


class Change(_Ev):
    field: str = Field(max_length=128)
    action: Literal["changed", "added", "removed"]
    new_value: Any = None
    added_value: Any = None
    removed_value: Any = None


class WebhookEvent(_Ev):
    action: Literal["changed", "added", "removed", "deleted", "undeleted"]
    resource: ResourceRef
    parent: ResourceRef | None = None
    change: Change | None = None
    created_at: dt.datetime
    user: ResourceRef | None = None


class WebhookDelivery(_Ev):
    """One POST of events; an empty list is Asana's heartbeat."""

    events: list[WebhookEvent]


@dataclasses.dataclass(frozen=True)
class Handshake:
    """The first request of a new webhook: store `secret`, answer 200 with `response_headers`."""

    secret: str

    @property
    def response_headers(self) -> dict[str, str]:
        return {"X-Hook-Secret": self.secret}


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def sign(raw_body: bytes, secret: str) -> str:
    """The X-Hook-Signature Asana sends for `raw_body` (hex HMAC-SHA256 keyed with the webhook secret)."""
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


def verify_signature(raw_body: bytes, signature: str | None, secret: str) -> bool:
    """Constant-time check of X-Hook-Signature against the raw body."""
    if not signature or not secret or not _SIG_RE.match(signature.strip()):
        return False
    return hmac.compare_digest(sign(raw_body, secret), signature.strip().lower())


def parse_events(raw_body: bytes) -> WebhookDelivery:
    """Parse a delivery body (already verified); WebhookError says what is malformed."""
    if len(raw_body) > MAX_BODY_BYTES:
        raise WebhookError(f"body is {len(raw_body)} bytes; the limit is {MAX_BODY_BYTES}", field="body")
    try:
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookError("body is not JSON", field="body") from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise WebhookError('body must be an object {"events": [...]}', field="events")
    try:
        return WebhookDelivery.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise WebhookError(f"{where}: {err['msg']}", field="events") from None


def receive(headers: Mapping[str, str], raw_body: bytes, secret: str | None) -> Handshake | WebhookDelivery:
    """Handle one request to the webhook target.

    With `X-Hook-Secret` (the handshake) returns a Handshake to store and echo; otherwise verifies
    `X-Hook-Signature` with `secret` and returns the parsed delivery. Raises InvalidSignature / WebhookError.
    """
    h = _lower(headers)
    offered = h.get("x-hook-secret")
    if offered is not None:
        if secret is not None:
            raise WebhookError("handshake received for a webhook that already has a secret", field="X-Hook-Secret")
        if not _SECRET_RE.match(offered):
            raise WebhookError("X-Hook-Secret must be 16-256 letters, digits, '-' or '_'", field="X-Hook-Secret")
        return Handshake(secret=offered)
    if secret is None:
        raise InvalidSignature("no webhook secret stored yet: the handshake has not happened", field="X-Hook-Signature")
    if not verify_signature(raw_body, h.get("x-hook-signature"), secret):
        raise InvalidSignature("X-Hook-Signature does not match the body", field="X-Hook-Signature")
    return parse_events(raw_body)
