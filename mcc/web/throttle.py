"""Login throttling: a GCRA budget of failed sign-ins per account and per client address.

The counters live in the policy engine's rate-counter store (``spine.rate_counters.SqlRateStore`` by default),
so every replica of the web app shares one budget. Only failures spend the budget; a success does not reset
it (an attacker who knows one password must not unlock guessing another).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class CounterStore(Protocol):
    def get(self, key: str) -> float | None: ...
    def compare_and_set(self, key: str, expected: float | None, new: float) -> bool: ...


@dataclass
class MemoryCounters:
    """A per-process store (tests, single process); same protocol as the database store."""

    values: dict[str, float]

    def __init__(self) -> None:
        self.values = {}

    def get(self, key: str) -> float | None:
        return self.values.get(key)

    def compare_and_set(self, key: str, expected: float | None, new: float) -> bool:
        if self.values.get(key) != expected:
            return False
        self.values[key] = new
        return True


class LoginThrottle:
    """``limit`` failures per ``window`` seconds for each key (GCRA: a failure costs window/limit seconds)."""

    def __init__(
        self, store: CounterStore, *, limit: int, window: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._store, self._limit, self._window, self._clock = store, limit, float(window), clock

    def retry_after(self, key: str, limit: int | None = None) -> float:
        """Seconds until ``key`` may try again (0 when it may now)."""
        limit = limit or self._limit
        tat = self._store.get(self._key(key))
        if tat is None:
            return 0.0
        now = self._clock()
        interval = self._window / limit
        # Allowed while one more failure would still fit the burst: tat - now <= window - interval.
        wait = (tat - now) - (self._window - interval)
        return max(0.0, wait)

    def failed(self, key: str, limit: int | None = None) -> None:
        """Spend one failure of ``key``'s budget."""
        limit = limit or self._limit
        interval = self._window / limit
        for _ in range(20):  # compare-and-set retries under contention
            current = self._store.get(self._key(key))
            now = self._clock()
            new = max(current or now, now) + interval
            if self._store.compare_and_set(self._key(key), current, new):
                return

    @staticmethod
    def _key(key: str) -> str:
        return f"web-login:{key}"
