"""Canonical JSON and the SHA-256 fingerprint that binds an approval to exactly one tool call.

Canonical form: object keys sorted, no whitespace, UTF-8, strings (and keys) in Unicode NFC; integral
floats become integers (JSON does not distinguish 1 from 1.0); ``Decimal`` becomes its normalised decimal
string (``Decimal("10000.00")`` -> ``"10000"``) so money never passes through float; dates and aware
datetimes become ISO 8601 (datetimes in UTC); tuples become lists and sets sorted lists; UUIDs and enums
their string/value; Pydantic models and dataclasses their fields. Anything else is refused, so two calls
that differ can never canonicalise to the same text by accident.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import math
import unicodedata
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from spine.errors import ValidationError


class NotCanonicalError(ValidationError, ValueError):
    """A value has no canonical JSON form (naive datetime, NaN, bytes, non-string key, ...)."""

    code = "not_canonical"


def _decimal_text(value: Decimal, path: str) -> str:
    if not value.is_finite():
        raise NotCanonicalError(path, f"non-finite amount {value!r}", "send a finite number")
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def canonicalize(obj: Any, path: str = "value") -> Any:
    """Return the canonical JSON-ready form of ``obj`` (dicts, lists, str, int, float, bool, None).

    Raises ``NotCanonicalError`` naming the offending ``path`` (e.g. ``call.arguments.budget.amount``).
    """
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, enum.Enum):
        return canonicalize(obj.value, path)
    if isinstance(obj, str):
        return unicodedata.normalize("NFC", obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise NotCanonicalError(path, f"non-finite number {obj!r}", "send a finite number")
        return int(obj) if obj.is_integer() else obj
    if isinstance(obj, Decimal):
        return _decimal_text(obj, path)
    if isinstance(obj, dt.datetime):
        if obj.tzinfo is None:
            raise NotCanonicalError(path, f"naive datetime {obj!r}", "use a timezone-aware UTC datetime")
        return obj.astimezone(dt.UTC).isoformat()
    if isinstance(obj, (dt.date, dt.time)):
        return obj.isoformat()
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            if isinstance(key, enum.Enum):
                key = key.value
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise NotCanonicalError(path, f"key {key!r} is not a string", "use string keys")
            text = unicodedata.normalize("NFC", str(key))
            if text in out:
                raise NotCanonicalError(path, f"key {key!r} collides with another key", "use distinct string keys")
            out[text] = canonicalize(value, f"{path}.{text}")
        return out
    if isinstance(obj, (list, tuple)):
        return [canonicalize(item, f"{path}[{i}]") for i, item in enumerate(obj)]
    if isinstance(obj, (set, frozenset)):
        items = [canonicalize(item, f"{path}[]") for item in obj]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump):
        return canonicalize(model_dump(mode="python"), path)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return canonicalize({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, path)
    raise NotCanonicalError(path, f"{type(obj).__name__} has no JSON form", "pass JSON-compatible values")


def canonical_json(obj: Any, path: str = "value") -> str:
    """The canonical JSON text of ``obj``: sorted keys, no whitespace, NFC strings, normalised numbers."""
    value = canonicalize(obj, path)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_hex(text: str) -> str:
    """SHA-256 of the UTF-8 bytes of ``text``, as 64 lowercase hex digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint(server: str, tool: str, arguments: Any, requester: str) -> str:
    """SHA-256 hex fingerprint of one call: server + tool + canonical arguments + requester."""
    call = {"server": server, "tool": tool, "arguments": arguments, "requester": requester}
    return sha256_hex(canonical_json(call, "call"))
