"""The agent team with the offline model: a warm turn with one tool call, a cold `mcc ask`, `mcc chat` memory.

Bars (issue 6): warm turn with one tool call p50 <= 200 ms; `mcc ask` cold (new process) <= 10 s; peak RSS of
`mcc chat` <= 1.5 GB. Everything runs on the demo world under a temporary MCC_HOME, SQLite, no network.

    .venv/bin/python -m benchmarks.bench_agents
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Report, percentile

WARM_BAR_MS, COLD_BAR_S, RSS_BAR_MB = 200.0, 10.0, 1536.0
ONE_TOOL = "Which approvals are pending?"
TURNS = 40


async def warm_turns(home: Path) -> tuple[float, int]:
    """p50 of a turn whose plan is one tool call, after one warm-up turn (model and servers loaded)."""
    from mcc.commands.chat import open_assistant
    from mcc.settings import load_settings
    from mcc.wiring import open_app

    with open_app(load_settings(home=home)) as app:
        async with open_assistant(app, "dana.reyes", None) as assistant:
            first = await assistant.send(ONE_TOOL)
            samples = []
            for _ in range(TURNS):
                t0 = time.perf_counter()
                turn = await assistant.send(ONE_TOOL)  # a new thread each time: the same work every turn
                samples.append((time.perf_counter() - t0) * 1000)
            assert not turn.waiting and turn.reply
    return percentile(samples, 50), len(first.tool_calls)


def cold_ask(env: dict[str, str]) -> list[float]:
    """Wall time of `mcc ask` in a new process, three times."""
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "mcc", "ask", ONE_TOOL, "--as", "dana.reyes", "--json"], env=env,
                              capture_output=True, text=True)  # fmt: skip
        times.append(time.perf_counter() - t0)
        assert done.returncode == 0, done.stderr[-2000:]
        assert json.loads(done.stdout)["reply"]
    return times


def chat_rss(env: dict[str, str]) -> float:
    """Peak RSS (MiB) of a `mcc chat` session that asks a few questions across agents, then quits."""
    lines = [ONE_TOOL, "How is the Q1 Cloud Platform Launch performing?",
             "What lead time does a Tier 1 campaign need before launch?", "/new", "/quit"]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run([sys.executable, "-m", "mcc", "chat", "--as", "dana.reyes"], input="\n".join(lines) + "\n",
                          env=env, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="mcc-bench-agents-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCC_") and k != "ANTHROPIC_API_KEY"}
    env["MCC_HOME"] = str(home)
    subprocess.run([sys.executable, "-m", "mcc", "demo", "--skip-conversation", "--json"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    rss = chat_rss(env)  # first: the only child so far, so RUSAGE_CHILDREN is its own peak
    cold = cold_ask(env)
    warm, tools = asyncio.run(warm_turns(home))
    report = Report("Agent team (offline model)")
    report.add(f"warm turn p50 ({tools} tool call: '{ONE_TOOL}')", warm, WARM_BAR_MS, "ms")
    report.add("mcc ask cold, new process (median of 3)", statistics.median(cold), COLD_BAR_S, "s")
    report.add("mcc chat peak RSS", rss, RSS_BAR_MB, "MiB")
    report.notes.append(f"cold runs: {', '.join(f'{t:.1f} s' for t in cold)}; warm turns: {TURNS}")
    return report.print()


if __name__ == "__main__":
    sys.exit(main())
