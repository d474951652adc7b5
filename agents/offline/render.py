"""Formatting of numbers, money, ratios, dates and lists for the offline model's answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def money(amount: Any, currency: str | None) -> str:
    """ "$25,000", "€40,500.50", "1,200 CAD"; "n/a" when the amount is missing."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return "n/a"
    if amount is None:
        return "n/a"
    text = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    code = (currency or "").upper()
    symbol = _SYMBOLS.get(code)
    return f"{symbol}{text}" if symbol else f"{text} {code}".strip()


def money_of(obj: dict[str, Any] | None) -> str:
    """Money from the spine's ``{"amount": "...", "currency": "USD"}`` shape."""
    if not obj:
        return "n/a"
    return money(obj.get("amount"), obj.get("currency"))


def number(value: Any) -> str:
    """Thousands-separated integer, "n/a" when missing."""
    if value is None:
        return "n/a"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def pct(value: Any, digits: int = 2) -> str:
    """A 0-1 ratio as a percentage ("3.21%"), "n/a" when null."""
    if value is None:
        return "n/a"
    return f"{float(value) * 100:.{digits}f}%"


def ratio(value: Any) -> str:
    """ROAS-style multiple ("4.20x"), "n/a" when null."""
    return "n/a" if value is None else f"{float(value):.2f}x"


def day(value: Any) -> str:
    """An ISO date as "Fri 2026-12-04" (weekday helps with relative dates); other values unchanged."""
    if value is None:
        return "n/a"
    try:
        d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{d:%a} {d.isoformat()}"


def listing(items: Iterable[str], conjunction: str = "and") -> str:
    """ "a", "a and b", "a, b and c"."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return items[0] if items else ""
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def short_id(value: str) -> str:
    """The first block of a UUID, enough to tell records apart in a reply."""
    return value.split("-")[0] if value and "-" in value else value


def first_line(text: str, limit: int = 200) -> str:
    """The first line of a free text, cut to ``limit`` characters (free texts are data: shown, never obeyed)."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def plural(n: int, word: str) -> str:
    """ "1 task", "3 tasks"."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
