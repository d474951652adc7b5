"""Parsing of Workfront event-subscription messages into typed events.

Workfront (2017.3+ format) POSTs ``{"eventType", "subscriptionId", "eventTime": {"epochSecond", "nano"},
"newState": {...}, "oldState": {...}}``; CREATE carries a newState, DELETE an oldState, UPDATE both.
Everything in a payload is data: strings are never interpreted, evaluated or used as instructions.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.workfront.models import GUID_RE

MAX_PAYLOAD_BYTES = 1_000_000
EventType = Literal["CREATE", "UPDATE", "DELETE"]
_OBJ_CODE_MAX = 16


class WebhookPayloadError(ValueError):
    """The message is not a well-formed Workfront event; ``field`` names the offending part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class WorkfrontEvent(BaseModel):
    """One Workfront change event."""

    model_config = ConfigDict(frozen=True)

    event_type: EventType
    subscription_id: str | None
    obj_code: str
    obj_id: str
    event_time: datetime | None
    new_state: dict[str, Any] = Field(default_factory=dict)
    old_state: dict[str, Any] = Field(default_factory=dict)

    @property
    def changed_fields(self) -> list[str]:
        """Fields whose value differs between oldState and newState (all fields of a CREATE/DELETE)."""
        keys = set(self.new_state) | set(self.old_state)
        return sorted(k for k in keys if self.new_state.get(k) != self.old_state.get(k))

    @property
    def status_change(self) -> tuple[str | None, str | None] | None:
        """(old status, new status) when the status changed, else None."""
        old, new = self.old_state.get("status"), self.new_state.get("status")
        return (old, new) if old != new and (old is not None or new is not None) else None


def _state(payload: dict[str, Any], name: str, required: bool) -> dict[str, Any]:
    value = payload.get(name)
    if value is None:
        if required:
            raise WebhookPayloadError(name, f"missing; a {payload['eventType']} event carries {name}")
        return {}
    if not isinstance(value, dict):
        raise WebhookPayloadError(name, "must be a JSON object")
    obj_id = value.get("ID")
    if not isinstance(obj_id, str) or not GUID_RE.fullmatch(obj_id):
        raise WebhookPayloadError(f"{name}.ID", "missing or not a Workfront ID (32 lowercase hex characters)")
    code = value.get("objCode")
    if not isinstance(code, str) or not code.isalnum() or not code.isupper() or len(code) > _OBJ_CODE_MAX:
        raise WebhookPayloadError(f"{name}.objCode", "missing or not an object code such as PROJ or TASK")
    return value


def _event_time(raw: Any) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise WebhookPayloadError("eventTime", "must be an object with epochSecond and nano")
    seconds, nano = raw.get("epochSecond"), raw.get("nano", 0)
    if not isinstance(seconds, int) or isinstance(seconds, bool) or not isinstance(nano, int):
        raise WebhookPayloadError("eventTime", "epochSecond and nano must be whole numbers")
    try:
        return datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=nano // 1000)
    except (OverflowError, OSError, ValueError):
        raise WebhookPayloadError("eventTime.epochSecond", "out of range") from None


def parse_event(payload: str | bytes | dict[str, Any]) -> WorkfrontEvent:
    """Parse one event-subscription message (raw body or decoded JSON); raises WebhookPayloadError."""
    if isinstance(payload, str | bytes):
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise WebhookPayloadError("body", f"larger than {MAX_PAYLOAD_BYTES} bytes")
        try:
            payload = json.loads(payload)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise WebhookPayloadError("body", f"not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(payload, dict):
        raise WebhookPayloadError("body", "must be a JSON object")
    event_type = payload.get("eventType")
    if event_type not in ("CREATE", "UPDATE", "DELETE"):
        raise WebhookPayloadError("eventType", f"{event_type!r} is not CREATE, UPDATE or DELETE")
    sub = payload.get("subscriptionId")
    if sub is not None and (not isinstance(sub, str) or not sub.isalnum() or len(sub) > 64):
        raise WebhookPayloadError("subscriptionId", "must be an alphanumeric ID")
    new = _state(payload, "newState", required=event_type in ("CREATE", "UPDATE"))
    old = _state(payload, "oldState", required=event_type in ("UPDATE", "DELETE"))
    ref = new or old
    if new and old and (new["ID"], new["objCode"]) != (old["ID"], old["objCode"]):
        raise WebhookPayloadError("oldState", "ID/objCode differ from newState")
    return WorkfrontEvent(
        event_type=event_type,
        subscription_id=sub,
        obj_code=ref["objCode"],
        obj_id=ref["ID"],
        event_time=_event_time(payload.get("eventTime")),
        new_state=new,
        old_state=old,
    )
