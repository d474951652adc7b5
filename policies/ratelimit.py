"""Rate limits as data and a pure GCRA decision over a pluggable counter store.

GCRA (generic cell rate algorithm) keeps one number per key, the theoretical arrival time (TAT), so a database
or Redis store is a single row/key per limit. ``limit`` calls are admitted in any ``window_s`` window, bursts
included. Deterministic given the ``now`` the caller injects.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from policies.model import Principal

Scope = Literal["system", "principal"]


@dataclass(frozen=True, slots=True)
class RateRule:
    """``limit`` calls per ``window_s`` seconds to ``system``, per tenant (``system``) or per user."""

    system: str
    scope: Scope
    limit: int
    window_s: float = 60.0

    def __post_init__(self) -> None:
        if self.limit <= 0 or self.window_s <= 0:
            raise ValueError(f"rate rule {self.system}/{self.scope}: limit and window_s must be positive")

    def key(self, principal: Principal) -> str:
        if self.scope == "system":
            return f"rl:{self.system}:tenant:{principal.tenant_id}"
        return f"rl:{self.system}:user:{principal.tenant_id}:{principal.user_id}"

    def describe(self) -> str:
        per = "per tenant" if self.scope == "system" else "per user"
        return f"{self.system} allows {self.limit} calls per {self.window_s:g}s {per}"


# Seed §6.2: workfront 100/min, asana 150/min, salesforce 50/min. One user may use the whole allowance by
# default; tighten the per-user rules in settings.
DEFAULT_RATE_RULES: tuple[RateRule, ...] = (
    RateRule("workfront", "system", 100),
    RateRule("asana", "system", 150),
    RateRule("salesforce", "system", 50),
    RateRule("workfront", "principal", 100),
    RateRule("asana", "principal", 150),
    RateRule("salesforce", "principal", 50),
)


class RateCounterStore(Protocol):
    """Where TATs live. ``compare_and_set`` must be atomic for a shared store (DB row, Redis WATCH/Lua)."""

    def get(self, key: str) -> float | None: ...

    def compare_and_set(self, key: str, expected: float | None, new: float) -> bool: ...


class InMemoryRateStore:
    """Process-local store (one server process); thread-safe."""

    def __init__(self) -> None:
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> float | None:
        return self._tat.get(key)

    def compare_and_set(self, key: str, expected: float | None, new: float) -> bool:
        with self._lock:
            if self._tat.get(key) != expected:
                return False
            self._tat[key] = new
            return True


@dataclass(frozen=True, slots=True)
class GcraResult:
    allowed: bool
    new_tat: float
    retry_after_s: float


def gcra(tat: float | None, now: float, limit: int, window_s: float) -> GcraResult:
    """Pure GCRA step: may a call at ``now`` pass, the TAT to store if it does, and how long to wait if not."""
    interval = window_s / limit
    base = now if tat is None or tat < now else tat
    new_tat = base + interval
    excess = new_tat - now - window_s
    if excess > 1e-9:
        return GcraResult(False, tat if tat is not None else now, excess)
    return GcraResult(True, new_tat, 0.0)


@dataclass(frozen=True, slots=True)
class RateCheck:
    """Outcome of checking every rule of one call; ``commit`` records the call against the limits."""

    exceeded: tuple[RateRule, ...]
    retry_after_s: float
    pending: tuple[tuple[str, float | None, float], ...]

    @property
    def limited(self) -> bool:
        return bool(self.exceeded)

    def describe(self) -> str:
        return "; ".join(r.describe() for r in self.exceeded)


class RateLimiter:
    """Applies ``RateRule``s to calls. ``check`` peeks; ``commit`` records an admitted call."""

    def __init__(self, rules: Iterable[RateRule], store: RateCounterStore | None = None) -> None:
        by_system: dict[str, list[RateRule]] = {}
        for r in rules:
            by_system.setdefault(r.system, []).append(r)
        self._rules: Mapping[str, tuple[RateRule, ...]] = {k: tuple(v) for k, v in by_system.items()}
        self.store: RateCounterStore = store if store is not None else InMemoryRateStore()

    def rules_for(self, system: str) -> tuple[RateRule, ...]:
        return self._rules.get(system, ())

    def check(self, principal: Principal, system: str, now: float) -> RateCheck:
        """Which rules a call to ``system`` at ``now`` would exceed (nothing is recorded)."""
        exceeded: list[RateRule] = []
        pending: list[tuple[str, float | None, float]] = []
        retry = 0.0
        for rule in self._rules.get(system, ()):
            key = rule.key(principal)
            tat = self.store.get(key)
            res = gcra(tat, now, rule.limit, rule.window_s)
            if res.allowed:
                pending.append((key, tat, res.new_tat))
            else:
                exceeded.append(rule)
                retry = max(retry, res.retry_after_s)
        return RateCheck(tuple(exceeded), retry, tuple(pending))

    def commit(self, check: RateCheck) -> bool:
        """Record the call; False if another caller raced us (the caller may re-check)."""
        ok = True
        for key, expected, new in check.pending:
            ok = self.store.compare_and_set(key, expected, new) and ok
        return ok
