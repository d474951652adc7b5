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


def test_a_lease_spends_locally_and_never_exceeds_the_shared_budget(session_factory) -> None:  # type: ignore[no-untyped-def]
    # 100/min: each replica reserves 5 cells per database round trip.
    rules = [RateRule("workfront", "principal", 100)]
    store = SqlRateStore(session_factory)
    replicas = [
        PolicyEngine.from_directory(fx_rates={"USD": Decimal(1)}, rate_rules=rules, rate_store=store) for _ in range(2)
    ]
    maya = Principal("maya.chen", "acme", frozenset({"campaign-managers"}))
    call = ToolCall("workfront", "get_project", {"project_id": "a" * 32}, "acme")
    key = rules[0].key(maya)
    replicas[0].decide(maya, call, now=1000.0)
    after_first = store.get(key)
    for i in range(4):
        assert replicas[0].decide(maya, call, now=1000.0 + i * 0.01).effect == "allow"
    assert store.get(key) == after_first  # cells 2-5 came from the lease: no store write
    replicas[0].decide(maya, call, now=1000.05)
    assert store.get(key) != after_first  # the sixth call took a new lease

    # Within one window, both replicas together admit at most the limit (unused leased cells are lost, not reused).
    admitted = sum(replicas[i % 2].decide(maya, call, now=1000.1 + i * 0.001).effect == "allow" for i in range(200))
    assert 90 <= admitted + 6 <= 100


def test_an_expired_lease_is_not_spent(session_factory) -> None:  # type: ignore[no-untyped-def]
    rules = [RateRule("workfront", "principal", 100)]
    store = SqlRateStore(session_factory)
    engine = PolicyEngine.from_directory(fx_rates={"USD": Decimal(1)}, rate_rules=rules, rate_store=store)
    maya = Principal("maya.chen", "acme", frozenset({"campaign-managers"}))
    call = ToolCall("workfront", "get_project", {"project_id": "a" * 32}, "acme")
    engine.decide(maya, call, now=1000.0)
    before = store.get(rules[0].key(maya))
    engine.decide(maya, call, now=1002.0)  # the lease from t=1000 expired after 1 s: back to the store
    assert store.get(rules[0].key(maya)) != before
