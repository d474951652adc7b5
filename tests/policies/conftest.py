from __future__ import annotations

from decimal import Decimal

import pytest

from policies import PolicyEngine, Principal

FX = {"EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
TENANT = "tenant-a"


def principal(*groups: str, tenant: str = TENANT, user: str | None = None) -> Principal:
    return Principal(user or ("u-" + "-".join(groups) if groups else "u-nogroup"), tenant, frozenset(groups))


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    # Rate limits are tested separately; here every call starts with fresh counters via a far-apart clock.
    return PolicyEngine.from_directory(fx_rates=FX, rate_rules=())
