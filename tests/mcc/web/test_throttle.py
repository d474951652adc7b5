"""The login throttle's GCRA budget: N failures pass, the next waits, the budget refills with time; shared
through the database store by every replica."""

from __future__ import annotations

from mcc.web.throttle import LoginThrottle, MemoryCounters
from spine.rate_counters import SqlRateStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_budget_allows_limit_failures_then_refills_one_per_interval() -> None:
    clock = Clock()
    throttle = LoginThrottle(MemoryCounters(), limit=5, window=900, clock=clock)
    for _ in range(5):
        assert throttle.retry_after("acct:a") == 0
        throttle.failed("acct:a")
    assert throttle.retry_after("acct:a") == 180  # one failure's worth: 900 s / 5
    assert throttle.retry_after("acct:b") == 0  # other keys are untouched
    clock.now += 180
    assert throttle.retry_after("acct:a") == 0
    throttle.failed("acct:a")
    assert throttle.retry_after("acct:a") == 180  # one refilled slot, spent again


def test_two_replicas_share_one_budget_in_the_database(session_factory) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    one = LoginThrottle(SqlRateStore(session_factory), limit=3, window=300, clock=clock)
    two = LoginThrottle(SqlRateStore(session_factory), limit=3, window=300, clock=clock)
    one.failed("acct:x")
    two.failed("acct:x")
    assert one.retry_after("acct:x") == 0
    one.failed("acct:x")
    assert two.retry_after("acct:x") == 100  # the other replica sees the spent budget
