"""Spine benchmarks (issue 2 bars), on SQLite in a temporary directory.

- 100k system refs: external -> canonical and canonical -> externals lookups, p50 <= 0.3 ms each
- importing 100k measurement rows through the repository (validation included) <= 5 s
- performance summary over 1k campaigns x 200k measurement rows <= 0.5 s
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert

from benchmarks.harness import Report, time_calls
from spine.db import make_engine, make_session_factory, transaction
from spine.migrate import upgrade
from spine.models.mapping import SystemRef
from spine.repositories import SpineStore, create_tenant, open_store

CHANNELS = ["email", "web", "social", "paid_media", "events"]
SYSTEMS = ["workfront", "asana", "salesforce", "analytics"]


def _campaigns(factory, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    ids = []
    with transaction(factory) as s:
        create_tenant(s, "bench", "Bench Inc")
        store = SpineStore(s, "bench")
        store.directory.add_user(
            {"user_id": "bench.owner", "display_name": "Bench Owner", "email": "owner@bench.example",
             "groups": ["campaign-managers"]}
        )  # fmt: skip
        for i in range(n):
            c = store.campaigns.create(
                {
                    "name": f"Benchmark campaign {i:04d}",
                    "type": "standard",
                    "tier": 1 + i % 3,
                    "launch_date": "2026-01-05",
                    "end_date": "2026-12-20",
                    "owner_id": "bench.owner",
                    "budget_planned": {"amount": "50000", "currency": "USD"},
                    "channels": ["email", "web"],
                },
                actor="bench",
            )
            ids.append(c.id)
    return ids


def _refs(factory, n: int) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    rows, keys = [], []
    for i in range(n):
        canonical = str(uuid.UUID(int=rng.getrandbits(128)))
        system = SYSTEMS[i % len(SYSTEMS)]
        external = f"{system[:2]}-{i:08d}"
        rows.append({"id": str(uuid.uuid4()), "tenant_id": "bench", "entity_type": "work_item",
                     "canonical_id": canonical, "system": system, "external_id": external})  # fmt: skip
        keys.append((system, external, canonical))
    with transaction(factory) as s:
        s.execute(insert(SystemRef), rows)
    return keys


def _measurements(campaign_ids: list[str], n: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    start = dt.date(2026, 1, 1)
    rows = []
    for i in range(n):
        imp = rng.randint(1_000, 50_000)
        clicks = rng.randint(10, imp // 20)
        rows.append({
            "campaign_id": campaign_ids[i % len(campaign_ids)],
            "date": (start + dt.timedelta(days=(i // len(campaign_ids)) % 330)).isoformat(),
            "channel": CHANNELS[i % len(CHANNELS)], "impressions": imp, "clicks": clicks,
            "conversions": rng.randint(0, clicks // 5 + 1), "currency": "USD",
            "spend": f"{rng.uniform(50, 900):.2f}", "revenue_attributed": f"{rng.uniform(0, 4000):.2f}",
            "source_system": "adobe_analytics", "source_campaign_key": "bench",
        })  # fmt: skip
    return rows


def main() -> int:
    report = Report("Spine (SQLite)")
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        factory = make_session_factory(engine)
        t0 = time.perf_counter()
        campaign_ids = _campaigns(factory, 1000)
        report.notes.append(
            f"setup: 1,000 campaigns created through the repository in {time.perf_counter() - t0:.1f} s"
        )
        keys = _refs(factory, 100_000)
        rng = random.Random(1)
        with open_store(factory, "bench") as store:
            sample = [keys[rng.randrange(len(keys))] for _ in range(2000)]
            it = iter(sample * 2)

            def ext_to_canonical() -> None:
                system, external, canonical = next(it)
                assert store.refs.canonical_id(system, "work_item", external) == canonical

            it2 = iter(sample * 2)

            def canonical_to_externals() -> None:
                _, external, canonical = next(it2)
                assert store.refs.external_ids("work_item", canonical)[0].external_id == external

            lat1 = time_calls(ext_to_canonical, 2000, warmup=100)
            lat2 = time_calls(canonical_to_externals, 2000, warmup=100)
        report.add("external -> canonical lookup p50 (100k refs)", sorted(lat1)[len(lat1) // 2], 0.3, "ms")
        report.add("canonical -> externals lookup p50 (100k refs)", sorted(lat2)[len(lat2) // 2], 0.3, "ms")

        rows = _measurements(campaign_ids, 100_000, seed=2)
        t0 = time.perf_counter()
        with open_store(factory, "bench") as store:
            store.measurements.append(rows)
        report.add("import 100k measurement rows", time.perf_counter() - t0, 5.0, "s")

        with open_store(factory, "bench") as store:
            store.measurements.append(_measurements(campaign_ids, 100_000, seed=3))
        with open_store(factory, "bench") as store:
            assert store.measurements.count() == 200_000
            store.performance()  # warm the page cache once, as a running server would have it
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                summary = store.performance(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
                times.append(time.perf_counter() - t0)
            assert len(summary.by_campaign) == 1000
        report.add("performance summary, 1k campaigns x 200k rows (median of 5)", sorted(times)[2], 0.5, "s")
        engine.dispose()
    return report.print()


if __name__ == "__main__":
    raise SystemExit(main())
