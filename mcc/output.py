"""Printing for the CLI: rich tables for people, JSON for scripts (``--json``).

Terminal rule: stored text is data, never terminal control. Every console here shows control characters,
escape sequences (ESC/CSI/OSC), bidi overrides and zero-width characters of printed text as visible escapes
(``\\x1b``, ``\\u202e``), whatever slipped into the database before the text policy existed; ``safe()`` also
escapes rich markup, so a value interpolated into a markup string is printed as written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.segment import Segment

# C0 controls but newline and tab, DEL, C1, bidi embeddings/overrides/isolates, zero-width and line separators
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]")
_UNSAFE_LINE = re.compile(_UNSAFE.pattern[:-1] + "\n\t]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def defang(text: str, *, multiline: bool = True) -> str:
    """``text`` with every terminal control shown as a visible escape (newlines kept when ``multiline``)."""
    return (_UNSAFE if multiline else _UNSAFE_LINE).sub(_visible, text)


def safe(value: Any, *, multiline: bool = False) -> str:
    """Any value as text to interpolate into a rich markup string: controls made visible, markup escaped."""
    return escape(defang(str(value), multiline=multiline))


class SafeConsole(Console):
    """A rich console that never writes a control character from printed text to the terminal (styles and
    rich's own cursor controls are unaffected)."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        clean = (seg if seg.control else Segment(defang(seg.text), seg.style, seg.control) for seg in buffer)
        return super()._render_buffer(clean)


def _console(stderr: bool = False) -> Console:
    probe = SafeConsole(stderr=stderr)
    # Piped output (CI logs, files) gets a wide fixed width instead of rich's 80-column fallback.
    return probe if probe.is_terminal else SafeConsole(stderr=stderr, width=160)


console = _console()
err_console = _console(stderr=True)


def to_jsonable(obj: Any) -> Any:
    """Pydantic models, dataclasses, Decimals and dates as plain JSON values."""
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, dt.date | dt.datetime):
        return obj.isoformat()
    return obj


def print_json(obj: Any) -> None:
    """Machine-readable output on stdout, nothing else."""
    print(json.dumps(to_jsonable(obj), indent=2, sort_keys=False))


def money(m: Any) -> str:
    """``{amount, currency}`` as ``USD 12,500.00``; blank for None."""
    if m is None:
        return ""
    amount = m["amount"] if isinstance(m, dict) else m.amount
    currency = m["currency"] if isinstance(m, dict) else m.currency
    return f"{currency} {Decimal(str(amount)):,.2f}"


def pct(x: float | None) -> str:
    return "" if x is None else f"{x * 100:.2f}%"
