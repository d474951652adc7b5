"""Policy decision latency: PolicyEngine.decide() p50 / p99 over a mix of calls (bar: p50 <= 0.3 ms, p99 <= 1 ms).

Prints a markdown table; exits non-zero when a bar is missed. Policies are parsed once, as in the servers.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time
from decimal import Decimal

from benchmarks.harness import Report, percentile
from policies import PolicyEngine, Principal, ToolCall

P50_BAR_MS = 0.3
P99_BAR_MS = 1.0
ITERATIONS = 20_000

GID = "1204567890123456"
WF = "0123456789abcdef0123456789abcdef"


def _mix() -> list[tuple[Principal, ToolCall, str | None]]:
    t = "tenant-a"
    cm = Principal("cm", t, frozenset({"campaign-managers"}))
    ro = Principal("ro", t, frozenset({"readonly-users"}))
    ev = Principal("ev", t, frozenset({"event-marketers"}))
    vp = Principal("vp", t, frozenset({"vp"}))
    pr = Principal("pr", t, frozenset({"production-team"}))
    money = {"amount": "150000.00", "currency": "EUR"}
    return [
        (ro, ToolCall("spine", "get_campaign", {"campaign_id": "c1"}, resource_tenant_id=t), None),
        (cm, ToolCall("spine", "create_campaign", {"name": "Launch", "budget_planned": money}), None),
        (cm, ToolCall("spine", "create_campaign", {"name": "Launch", "budget_planned": money}), "vp"),
        (
            cm,
            ToolCall(
                "spine",
                "update_campaign",
                {"campaign_id": "c1", "expected_version": 2, "changes": {"status": "live", "name": "n"}},
            ),
            None,
        ),
        (
            ev,
            ToolCall(
                "asana",
                "create_task",
                {"project_gid": GID, "name": "Booth build", "notes": "Coordinate with venue, load-in 7am"},
            ),
            None,
        ),
        (ev, ToolCall("asana", "add_comment", {"task_gid": GID, "text": "ping ann@corp.com"}), None),
        (pr, ToolCall("workfront", "update_task", {"task_id": WF, "changes": {"description": "x" * 200}}), None),
        (
            pr,
            ToolCall("workfront", "create_task", {"project_id": WF, "name": "t", "custom": [{"v": "ssn 219-09-9999"}]}),
            None,
        ),
        (vp, ToolCall("workfront", "delete_project", {"project_id": WF}), None),
        (ro, ToolCall("knowledge", "search_playbooks", {"query": "event launch checklist"}), None),
        (cm, ToolCall("salesforce", "update_campaign", {"id": "701"}), None),
        (cm, ToolCall("spine", "get_campaign", {"campaign_id": "c1"}, resource_tenant_id="tenant-b"), None),
    ]


def _measure(
    engine: PolicyEngine, mix: list[tuple[Principal, ToolCall, str | None]]
) -> tuple[list[float], list[float]]:
    """Wall-clock and thread-CPU milliseconds per decide()."""
    wall: list[float] = []
    cpu: list[float] = []
    clock = 0.0
    gc.disable()
    try:
        for i in range(ITERATIONS):
            p, c, a = mix[i % len(mix)]
            clock += 1.0  # one call per second: rate limits never interfere
            c0, t0 = time.thread_time(), time.perf_counter()
            engine.decide(p, c, approved_group=a, now=clock)
            t1, c1 = time.perf_counter(), time.thread_time()
            wall.append((t1 - t0) * 1e3)
            cpu.append((c1 - c0) * 1e3)
    finally:
        gc.enable()
    return wall, cpu


def main() -> int:
    engine = PolicyEngine.from_directory(fx_rates={"EUR": Decimal("1.08")})
    mix = _mix()
    for p, c, a in mix:  # warm the per-principal entity cache, as a running server would be
        engine.decide(p, c, approved_group=a, now=0.0)
    wall, cpu = _measure(engine, mix)
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    # On a shared box (load above the core count) wall-clock tails measure the scheduler, not the engine:
    # gate the tail on the thread's CPU time then, and say so.
    busy = load > cores
    report = Report(f"Policy decision latency ({ITERATIONS} decide() calls over a {len(mix)}-call mix)")
    report.add("decide() p50 wall", percentile(wall, 50), P50_BAR_MS, "ms")
    if busy:
        report.add("decide() p99 thread CPU", percentile(cpu, 99), P99_BAR_MS, "ms")
    else:
        report.add("decide() p99 wall", percentile(wall, 99), P99_BAR_MS, "ms")
    report.notes.append(
        f"also: p99 wall {percentile(wall, 99):.3f} ms, p50 CPU {percentile(cpu, 50):.3f} ms, "
        f"p99 CPU {percentile(cpu, 99):.3f} ms, mean wall {statistics.fmean(wall):.3f} ms; "
        f"load average {load:.2f} on {cores} cores" + (" (busy: p99 gated on CPU time)" if busy else "")
    )
    return report.print()


if __name__ == "__main__":
    sys.exit(main())
