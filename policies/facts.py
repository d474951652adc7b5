"""Facts the Cedar rules test, computed from a call: budget in USD, canonical fields written, tenants named.

Pure functions over the arguments, the tool spec, the FX table and the field-authority matrix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

from policies.model import ToolSpec
from spine.authority import Direction, FieldRule, Owner

CEDAR_DECIMAL_MAX = Decimal("922337203685477.5807")
_QUANTUM = Decimal("0.0001")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Arguments of MCC write tools that are not canonical fields.
NON_FIELD_ARGUMENTS: frozenset[str] = frozenset(
    {"tenant_id", "idempotency_key", "approval_id", "expected_version", "campaign_id", "dry_run", "reason"}
)


@dataclass(frozen=True, slots=True)
class BudgetFact:
    """The committed amount in USD (``None`` when the call commits none) or why it could not be read."""

    usd: Decimal | None = None
    error: str = ""  # "" | "unknown_currency" | "invalid_amount"
    amount: Decimal | None = None
    currency: str = ""
    problem: str = ""
    path: str = ""

    def cedar_value(self) -> dict[str, Any] | None:
        if self.usd is None:
            return None
        return {"__extn": {"fn": "decimal", "arg": format(self.usd, "f")}}


def _dig(args: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    cur: Any = args
    for key in path:
        if not isinstance(cur, Mapping) or key not in cur:
            return None
        cur = cur[key]
    return cur


def budget_fact(spec: ToolSpec, arguments: Mapping[str, Any], fx_rates: Mapping[str, Decimal]) -> BudgetFact:
    """Read ``{amount, currency}`` at the spec's budget path and convert it with ``fx_rates`` (USD per unit).

    Rounds up to Cedar's 4 decimal places so rounding never takes an amount below a threshold.
    """
    if spec.budget_path is None:
        return BudgetFact()
    path = "$." + ".".join(spec.budget_path)
    value = _dig(arguments, spec.budget_path)
    if value is None:
        return BudgetFact(path=path)

    def invalid(problem: str) -> BudgetFact:
        return BudgetFact(error="invalid_amount", problem=problem, path=path)

    if not isinstance(value, Mapping):
        return invalid("expected an object with amount and currency")
    raw, cur = value.get("amount"), value.get("currency")
    if isinstance(raw, bool) or raw is None:
        return invalid("amount is missing or not a number")
    try:
        amount = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        return invalid(f"amount {str(raw)[:40]!r} is not a number")
    if not amount.is_finite() or amount < 0:
        return invalid("amount must be a finite number >= 0")
    if not isinstance(cur, str) or not _CURRENCY.match(cur.strip().upper()):
        return invalid("currency must be an ISO 4217 code such as USD")
    currency = cur.strip().upper()
    rate = Decimal(1) if currency == "USD" else fx_rates.get(currency)
    if rate is None:
        return BudgetFact(error="unknown_currency", amount=amount, currency=currency, path=path)
    usd = min((amount * rate).quantize(_QUANTUM, rounding=ROUND_CEILING), CEDAR_DECIMAL_MAX)
    return BudgetFact(usd=usd, amount=amount, currency=currency, path=path)


@dataclass(frozen=True, slots=True)
class FieldsFact:
    written: tuple[str, ...] = ()
    foreign: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # owner -> fields
    unknown: tuple[str, ...] = ()


def fields_fact(spec: ToolSpec, arguments: Mapping[str, Any], authority: Mapping[str, FieldRule]) -> FieldsFact:
    """Canonical fields a spine write touches, and those that MCC may not write (owner is another system).

    A field owned elsewhere but synced both ways (e.g. due dates) is writable. Unlisted fields are reported
    as unknown: the matrix is the whitelist.
    """
    if spec.fields_entity is None:
        return FieldsFact()
    source = arguments.get("changes") if spec.fields_from == "changes" else arguments
    if not isinstance(source, Mapping):
        return FieldsFact()
    entity = spec.fields_entity
    written: list[str] = []
    for key, value in source.items():
        if spec.fields_from == "arguments" and key in NON_FIELD_ARGUMENTS:
            continue
        name = f"{entity}.{key}"
        if name not in authority and isinstance(value, Mapping) and value:
            prefix = name + "."
            if any(f.startswith(prefix) for f in authority):
                written.extend(prefix + str(sub) for sub in value)
                continue
        written.append(name)
    foreign: dict[str, list[str]] = {}
    unknown: list[str] = []
    for name in written:
        rule = authority.get(name)
        if rule is None:
            unknown.append(name)
        elif rule.owner != Owner.MCC and rule.direction != Direction.BIDIRECTIONAL:
            foreign.setdefault(str(rule.owner), []).append(name)
    return FieldsFact(tuple(written), {k: tuple(v) for k, v in foreign.items()}, tuple(unknown))


def tenants_named(call_tenant: str | None, arguments: Mapping[str, Any], max_depth: int = 8) -> set[str]:
    """The resource tenant plus every ``tenant_id`` argument at any depth (a nested one is no less real)."""
    found: set[str] = set()
    if call_tenant is not None:
        found.add(str(call_tenant))
    stack: list[tuple[Any, int]] = [(arguments, 0)]
    while stack:
        obj, depth = stack.pop()
        if depth > max_depth:
            found.add("<too deep to check>")
            continue
        if isinstance(obj, Mapping):
            for k, v in obj.items():
                if k == "tenant_id" and v is not None:
                    found.add(str(v))
                elif isinstance(v, Mapping | list | tuple):
                    stack.append((v, depth + 1))
        elif isinstance(obj, list | tuple):
            stack.extend((v, depth + 1) for v in obj if isinstance(v, Mapping | list | tuple))
    return found
