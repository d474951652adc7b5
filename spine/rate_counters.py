"""Rate-limit counters in the spine database, so every server replica and process shares one budget.

Implements the policy engine's ``RateCounterStore`` protocol: ``compare_and_set`` is one conditional UPDATE (or
an INSERT that loses to a concurrent one), atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from spine.models.ops import RateCounter


class SqlRateStore:
    """GCRA theoretical arrival times keyed by rule and principal, in the ``rate_counters`` table."""

    # Each process reserves 5 % of a limit per database round trip (RateLimiter leases): most calls skip the DB.
    lease_fraction = 0.05

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get(self, key: str) -> float | None:
        """The stored TAT of ``key``, or None when it never counted a call."""
        with self._sessions() as s:
            return s.scalar(select(RateCounter.tat).where(RateCounter.key == key))

    def compare_and_set(self, key: str, expected: float | None, new: float) -> bool:
        """Store ``new`` only if the TAT is still ``expected``; False when another caller got there first."""
        with self._sessions.begin() as s:
            if expected is None:
                try:
                    with s.begin_nested():
                        s.execute(insert(RateCounter).values(key=key, tat=new))
                except IntegrityError:
                    return False
                return True
            done = s.execute(
                update(RateCounter).where(RateCounter.key == key, RateCounter.tat == expected).values(tat=new)
            )
            return done.rowcount == 1
