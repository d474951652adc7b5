"""Money in arguments (policies.money): reading amounts from text, custom fields and changes, and the fact the budget
rules test (the largest amount in USD; unreadable money fails closed)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from policies import PolicyEngine, ToolCall
from policies.money import is_money_name, parse_money_text, read_fields
from tests.policies.conftest import principal


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("$900,000", "900000", "USD"),
        ("US$ 1,250,000.50", "1250000.50", "USD"),
        ("900000 USD", "900000", "USD"),
        ("EUR 42.000,50", "42000.50", "EUR"),
        ("€42.000", "42000", "EUR"),  # one separator before three digits reads as grouping (the larger amount)
        ("1,50 EUR", "1.50", "EUR"),
        ("£1 000 000", "1000000", "GBP"),
        ("1'250'000 CHF", "1250000", "CHF"),
        ("900k", "900000", ""),
        ("1.5m USD", "1500000", "USD"),
        ("2 million EUR", "2000000", "EUR"),
        ("９００，０００ USD", "900000", "USD"),
        ("9\u200b0\u200b0\u200b000 USD", "900000", "USD"),
    ],
)
def test_parses_amounts(text: str, amount: str, currency: str) -> None:
    parsed = parse_money_text(text)
    assert parsed is not None and parsed[0] == Decimal(amount) and parsed[1] == currency


@pytest.mark.parametrize("text", ["Top 10", "Sep 2027", "2027-06-01", "-5 USD", "USD 5 EUR", "about $5", "12/28", ""])
def test_other_text_is_not_an_amount(text: str) -> None:
    assert parse_money_text(text) is None


def test_ambiguous_symbol_is_an_error_with_the_fix() -> None:
    with pytest.raises(ValueError, match="JPY or CNY"):
        parse_money_text("¥900000")


@pytest.mark.parametrize(
    ("name", "money"),
    [("DE:Budget", True), ("budget_planned", True), ("DE:MediaBudget", True), ("DE:Total Cost (EUR)", True),
     ("unitPrice", True), ("DE:Costume", False), ("DE:Feedback", False), ("DE:Region", False), ("name", False)],
)  # fmt: skip
def test_money_names(name: str, money: bool) -> None:
    assert is_money_name(name) is money


def test_read_fields_pairs_currency_and_skips_descriptions() -> None:
    fields = {"DE:Budget": "900000", "DE:Budget Currency": "EUR", "DE:Cost Center": "4410", "DE:Approved": True,
              "DE:Budget Owner": "Dana", "DE:Spend cap": 5000}  # fmt: skip
    found = {a.path: (a.amount, a.currency, a.problem) for a in read_fields(fields, "$.cf")}
    assert found["$.cf['DE:Budget']"] == (Decimal("900000"), "EUR", "")
    assert found["$.cf['DE:Spend cap']"][2] == "DE:Spend cap has no currency; give it with the amount ('25000 USD') " \
        "or in the field 'DE:Spend cap Currency'"  # fmt: skip
    assert set(found) == {"$.cf['DE:Budget']", "$.cf['DE:Spend cap']"}


CF = "custom_fields"


@pytest.mark.parametrize(
    ("args", "effect", "rule"),
    [
        ({CF: {"DE:Budget": "9000", "DE:Budget Currency": "USD"}}, "allow", "permit.campaign_managers"),
        ({CF: {"DE:Budget": "10000.01 USD"}}, "require_approval", "budget.leadership_approval"),
        ({CF: {"DE:Budget": "95000", "DE:Budget Currency": "GBP"}}, "require_approval", "budget.vp_approval"),
        ({"budget": {"amount": "5000", "currency": "USD"}, CF: {"DE:Spend": "$200,000"}}, "require_approval",
         "budget.vp_approval"),
        ({CF: {"DE:Budget": "5 USD", "DE:Spend": "5 JPY"}}, "deny", "budget.unknown_currency"),
        ({CF: {"DE:Budget": "-5 USD"}}, "deny", "budget.invalid_amount"),
        ({CF: {"DE:Budget": ["5000 USD", "6000 EUR"]}}, "deny", "budget.invalid_amount"),
        ({CF: {"DE:Budget": {"amount": "20000", "currency": "USD"}}}, "require_approval",
         "budget.leadership_approval"),
    ],
)  # fmt: skip
def test_project_money_decisions(engine: PolicyEngine, args: dict[str, Any], effect: str, rule: str) -> None:
    d = engine.decide(principal("campaign-managers"), ToolCall("workfront", "create_project", {"name": "p", **args}))
    assert d.effect == effect and rule in d.rule_ids, (d.effect, d.rule_ids, d.message())


def test_budget_committed_at_create_is_seen_too(engine: PolicyEngine) -> None:
    args = {"name": "c", "budget_committed": {"amount": "500000", "currency": "USD"}}
    d = engine.decide(principal("marketing-leadership"), ToolCall("spine", "create_campaign", args))
    assert "budget.vp_approval" in d.rule_ids
