"""Shared helpers for the benchmark scripts: timing, percentiles, bars, a markdown table, machine facts."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def machine() -> str:
    """One line naming the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {mem_gb:.0f} GiB, {cpu}, Python {platform.python_version()}"


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    if not samples:
        raise ValueError("no samples")
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=1000, method="inclusive")[max(0, min(998, round(q * 10) - 1))]


def time_calls(fn: Callable[[], object], n: int, warmup: int = 10) -> list[float]:
    """Run ``fn`` n times after a warm-up; return each call's duration in milliseconds."""
    for _ in range(warmup):
        fn()
    out: list[float] = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Bar:
    """One measured figure against its bar from the issues."""

    name: str
    value: float
    limit: float
    unit: str
    higher_is_better: bool = False

    @property
    def ok(self) -> bool:
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit


@dataclass
class Report:
    """Collects bars and prints them as a markdown table; exit code says whether all bars hold."""

    title: str
    bars: list[Bar] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: float, limit: float, unit: str, higher_is_better: bool = False) -> None:
        self.bars.append(Bar(name, value, limit, unit, higher_is_better))

    def print(self) -> int:
        print(f"\n### {self.title}\n\nmachine: {machine()}\n")
        print("| figure | measured | bar | ok |")
        print("|---|---|---|---|")
        for b in self.bars:
            op = ">=" if b.higher_is_better else "<="
            verdict = "yes" if b.ok else "NO"
            print(f"| {b.name} | {b.value:.3f} {b.unit} | {op} {b.limit:g} {b.unit} | {verdict} |")
        for note in self.notes:
            print(f"\n{note}")
        sys.stdout.flush()
        return 0 if all(b.ok for b in self.bars) else 1
