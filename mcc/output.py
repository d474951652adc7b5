"""Printing for the CLI: rich tables for people, JSON for scripts (``--json``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from rich.console import Console


def _console(stderr: bool = False) -> Console:
    probe = Console(stderr=stderr)
    # Piped output (CI logs, files) gets a wide fixed width instead of rich's 80-column fallback.
    return probe if probe.is_terminal else Console(stderr=stderr, width=160)


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


def safe(text: object) -> str:
    """A value made safe to print in a rich console: control and bidi characters shown as escapes (a stored name
    can never move the cursor, recolour the terminal or reorder a line) and rich markup escaped."""
    import unicodedata

    from rich.markup import escape

    shown = "".join(
        ch if ch in "\t" or not (unicodedata.category(ch) in ("Cc", "Cf") or ch in "\u2028\u2029") else
        f"\\u{ord(ch):04x}"
        for ch in str(text)
    )  # fmt: skip
    return escape(shown)
