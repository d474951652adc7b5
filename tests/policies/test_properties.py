"""Property tests: Luhn, determinism, and no budget over $100,000 without a VP approval."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies import PolicyEngine, ToolCall
from policies.pii import luhn_valid, scan_text
from tests.policies.conftest import FX, principal

ENGINE = PolicyEngine.from_directory(fx_rates=FX, rate_rules=())
GROUPS = [
    "marketing-leadership",
    "vp",
    "campaign-managers",
    "production-team",
    "event-marketers",
    "readonly-users",
    "interns",
]
SPECS = list(ENGINE.catalog)


def _check_digit(body: str) -> str:
    for d in "0123456789":
        if luhn_valid(body + d):
            return d
    raise AssertionError


@given(st.text("0123456789", min_size=12, max_size=18))
def test_luhn_check_digit_makes_valid_and_any_single_change_breaks_it(body: str) -> None:
    number = body + _check_digit(body)
    assert luhn_valid(number)
    for i in range(len(number)):
        for d in "0123456789":
            if d != number[i]:
                assert not luhn_valid(number[:i] + d + number[i + 1 :])


@given(st.sampled_from("3456"), st.text("0123456789", min_size=14, max_size=14))
def test_valid_card_numbers_are_found_in_text(first: str, rest: str) -> None:
    body = first + rest
    number = body + _check_digit(body)
    assert [h.kind for h in scan_text(f"pay with {number} now")] == ["card"]


json_scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SPECS),
    st.frozensets(st.sampled_from(GROUPS), max_size=2),
    st.dictionaries(
        st.sampled_from(["name", "text", "changes", "budget_planned", "tenant_id", "x"]), json_values, max_size=4
    ),
    st.sampled_from([None, "marketing-leadership", "vp"]),
)
def test_decisions_are_deterministic(spec, groups, args, approved) -> None:  # type: ignore[no-untyped-def]
    p = principal(*sorted(groups))
    call = ToolCall(spec.server, spec.tool, args)
    first = ENGINE.decide(p, call, approved_group=approved)
    assert first == ENGINE.decide(p, call, approved_group=approved)
    assert first.effect in ("allow", "deny", "require_approval")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.decimals(min_value=Decimal("100000.0001"), max_value=Decimal("1e13"), places=4),
    st.sampled_from(["USD", "EUR", "GBP"]),
    st.frozensets(st.sampled_from(GROUPS), min_size=1, max_size=3),
    st.sampled_from([None, "marketing-leadership", "campaign-managers", "", "VP", "vp "]),
    st.sampled_from(
        [
            ("spine", "create_campaign"),
            ("spine", "update_campaign"),
            ("workfront", "create_project"),
            ("workfront", "create_expense"),
        ]
    ),
)
def test_no_budget_over_100k_is_allowed_without_vp_approval(amount, currency, groups, approved, tool) -> None:  # type: ignore[no-untyped-def]
    money = {"amount": str(amount), "currency": currency}
    server, name = tool
    args = {
        ("spine", "create_campaign"): {"name": "c", "budget_planned": money},
        ("spine", "update_campaign"): {"campaign_id": "c", "changes": {"budget_planned": money}},
        ("workfront", "create_project"): {"name": "p", "budget": money},
        ("workfront", "create_expense"): {"amount": money},
    }[tool]
    d = ENGINE.decide(principal(*sorted(groups)), ToolCall(server, name, args), approved_group=approved)
    assert d.effect != "allow"
    if d.effect == "require_approval":
        assert d.required_group == "vp"
