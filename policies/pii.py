"""PII detection for tool arguments and responses: emails, phone numbers, card numbers (Luhn), US SSNs.

Scans nested dicts/lists recursively and reports each hit with its JSON path (``$.changes.notes[0]``), so a
denial can say where the value was. Fields that legitimately carry a user id (Asana gid, Workfront GUID, an
assignee's email) are allow-listed by key and only skipped when the value has the shape of an id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from policies.model import PiiHit, PiiKind

MAX_DEPTH = 32
BLOCKING_KINDS: frozenset[PiiKind] = frozenset({"card", "ssn"})

_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
# E.164 (+ and 8 to 15 digits, optionally grouped by single spaces, dots or dashes).
_E164 = re.compile(r"(?<![\w+])\+[1-9](?:[ .-]?\d){7,14}(?![\w-])")
# NANP with separators: (212) 555-0147, 212-555-0147, 212.555.0147, 1-212-555-0147. Bare 10-digit runs are
# left alone (ids, amounts); area code and exchange must start with 2-9.
_NANP = re.compile(r"(?<![\w+.-])(?:1[ .-]?)?(?:\([2-9]\d{2}\)[ ]?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}(?![\w-]|\.\d)")
# 13-19 digits, optionally grouped by spaces or dashes.
_CARD = re.compile(r"(?<![\w.-])\d(?:[ -]?\d){12,18}(?![\w-]|\.\d)")
_SSN = re.compile(r"(?<![\w.-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-]|\.\d)")

# Keys whose values are identifiers of our own users or objects, not free text.
ID_KEYS: frozenset[str] = frozenset(
    {
        "assignee",
        "assignee_id",
        "assigned_to_id",
        "owner_id",
        "user_id",
        "user_gid",
        "requester_id",
        "followers",
        "follower_ids",
        "stakeholder_ids",
        "gid",
        "id",
        "task_gid",
        "project_gid",
        "parent_gid",
        "section_gid",
        "workspace_gid",
        "project_id",
        "task_id",
        "issue_id",
        "campaign_id",
        "strategy_id",
        "work_item_id",
        "approval_id",
        "document_id",
        "external_id",
        "canonical_id",
        "team_id",
        "tenant_id",
        "idempotency_key",
        "obj_id",
        "resource_id",
    }
)
_ID_VALUE = re.compile(
    r"^(?:\d{1,19}|[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|me|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})$"
)


class PiiScanError(ValueError):
    """The value could not be scanned (too deep, or of a type we cannot see into): fail closed."""


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` (only 0-9) passes the Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _is_card(candidate: str) -> bool:
    digits = candidate.replace(" ", "").replace("-", "")
    if not 13 <= len(digits) <= 19 or digits[0] not in "23456":
        return False
    return luhn_valid(digits)


def _is_ssn(m: re.Match[str]) -> bool:
    area, group, serial = m.group(1), m.group(3), m.group(4)
    return not (area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000")


def scan_text(text: str, path: str = "$", *, in_key: bool = False) -> list[PiiHit]:
    """Every PII hit in one string, in order of position."""
    hits: list[PiiHit] = []
    if len(text) < 6:
        return hits
    for m in _EMAIL.finditer(text):
        hits.append(PiiHit("email", path, m.start(), m.end(), in_key))
    has_digits = any(c.isdigit() for c in text)
    if not has_digits:
        return hits
    taken: list[tuple[int, int]] = [(h.start, h.end) for h in hits]

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    for m in _CARD.finditer(text):
        if _is_card(m.group(0)) and free(m.start(), m.end()):
            hits.append(PiiHit("card", path, m.start(), m.end(), in_key))
            taken.append((m.start(), m.end()))
    for m in _SSN.finditer(text):
        if _is_ssn(m) and free(m.start(), m.end()):
            hits.append(PiiHit("ssn", path, m.start(), m.end(), in_key))
            taken.append((m.start(), m.end()))
    for rx in (_E164, _NANP):
        for m in rx.finditer(text):
            if free(m.start(), m.end()):
                hits.append(PiiHit("phone", path, m.start(), m.end(), in_key))
                taken.append((m.start(), m.end()))
    hits.sort(key=lambda h: h.start)
    return hits


def _child(path: str, key: str) -> str:
    if key.isidentifier():
        return f"{path}.{key}"
    return f"{path}[{key!r}]"


def scan(obj: Any, path: str = "$", *, allow_id_keys: bool = True) -> list[PiiHit]:
    """Every PII hit in a nested structure of dicts, lists, strings and numbers, with JSON paths.

    Dict keys are scanned too (PII smuggled in as a key). Values under ``ID_KEYS`` are skipped when they
    have the shape of an id or of a user's email. Raises ``PiiScanError`` beyond ``MAX_DEPTH`` levels.
    """
    hits: list[PiiHit] = []
    _scan(obj, path, None, 0, hits, allow_id_keys)
    return hits


def _scan(obj: Any, path: str, key: str | None, depth: int, hits: list[PiiHit], allow_ids: bool) -> None:
    if depth > MAX_DEPTH:
        raise PiiScanError(f"{path}: nested deeper than {MAX_DEPTH} levels; flatten the arguments")
    if isinstance(obj, str):
        if allow_ids and key in ID_KEYS and _ID_VALUE.match(obj):
            return
        hits.extend(scan_text(obj, path))
    elif isinstance(obj, bool) or obj is None:
        return
    elif isinstance(obj, int):
        # A card number sent as a JSON number; short ints (amounts, counts) cannot be one.
        if obj >= 10**12 and not (allow_ids and key in ID_KEYS):
            text = str(obj)
            if _is_card(text):
                hits.append(PiiHit("card", path, 0, len(text)))
    elif isinstance(obj, Mapping):
        for k, v in obj.items():
            ks = str(k)
            child = _child(path, ks)
            hits.extend(scan_text(ks, child, in_key=True))
            _scan(v, child, ks, depth + 1, hits, allow_ids)
    elif isinstance(obj, Sequence | set | frozenset) and not isinstance(obj, bytes | bytearray):
        for i, v in enumerate(obj):
            # List items inherit the key: followers=["1234..."] are ids like follower=...
            _scan(v, f"{path}[{i}]", key, depth + 1, hits, allow_ids)
    elif isinstance(obj, float):
        return
    else:
        # Decimal, dates, enums and the like render as text we can scan.
        hits.extend(scan_text(str(obj), path))


def blocking(hits: Iterable[PiiHit], mode: str) -> list[PiiHit]:
    """The hits that deny the call: all of them in ``deny`` mode; in ``redact`` mode cards, SSNs and
    anything found in a dict key (which cannot be masked in place)."""
    if mode == "deny":
        return list(hits)
    return [h for h in hits if h.kind in BLOCKING_KINDS or h.in_key]


def redact(obj: Any, hits: Iterable[PiiHit], path: str = "$") -> Any:
    """A copy of ``obj`` with each hit's span replaced by ``[REDACTED:<kind>]``."""
    by_path: dict[str, list[PiiHit]] = {}
    for h in hits:
        if not h.in_key:
            by_path.setdefault(h.path, []).append(h)
    if not by_path:
        return obj
    return _redact(obj, path, by_path)


def _redact(obj: Any, path: str, by_path: Mapping[str, list[PiiHit]]) -> Any:
    if isinstance(obj, str):
        spans = by_path.get(path)
        if not spans:
            return obj
        out, last = [], 0
        for h in sorted(spans, key=lambda h: h.start):
            out.append(obj[last : h.start])
            out.append(f"[REDACTED:{h.kind}]")
            last = h.end
        out.append(obj[last:])
        return "".join(out)
    if isinstance(obj, Mapping):
        return {k: _redact(v, _child(path, str(k)), by_path) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_redact(v, f"{path}[{i}]", by_path) for i, v in enumerate(obj))
    if path in by_path:
        return f"[REDACTED:{by_path[path][0].kind}]"
    return obj


def _mask_one(m: re.Match[str]) -> str:
    local, _, domain = m.group(0).partition("@")
    return f"{local[:1]}***@{domain}"


def mask_email_for_logs(text: str) -> str:
    """Mask every email in a log line: ``jane.doe@example.com`` -> ``j***@example.com``."""
    if "@" not in text:
        return text
    return _EMAIL.sub(_mask_one, text)


def scan_response(obj: Any) -> list[PiiHit]:
    """The hits that block a response: card numbers and SSNs anywhere, including id-keyed fields."""
    return [h for h in scan(obj, allow_id_keys=False) if h.kind in BLOCKING_KINDS]


def summarize(hits: Sequence[PiiHit], limit: int = 5) -> str:
    """``email at $.notes; ssn at $.a.b[0]`` for messages (no values)."""
    parts = [f"{h.kind} at {h.path}{' (key)' if h.in_key else ''}" for h in hits[:limit]]
    if len(hits) > limit:
        parts.append(f"and {len(hits) - limit} more")
    return "; ".join(parts)
