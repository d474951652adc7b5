"""Money in tool arguments: where each tool sets money (its table), and reading every such value as USD.

The rule the budget policies rest on: **every argument of a write that sets money is seen by the budget rules**,
whatever its name, depth or shape. Each tool declares in the catalog, as ``MoneyArg`` rows, every place its
arguments can carry money:

- ``money``: a ``{amount, currency}`` object (the ``Money`` model), e.g. ``budget_planned``.
- ``fields``: an object of named fields (Workfront custom fields, the ``changes`` of an update). A field is an
  amount when its name says money (budget, cost, spend, amount, price, fee, expense, payment, funding, ...) or
  when its whole value is a money expression with a currency (``$900,000``, ``900000 USD``, ``EUR 42.000,50``).
  A bare number takes its currency from the sibling ``<name> Currency`` field (or the map's one generic
  ``Currency`` field). Names that describe money rather than hold it (``Cost Center``, ``Budget Owner``,
  ``Budget Code``, ``Budget Currency``) are not amounts unless their value carries a currency. A list of amounts
  adds up.
- ``none``: an open object whose keys are free but which sets no money (the note says why); declared so that
  ``tests/security/test_budget_paths.py`` can tell a reviewed object from a forgotten one.

Several amounts in one call are separate statements of what the call commits, so the fact is the **largest**
in USD (list items under one field, and paths declared ``adds``, are summed first). A value that should be
money but cannot be read (no currency, text, a negative or ambiguous amount) fails closed: the call is denied
with ``budget.invalid_amount`` naming the argument path; an unknown currency is ``budget.unknown_currency``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any, Literal

from spine.currencies import ISO_4217_CODES

MoneyForm = Literal["money", "fields", "none"]
CEDAR_DECIMAL_MAX = Decimal("922337203685477.5807")
ANY = "*"  # a path step matching every list item or every key of an object
_QUANTUM = Decimal("0.0001")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

# Whole name tokens that say a field holds money; the strong stems also count inside a glued name ("MediaBudget").
MONEY_WORDS: frozenset[str] = frozenset(
    {"budget", "budgets", "cost", "costs", "spend", "spending", "spent", "amount", "amounts", "price", "prices",
     "pricing", "fee", "fees", "expense", "expenses", "invoice", "invoiced", "payment", "payments", "funding",
     "capex", "opex", "money", "dollars", "euros", "usd", "eur", "gbp"}
)  # fmt: skip
_STRONG_STEMS = ("budget", "spend", "expense", "invoice", "payment", "funding")
# Tokens of names that describe money without holding an amount (a cost center, a budget owner).
QUALIFIER_WORDS: frozenset[str] = frozenset(
    {"currency", "owner", "center", "centre", "code", "category", "type", "status", "id", "number", "no",
     "approver", "approval", "notes", "note", "comment", "comments", "description", "name", "date", "year",
     "period", "account", "holder", "source", "url", "link"}
)  # fmt: skip
_SYMBOLS: Mapping[str, str] = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "₹": "INR"}
_AMBIGUOUS_SYMBOLS = ("¥", "￥")
_MULTIPLIERS: Mapping[str, Decimal] = {
    "k": Decimal(1000), "thousand": Decimal(1000), "m": Decimal(10**6), "mm": Decimal(10**6),
    "mn": Decimal(10**6), "million": Decimal(10**6), "bn": Decimal(10**9), "b": Decimal(10**9),
    "billion": Decimal(10**9),
}  # fmt: skip
_CUR = r"(?:US\$|[$€£₹¥￥]|[A-Za-z]{3}(?![A-Za-z]))"
_MONEY_TEXT = re.compile(
    rf"^(?P<pre>{_CUR})?\s*(?P<num>\d[\d.,' ]*)\s*(?P<mult>k|thousand|mm|mn|m|million|bn|b|billion)?\s*"
    rf"(?P<post>{_CUR})?$",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


@dataclass(frozen=True, slots=True)
class MoneyArg:
    """One place a tool's arguments set money: a key path (``*`` for every item) and how to read it."""

    path: tuple[str, ...]
    form: MoneyForm = "money"
    adds: bool = False  # amounts found under this path are line items: summed, not maxed
    note: str = ""  # why a ``none`` object sets no money


@dataclass(frozen=True, slots=True)
class Amount:
    """One amount read from the arguments (``problem`` set when it could not be read)."""

    path: str
    amount: Decimal | None = None
    currency: str = ""
    problem: str = ""


def name_tokens(name: str) -> list[str]:
    """``"DE:MediaBudget (EUR)"`` -> ``["de", "media", "budget", "eur"]``; ``budget_planned`` -> two tokens."""
    return [t.lower() for t in _TOKEN.findall(name)]


def is_money_name(name: str) -> bool:
    """True when a field or property name says it holds money (by whole token, or a strong stem anywhere)."""
    tokens = name_tokens(name)
    if any(t in MONEY_WORDS for t in tokens):
        return True
    flat = "".join(tokens)
    return any(stem in flat for stem in _STRONG_STEMS)


def is_qualifier_name(name: str) -> bool:
    """True for names that describe money without holding an amount: ``Cost Center``, ``Budget Currency``."""
    return any(t in QUALIFIER_WORDS for t in name_tokens(name))


def _clean(text: str) -> str:
    # Fullwidth digits and symbols fold to ASCII; format characters (zero-width) are dropped.
    folded = unicodedata.normalize("NFKC", text)
    return "".join(" " if c.isspace() else c for c in folded if unicodedata.category(c) != "Cf").strip()


def _number(raw: str) -> Decimal | None:
    digits = raw.replace(" ", "").replace("'", "")
    commas, dots = digits.count(","), digits.count(".")
    if commas and dots:
        decimal_sep = "," if digits.rfind(",") > digits.rfind(".") else "."
        group_sep = "." if decimal_sep == "," else ","
        if digits.count(decimal_sep) > 1:
            return None
        digits = digits.replace(group_sep, "").replace(decimal_sep, ".")
    elif commas or dots:
        sep = "," if commas else "."
        head, _, tail = digits.rpartition(sep)
        # One separator followed by exactly three digits reads as grouping: the larger reading fails closed.
        if digits.count(sep) > 1 or len(tail) == 3:
            digits = digits.replace(sep, "")
        else:
            digits = f"{head.replace(sep, '')}.{tail}"
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _currency_of(token: str | None) -> tuple[str, str] | None:
    """(ISO code or "", problem) of a currency symbol or code; ``None`` when ``token`` is no currency at all."""
    if not token:
        return "", ""
    if token.upper() in _SYMBOLS:
        return _SYMBOLS[token.upper()], ""
    if token in _AMBIGUOUS_SYMBOLS:
        return "", f"currency symbol {token!r} is ambiguous; write the ISO 4217 code (e.g. JPY or CNY)"
    # Codes only in capitals: "Sep 2027" or "Top 10" are not amounts in SEP or TOP.
    return (token, "") if token.isupper() and token in ISO_4217_CODES else None


def parse_money_text(text: str) -> tuple[Decimal, str] | None:
    """``"$900,000"`` -> (900000, "USD"); ``"42.000,50 EUR"`` -> (42000.50, "EUR"); ``"900k"`` -> (900000, "").

    ``None`` when the whole text is not an amount (free text, a negative number, two different currencies).
    Raises ``ValueError`` for an amount whose currency symbol is ambiguous (fail closed, with the fix).
    """
    cleaned = _clean(text)
    m = _MONEY_TEXT.match(cleaned)
    if m is None:
        return None
    pre_of, post_of = _currency_of(m.group("pre")), _currency_of(m.group("post"))
    if pre_of is None or post_of is None:
        return None
    (pre, problem_pre), (post, problem_post) = pre_of, post_of
    if problem_pre or problem_post:
        raise ValueError(problem_pre or problem_post)
    if pre and post and pre != post:
        return None
    number = _number(m.group("num").strip())
    if number is None:
        return None
    mult = _MULTIPLIERS.get((m.group("mult") or "").lower(), Decimal(1))
    return number * mult, pre or post


def has_currency_marker(text: str) -> bool:
    """True when ``text`` is entirely an amount that names its currency (``$900,000``, ``900000 USD``)."""
    try:
        parsed = parse_money_text(text)
    except ValueError:
        return True  # an ambiguous symbol still says "this is money"
    return parsed is not None and parsed[1] != ""


def _scalar(value: Any) -> tuple[Decimal | None, str, str]:
    """(amount, currency from the value, problem) of a number or a text amount."""
    if isinstance(value, bool) or value is None:
        return None, "", "expected an amount, got " + ("a boolean" if isinstance(value, bool) else "null")
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            parsed = parse_money_text(value)
        except ValueError as e:
            return None, "", str(e)
        if parsed is None:
            return None, "", f"{value[:40]!r} is not an amount; give a number and a currency, e.g. '25000 USD'"
        amount, currency = parsed
        return _checked(amount, currency)
    else:
        return None, "", f"expected an amount, got {type(value).__name__}"
    return _checked(amount, "")


def _checked(amount: Decimal, currency: str) -> tuple[Decimal | None, str, str]:
    if not amount.is_finite() or amount < 0:
        return None, "", "amount must be a finite number >= 0"
    return amount, currency, ""


def read_money_object(value: Any, path: str) -> Amount:
    """An ``{amount, currency}`` object (the form of every ``Money`` argument)."""
    if not isinstance(value, Mapping):
        return Amount(path, problem="expected an object with amount and currency")
    raw, cur = value.get("amount"), value.get("currency")
    if isinstance(raw, bool) or raw is None:
        return Amount(path, problem="amount is missing or not a number")
    try:
        amount = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        return Amount(path, problem=f"amount {str(raw)[:40]!r} is not a number")
    if not amount.is_finite() or amount < 0:
        return Amount(path, problem="amount must be a finite number >= 0")
    if not isinstance(cur, str) or not _CURRENCY.match(cur.strip().upper()):
        return Amount(path, problem="currency must be an ISO 4217 code such as USD")
    return Amount(path, amount, cur.strip().upper())


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"


def _is_money_object(value: Any) -> bool:
    return isinstance(value, Mapping) and "amount" in value


def _sum(path: str, parts: list[Amount]) -> Amount:
    """Line items of one field: summed when they share one currency, else the first problem."""
    bad = next((p for p in parts if p.problem), None)
    if bad is not None:
        return bad
    currencies = {p.currency for p in parts}
    if len(currencies) > 1:
        return Amount(path, problem="items in different currencies cannot be added; give one currency")
    total = sum((p.amount for p in parts if p.amount is not None), Decimal(0))
    return Amount(path, total, parts[0].currency if parts else "")


def read_fields(fields: Mapping[str, Any], path: str) -> list[Amount]:
    """Every amount in a map of named fields (see the module docstring for which fields are amounts)."""
    currency_fields = {k: v for k, v in fields.items() if "currency" in name_tokens(str(k))}
    out: list[Amount] = []
    for key, value in fields.items():
        name, where = str(key), _child(path, str(key))
        if name in currency_fields:
            continue
        items = list(value) if isinstance(value, list | tuple) else [value]
        texts = [v for v in items if isinstance(v, str)]
        marked = any(has_currency_marker(t) for t in texts)
        money_object = any(_is_money_object(v) for v in items)
        if not marked and not money_object:
            if not is_money_name(name) or is_qualifier_name(name):
                continue
            if all(isinstance(v, bool) for v in items) or not items:
                continue  # a yes/no about money sets no amount
        parts = [_read_field_value(v, f"{where}[{i}]" if len(items) > 1 else where) for i, v in enumerate(items)]
        amount = _sum(where, parts) if len(parts) > 1 else parts[0]
        if amount.problem or amount.currency:
            out.append(amount)
            continue
        out.append(_with_sibling_currency(amount, name, currency_fields, path))
    return out


def _read_field_value(value: Any, path: str) -> Amount:
    if isinstance(value, Mapping):
        return read_money_object(value, path)
    amount, currency, problem = _scalar(value)
    return Amount(path, amount, currency, problem)


def _with_sibling_currency(amount: Amount, name: str, currency_fields: Mapping[str, Any], path: str) -> Amount:
    """A bare number's currency: ``<name> Currency``, else the map's one generic ``Currency``; else fail closed."""
    own = name_tokens(name)
    sibling = [k for k in currency_fields if [t for t in name_tokens(str(k)) if t != "currency"] == own]
    generic = [k for k in currency_fields if not set(name_tokens(str(k))) - {"de", "currency"}]
    chosen = sibling or (generic if len(generic) == 1 else [])
    if not chosen:
        fix = f"give it with the amount ('25000 USD') or in the field '{name} Currency'"
        return Amount(amount.path, problem=f"{name} has no currency; {fix}")
    raw = currency_fields[chosen[0]]
    code = raw.strip().upper() if isinstance(raw, str) else ""
    if not _CURRENCY.match(code):
        return Amount(_child(path, str(chosen[0])), problem="currency must be an ISO 4217 code such as USD")
    return Amount(amount.path, amount.amount, code)


def _walk(value: Any, steps: tuple[str, ...], path: str) -> Iterator[tuple[str, Any]]:
    if not steps:
        yield path, value
        return
    step, rest = steps[0], steps[1:]
    if step == ANY:
        if isinstance(value, Mapping):
            for k, v in value.items():
                yield from _walk(v, rest, _child(path, str(k)))
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                yield from _walk(v, rest, f"{path}[{i}]")
    elif isinstance(value, Mapping) and step in value:
        yield from _walk(value[step], rest, _child(path, step))


def amounts(table: tuple[MoneyArg, ...], arguments: Mapping[str, Any]) -> list[Amount]:
    """Every amount the arguments set, by the tool's table (``None`` values are unset arguments)."""
    found: list[Amount] = []
    for row in table:
        if row.form == "none":
            continue
        here: list[Amount] = []
        for path, value in _walk(arguments, row.path, "$"):
            if value is None:
                continue
            if row.form == "money":
                here.append(read_money_object(value, path))
            elif isinstance(value, Mapping):
                here.extend(read_fields(value, path))
            else:
                here.append(Amount(path, problem="expected an object of named fields"))
        if row.adds and len(here) > 1:
            here = [_sum("$." + ".".join(row.path), here)]
        found.extend(here)
    return found


def to_usd(amount: Decimal, rate: Decimal) -> Decimal:
    """``amount`` x ``rate`` rounded up to Cedar's 4 decimal places, so rounding never dips below a threshold."""
    return min((amount * rate).quantize(_QUANTUM, rounding=ROUND_CEILING), CEDAR_DECIMAL_MAX)
