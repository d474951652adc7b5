"""Rate limits as data and a pure GCRA decision over a pluggable counter store.

GCRA (generic cell rate algorithm) keeps one number per key, the theoretical arrival time (TAT), so a database
or Redis store is a single row/key per limit. ``limit`` calls are admitted in any ``window_s`` window, bursts
included. Deterministic given the ``now`` the caller injects.
"""

from __future__ import annotations

import math
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
    """Where TATs live. ``compare_and_set`` must be atomic for a shared store (DB row, Redis WATCH/Lua).

    A store may set ``lease_fraction`` (0..1): the limiter then reserves that share of a limit per round trip and
    spends it locally (see ``RateLimiter``)."""

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


def retry_seconds(seconds: float) -> float:
    """A wait as callers are told it: rounded *up* to 0.1 s (a retry after the stated time passes), at least 0.1."""
    return max(0.1, math.ceil(seconds * 10 - 1e-9) / 10)


def format_retry(seconds: float) -> str:
    """``retry_seconds`` as text with one decimal, e.g. '0.3': the one way a wait is written in every message."""
    return f"{retry_seconds(seconds):.1f}"


@dataclass(frozen=True, slots=True)
class GcraResult:
    allowed: bool
    new_tat: float
    retry_after_s: float


def gcra(tat: float | None, now: float, limit: int, window_s: float, cells: int = 1) -> GcraResult:
    """Pure GCRA step: may ``cells`` calls at ``now`` pass, the TAT to store if they do, and how long to wait if
    not."""
    interval = window_s / limit
    base = now if tat is None or tat < now else tat
    new_tat = base + interval * cells
    excess = new_tat - now - window_s
    if excess > 1e-9:
        return GcraResult(False, tat if tat is not None else now, excess)
    return GcraResult(True, new_tat, 0.0)


# How long a process may spend cells it reserved: bounds how far it runs ahead of the shared counter.
LEASE_TTL_S = 1.0


@dataclass(frozen=True, slots=True)
class _Pending:
    """One rule's share of an admitted call: a cell of a local lease, or ``cells`` cells to take from the store."""

    key: str
    expected: float | None
    new_tat: float
    cells: int
    local: bool
    now: float


@dataclass(slots=True)
class _Lease:
    cells: int
    valid_until: float


@dataclass(frozen=True, slots=True)
class RateCheck:
    """Outcome of checking every rule of one call; ``commit`` records the call against the limits."""

    exceeded: tuple[RateRule, ...]
    retry_after_s: float
    pending: tuple[_Pending, ...]

    @property
    def limited(self) -> bool:
        return bool(self.exceeded)

    def describe(self) -> str:
        return "; ".join(r.describe() for r in self.exceeded)


class RateLimiter:
    """Applies ``RateRule``s to calls. ``check`` peeks; ``commit`` records an admitted call.

    With a shared store that sets ``lease_fraction``, one store round trip reserves ``limit * lease_fraction``
    cells (at least 1) for this process, spent locally for up to ``LEASE_TTL_S``: the shared budget is never
    exceeded by more than one lease per process, and most calls skip the store. When a full lease no longer fits,
    a single cell is taken, so the limit stays exact at its edge."""

    def __init__(self, rules: Iterable[RateRule], store: RateCounterStore | None = None) -> None:
        by_system: dict[str, list[RateRule]] = {}
        for r in rules:
            by_system.setdefault(r.system, []).append(r)
        self._rules: Mapping[str, tuple[RateRule, ...]] = {k: tuple(v) for k, v in by_system.items()}
        self.store: RateCounterStore = store if store is not None else InMemoryRateStore()
        self._lease_fraction = float(getattr(self.store, "lease_fraction", 0.0))
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()

    def rules_for(self, system: str) -> tuple[RateRule, ...]:
        return self._rules.get(system, ())

    def check(self, principal: Principal, system: str, now: float) -> RateCheck:
        """Which rules a call to ``system`` at ``now`` would exceed (nothing is recorded)."""
        exceeded: list[RateRule] = []
        pending: list[_Pending] = []
        retry = 0.0
        for rule in self._rules.get(system, ()):
            key = rule.key(principal)
            lease = self._leases.get(key)
            if lease is not None and lease.cells > 0 and now <= lease.valid_until:
                pending.append(_Pending(key, None, 0.0, 1, True, now))
                continue
            tat = self.store.get(key)
            cells = max(1, int(rule.limit * self._lease_fraction))
            res = gcra(tat, now, rule.limit, rule.window_s, cells)
            if not res.allowed and cells > 1:
                cells = 1
                res = gcra(tat, now, rule.limit, rule.window_s)
            if res.allowed:
                pending.append(_Pending(key, tat, res.new_tat, cells, False, now))
            else:
                exceeded.append(rule)
                retry = max(retry, res.retry_after_s)
        return RateCheck(tuple(exceeded), retry, tuple(pending))

    def commit(self, check: RateCheck) -> bool:
        """Record the call; False if another caller raced us (the caller may re-check)."""
        ok = True
        for p in check.pending:
            if p.local:
                with self._lock:
                    lease = self._leases.get(p.key)
                    spent = lease is not None and lease.cells > 0
                    if spent:
                        lease.cells -= 1  # type: ignore[union-attr]
                ok = spent and ok
                continue
            stored = self.store.compare_and_set(p.key, p.expected, p.new_tat)
            if stored and p.cells > 1:
                with self._lock:
                    self._leases[p.key] = _Lease(p.cells - 1, p.now + LEASE_TTL_S)
            ok = stored and ok
        return ok
