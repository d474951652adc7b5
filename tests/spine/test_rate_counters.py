"""Rate-limit counters in the database: atomic compare-and-set, and one budget shared by two engines."""

from __future__ import annotations

from decimal import Decimal

from policies.engine import PolicyEngine
from policies.model import Principal, ToolCall
from policies.ratelimit import RateRule
from spine.rate_counters import SqlRateStore


def test_compare_and_set_only_from_the_expected_value(session_factory) -> None:  # type: ignore[no-untyped-def]
    store = SqlRateStore(session_factory)
    assert store.get("k") is None
    assert store.compare_and_set("k", None, 10.5)
    assert not store.compare_and_set("k", None, 11.0)  # someone inserted first
    assert store.get("k") == 10.5
    assert not store.compare_and_set("k", 9.0, 12.0)  # stale expectation
    assert store.compare_and_set("k", 10.5, 12.25) and store.get("k") == 12.25


def test_two_replicas_share_one_budget(session_factory) -> None:  # type: ignore[no-untyped-def]
    rules = [RateRule("workfront", "principal", 3)]
    replicas = [
        PolicyEngine.from_directory(
            fx_rates={"USD": Decimal(1)}, rate_rules=rules, rate_store=SqlRateStore(session_factory)
        )
        for _ in range(2)
    ]
    maya = Principal("maya.chen", "acme", frozenset({"campaign-managers"}))
    call = ToolCall("workfront", "get_project", {"project_id": "a" * 32}, "acme")
    effects = [replicas[i % 2].decide(maya, call, now=1000.0 + i).effect for i in range(4)]
    assert effects == ["allow", "allow", "allow", "deny"]
    later = replicas[0].decide(maya, call, now=1000.0 + 60)
    assert later.effect == "allow"
