"""PII detection for tool arguments and responses: emails, phone numbers, card numbers (Luhn), US SSNs.

Text is normalized before detection (``policies.textnorm``): fullwidth digits, non-breaking spaces, dots,
slashes and zero-width characters between digits do not hide a number. Card numbers: 13-19 digits starting 2-6,
grouped by any single separator, passing Luhn. SSNs: 3-2-4 digits with any separators (``123-45-6789``,
``123.45.6789``, ``123-45 6789``) that the SSA could have issued (area not 000, 666 or 9xx, group not 00,
serial not 0000). Nine bare digits (``123456789``) are an SSN only when the words before or after, or the
field's name, say so (``SSN``, ``social security``) or when invisible characters were hidden inside them: a bare
nine-digit number is far more often an order number or an id, so it is left alone otherwise (the trade-off:
an SSN typed bare with no hint is missed).

Scans nested dicts/lists recursively and reports each hit with its JSON path (``$.changes.notes[0]``), so a
denial can say where the value was. Fields that legitimately carry a user id (Asana gid, Workfront GUID, an
assignee's email) are allow-listed by key and only skipped when the value has the shape of an id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from policies.model import PiiHit, PiiKind
from policies.textnorm import normalize

MAX_DEPTH = 32
BLOCKING_KINDS: frozenset[PiiKind] = frozenset({"card", "ssn"})

_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
# E.164 (+ and 8 to 15 digits, optionally grouped by single spaces, dots or dashes).
_E164 = re.compile(r"(?<![\w+])\+[1-9](?:[ .-]?\d){7,14}(?![\w-])")
# NANP with separators: (212) 555-0147, 212-555-0147, 212.555.0147, 1-212-555-0147. Bare 10-digit runs are
# left alone (ids, amounts); area code and exchange must start with 2-9.
_NANP = re.compile(r"(?<![\w+.-])(?:1[ .-]?)?(?:\([2-9]\d{2}\)[ ]?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}(?![\w-]|\.\d)")
# Detectors run on normalized text (policies.textnorm): ASCII digits, and " - . /" as the only separators.
# A digit run may not continue another one across a separator (a UUID, a date range, a longer number).
_START = r"(?<![\w+])(?<![0-9][-./])"
_END = r"(?!\w)(?![-./][0-9])"
# 13-19 digits, optionally grouped by single spaces, dashes, dots or slashes (mixed).
_CARD = re.compile(_START + r"[0-9](?:[ .\-/]?[0-9]){12,18}" + _END)
_SEP = r"(?:[ ]?[-./][ ]?|[ ])"
_SSN = re.compile(_START + rf"([0-9]{{3}}){_SEP}([0-9]{{2}}){_SEP}([0-9]{{4}})" + _END)
# Nine bare digits are an SSN only with context (below), or when invisible characters were hidden inside them.
_SSN_BARE = re.compile(_START + r"([0-9]{3})([0-9]{2})([0-9]{4})" + _END)
_SSN_CONTEXT = re.compile(
    r"(?<![a-z])(?:ssns?|ss#|ss[ _]?no|social[ _-]*security|soc\.?[ _]?sec)(?![a-z])", re.IGNORECASE
)
_CONTEXT_BEFORE, _CONTEXT_AFTER = 40, 20

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
    digits = "".join(c for c in candidate if c.isdigit())
    if not 13 <= len(digits) <= 19 or digits[0] not in "23456":
        return False
    return luhn_valid(digits)


def _ssa_valid(area: str, group: str, serial: str) -> bool:
    # Never issued: area 000, 666 or 900-999, group 00, serial 0000.
    return not (area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000")


def is_ssn_context(text: str) -> bool:
    """True when ``text`` (nearby words, or the name of the field) says a number is a social security number."""
    return _SSN_CONTEXT.search(text) is not None


def scan_text(text: str, path: str = "$", *, in_key: bool = False, context: str = "") -> list[PiiHit]:
    """Every PII hit in one string, in order of position, with spans in ``text`` itself.

    The string is normalized first (``policies.textnorm``), so fullwidth digits, non-breaking spaces, dots,
    slashes and zero-width characters do not hide a card number or an SSN. ``context`` is the field's name:
    ``ssn: 123456789`` is an SSN, a bare ``123456789`` elsewhere is an order number.
    """
    hits: list[PiiHit] = []
    if len(text) < 6:
        return hits
    norm = normalize(text)
    t = norm.text

    def hit(kind: PiiKind, s: int, e: int) -> None:
        a, b = norm.span(s, e)
        hits.append(PiiHit(kind, path, a, b, in_key))
        taken.append((s, e))

    taken: list[tuple[int, int]] = []
    for m in _EMAIL.finditer(t):
        hit("email", m.start(), m.end())
    if not any(c.isdigit() for c in t):
        return hits

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    for m in _CARD.finditer(t):
        if _is_card(m.group(0)) and free(m.start(), m.end()):
            hit("card", m.start(), m.end())
    for m in _SSN.finditer(t):
        if _ssa_valid(m.group(1), m.group(2), m.group(3)) and free(m.start(), m.end()):
            hit("ssn", m.start(), m.end())
    for m in _SSN_BARE.finditer(t):
        if not (_ssa_valid(m.group(1), m.group(2), m.group(3)) and free(m.start(), m.end())):
            continue
        near = t[max(0, m.start() - _CONTEXT_BEFORE) : m.start()] + " " + t[m.end() : m.end() + _CONTEXT_AFTER]
        if norm.dropped_inside(m.start(), m.end()) or is_ssn_context(near) or is_ssn_context(context):
            hit("ssn", m.start(), m.end())
    for rx in (_E164, _NANP):
        for m in rx.finditer(t):
            if free(m.start(), m.end()):
                hit("phone", m.start(), m.end())
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
        hits.extend(scan_text(obj, path, context=key or ""))
    elif isinstance(obj, bool) or obj is None:
        return
    elif isinstance(obj, int):
        # A card number sent as a JSON number; short ints (amounts, counts) cannot be one.
        if obj >= 10**12 and not (allow_ids and key in ID_KEYS):
            text = str(obj)
            if _is_card(text):
                hits.append(PiiHit("card", path, 0, len(text)))
        elif 0 < obj < 10**9 and key is not None and is_ssn_context(key):
            text = f"{obj:09d}"  # a JSON number loses the SSN's leading zeros
            if _ssa_valid(text[:3], text[3:5], text[5:]):
                hits.append(PiiHit("ssn", path, 0, len(str(obj))))
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
