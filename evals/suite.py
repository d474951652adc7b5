"""``run_suite``: load cases, build the shared parts once, run every case in its own world, report.

This is what ``mcc eval run`` calls; tests call it too. Configuration comes in explicitly (``Settings`` from the
composition root, the model choice), never from the environment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from evals.cases import Case
from evals.report import SuiteReport, build_report, write_json
from evals.runner import ProgressFn, Runner
from evals.splits import load_suite
from evals.world import Worlds, build_shared
from mcc.settings import Settings

if TYPE_CHECKING:
    from agents.models.base import ChatModel


@dataclass
class SuiteOptions:
    """How to run a suite (what ``mcc eval run`` takes on its command line)."""

    paths: list[Path]
    model: Literal["offline", "claude"] = "offline"
    trials: int = 1
    min_pass: float | None = None
    floors: dict[str, float] = field(default_factory=dict)  # split -> its own bar instead of min_pass
    json_out: Path | None = None
    html_out: Path | None = None
    only: list[str] = field(default_factory=list)
    keep: bool = False
    work_dir: Path | None = None
    rag_corpus: Path | None = None
    rag_qa: Path | None = None
    split: Literal["dev", "test", "all"] = "dev"


def select(cases: list[Case], only: list[str]) -> list[Case]:
    """Cases whose id or one of whose tags is in ``only`` (all when empty); a paraphrase is selected with its
    original's id too."""
    if not only:
        return cases
    wanted = set(only)
    return [c for c in cases if c.id in wanted or c.paraphrase_of in wanted or wanted & set(c.tags)]


def make_model(settings: Settings, choice: str) -> ChatModel | None:
    """The chat model under test: None for the offline model (built on the shared embedder), or Claude."""
    if choice == "offline":
        return None
    if choice == "claude":
        if settings.anthropic_api_key is None:
            raise ValueError("--model claude: set ANTHROPIC_API_KEY (or use --model offline)")
        from agents.models.claude import ClaudeModel

        return ClaudeModel(api_key=settings.anthropic_api_key.get_secret_value(), model=settings.anthropic_model)
    raise ValueError(f"--model: unknown model {choice!r}; use offline or claude")


async def run_suite(settings: Settings, options: SuiteOptions, progress: ProgressFn | None = None) -> SuiteReport:
    """Run the suite of ``options.paths`` and write the requested reports."""
    t0 = time.perf_counter()
    cases = select(load_suite(options.paths, options.split), options.only)
    if not cases:
        raise ValueError(f"--only: no case has the id or tag {', '.join(options.only)}")
    model = make_model(settings, options.model)
    worlds = Worlds(settings, options.work_dir, keep=options.keep)
    try:
        shared = build_shared(settings, worlds.root, model, offline=model is None)
        runner = Runner(settings, shared, worlds)
        runs = await runner.run(cases, options.trials, progress)
        timings = {"setup_" + k: v for k, v in shared.seconds.items()}
        timings |= {f"template_{t.fixture}": t.seconds for t in worlds.templates()}
        timings["cases"] = sum(r.seconds for r in runs)
        name = getattr(shared.model, "name", options.model)
        rag = None
        if options.rag_corpus is not None and options.rag_qa is not None:
            from evals.rag import rag_metrics

            t1 = time.perf_counter()
            rag = rag_metrics(settings, options.rag_corpus, options.rag_qa, embedder=shared.embedder)
            timings["rag"] = time.perf_counter() - t1
        report = build_report(
            runs, model=str(name), paths=[str(p) for p in options.paths], trials=options.trials,
            min_pass=options.min_pass, wall_seconds=time.perf_counter() - t0, timings=timings, floors=options.floors,
        )  # fmt: skip
        report.rag = rag.model_dump(mode="json") if rag is not None else None
    finally:
        worlds.close()
        aclose = getattr(model, "aclose", None)
        if aclose is not None:
            await aclose()
    if options.json_out is not None:
        write_json(report, options.json_out)
    if options.html_out is not None:
        from evals.html import write_html

        write_html(report, options.html_out)
    return report
