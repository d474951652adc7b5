"""Facts the Cedar rules test, computed from a call: the largest amount set (USD), canonical fields written, tenants.

Pure functions over the arguments, the tool spec, the FX table and the field-authority matrix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from policies import money
from policies.model import ToolSpec
from spine.authority import Direction, FieldRule, Owner

# Arguments of MCC write tools that are not canonical fields.
NON_FIELD_ARGUMENTS: frozenset[str] = frozenset(
    {"tenant_id", "idempotency_key", "approval_id", "expected_version", "campaign_id", "project_id", "dry_run",
     "reason"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class BudgetFact:
    """The largest amount the call sets, in USD (``None`` when it sets none), or why an amount could not be read."""

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


def budget_fact(spec: ToolSpec, arguments: Mapping[str, Any], fx_rates: Mapping[str, Decimal]) -> BudgetFact:
    """Read every amount of the spec's money table (``policies.money``) and keep the largest in USD.

    Fails closed: one unreadable amount makes the fact ``invalid_amount`` and one currency without a rate
    ``unknown_currency``, whatever the other amounts say.
    """
    found = money.amounts(spec.money, arguments)
    if not found:
        first = next((row for row in spec.money if row.form == "money"), None)
        return BudgetFact(path="$." + ".".join(first.path) if first else "")
    bad = next((a for a in found if a.problem), None)
    if bad is not None:
        return BudgetFact(error="invalid_amount", problem=bad.problem, path=bad.path)
    best: BudgetFact | None = None
    for a in found:
        assert a.amount is not None  # a readable amount always has one
        rate = Decimal(1) if a.currency == "USD" else fx_rates.get(a.currency)
        if rate is None:
            return BudgetFact(error="unknown_currency", amount=a.amount, currency=a.currency, path=a.path)
        usd = money.to_usd(a.amount, rate)
        if best is None or best.usd is None or usd > best.usd:
            best = BudgetFact(usd=usd, amount=a.amount, currency=a.currency, path=a.path)
    assert best is not None
    return best


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
