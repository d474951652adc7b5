"""The suite report: pass rate, pass^k (tau-bench), per-tag breakdown, hard gates, injection metrics (AgentDojo:
benign utility, utility under attack, attack success rate), per-case results with failures and trajectories.

``pass_rate`` is the mean reward over every run; a case passes^k when all k of its trials pass, and ``pass_hat_k``
gives the unbiased estimate mean(C(c, j) / C(k, j)) for every j <= k (c: passing trials of the case).
"""

from __future__ import annotations

import json
from collections import defaultdict
from math import comb
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from evals.gates import GATES
from evals.runner import TrialResult
from evals.scoring import Outcome
from evals.stats import ParaphraseStat, SplitStat, paraphrase_stats, split_stats


class TagStat(BaseModel):
    """Runs and passes of one tag."""

    tag: str
    runs: int
    passed: int
    pass_rate: float


class InjectionMetrics(BaseModel):
    """AgentDojo-style: each injection case runs attacked and as its benign twin."""

    pairs: int
    benign_utility: float | None
    utility_under_attack: float | None
    attack_success_rate: float | None


class CaseResult(BaseModel):
    """One case (variant) over its trials: mean reward, the failed expectations, each trial in full."""

    id: str
    tags: list[str]
    reward: float
    rewards: list[float]
    passed_all: bool
    split: str = "dev"
    paraphrase_of: str | None = None
    turns: int = Field(default=0, description="User turns (first trial)")
    tool_calls: float = Field(default=0, description="Tool calls per trial (mean)")
    seconds: float = Field(default=0, description="Latency per trial, seconds (mean)")
    failed: list[Outcome] = Field(default_factory=list, description="Failed expectations (first failing trial)")
    trials: list[TrialResult] = Field(default_factory=list)
    usage: dict[str, int] = Field(default_factory=dict, description="Tokens of all its trials' model calls (cost)")


def _usage(trials: list[TrialResult]) -> dict[str, int]:
    total: dict[str, int] = defaultdict(int)
    for step in (s for t in trials for s in t.steps):
        for key, value in step.usage.items():
            total[key] += value
    return dict(total)


class SuiteReport(BaseModel):
    """Everything a run produced; ``--json`` writes exactly this (keys in evals/README.md)."""

    model: str
    paths: list[str]
    trials: int
    cases: int
    runs: int
    pass_rate: float
    pass_k: float
    pass_hat_k: dict[str, float]
    by_tag: list[TagStat]
    hard_gates: dict[str, int]
    injection: InjectionMetrics
    splits: list[SplitStat] = Field(default_factory=list, description="Per split: pass rate with 95 % Wilson CI")
    paraphrases: ParaphraseStat | None = None
    min_pass: float | None = None
    ok: bool = True
    problems: list[str] = Field(default_factory=list, description="Why the run fails (exit code 1)")
    wall_seconds: float = 0.0
    timings: dict[str, float] = Field(default_factory=dict)
    rag: dict[str, Any] | None = None
    results: list[CaseResult]


def _ratio(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def build_report(
    runs: list[TrialResult], *, model: str, paths: list[str], trials: int, min_pass: float | None = None,
    wall_seconds: float = 0.0, timings: dict[str, float] | None = None, floors: dict[str, float] | None = None,
) -> SuiteReport:  # fmt: skip
    """Aggregate the runs of a suite."""
    by_case: dict[str, list[TrialResult]] = defaultdict(list)
    for r in runs:
        by_case[r.case_id].append(r)
    results = []
    for cid, rs in by_case.items():
        rewards = [r.reward for r in rs]
        first_bad = next((r for r in rs if r.reward < 1), None)
        results.append(CaseResult(id=cid, tags=rs[0].tags, reward=round(sum(rewards) / len(rewards), 4),
                                  rewards=rewards, passed_all=all(x == 1 for x in rewards), split=rs[0].split,
                                  paraphrase_of=rs[0].paraphrase_of, turns=rs[0].turns,
                                  tool_calls=round(sum(r.tool_calls for r in rs) / len(rs), 2),
                                  seconds=round(sum(r.seconds for r in rs) / len(rs), 3),
                                  failed=first_bad.failed if first_bad else [], trials=rs,
                                  usage=_usage(rs)))  # fmt: skip
    k = max(trials, 1)
    pass_hat = {
        str(j): round(sum(comb(sum(1 for x in c.rewards if x == 1), j) / comb(len(c.rewards), j)
                          for c in results) / max(len(results), 1), 4)
        for j in range(1, k + 1)
    }  # fmt: skip
    tags: dict[str, list[float]] = defaultdict(list)
    for r in runs:
        for t in r.tags or ["untagged"]:
            tags[t].append(r.reward)
    by_tag = [TagStat(tag=t, runs=len(v), passed=sum(1 for x in v if x == 1), pass_rate=round(sum(v) / len(v), 4))
              for t, v in sorted(tags.items())]  # fmt: skip
    gates = {g: sum(r.gates.get(g, 0) for r in runs) for g in GATES}
    attacked = [r for r in runs if r.variant == "attack"]
    benign = [r for r in runs if r.variant == "benign"]
    injection = InjectionMetrics(
        pairs=len({r.case_id for r in attacked}),
        benign_utility=_ratio([float(r.utility) for r in benign]),
        utility_under_attack=_ratio([float(r.utility) for r in attacked]),
        attack_success_rate=_ratio([float(bool(r.attack_succeeded)) for r in attacked]),
    )
    pass_rate = round(sum(r.reward for r in runs) / len(runs), 4) if runs else 0.0
    report = SuiteReport(
        model=model, paths=paths, trials=k, cases=len(results), runs=len(runs), pass_rate=pass_rate,
        pass_k=round(sum(1 for c in results if c.passed_all) / max(len(results), 1), 4), pass_hat_k=pass_hat,
        by_tag=by_tag, hard_gates=gates, injection=injection, min_pass=min_pass, wall_seconds=round(wall_seconds, 1),
        timings={k2: round(v, 2) for k2, v in (timings or {}).items()}, results=results,
        splits=split_stats(results), paraphrases=paraphrase_stats(results),
    )  # fmt: skip
    report.problems = [f"hard gate {g}: {n} (must be 0)" for g, n in gates.items() if n]
    if not runs:
        report.problems.append("no case ran")
    for st in report.splits:  # every split must reach its bar, not just their mean
        bar, name = ((floors or {})[st.split], "--floor") if st.split in (floors or {}) else (min_pass, "--min-pass")
        if bar is not None and st.pass_rate < bar:
            report.problems.append(f"{st.split} pass rate {st.pass_rate:.1%} is under {name} {bar:.1%}")
    report.ok = not report.problems
    return report


def write_json(report: SuiteReport, path: Path) -> Path:
    """The report as JSON (every key documented in evals/README.md)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def trajectory_text(trial: TrialResult, width: int = 160) -> list[str]:
    """A readable trajectory: each step, its route, calls with decisions and outcomes, and the reply."""
    lines: list[str] = []
    for s in trial.steps:
        lines.append(f"  [{s.label}] {s.text}")
        if s.route:
            lines.append(f"      route: {' → '.join(s.route)}")
        for c in s.calls:
            args = json.dumps(c.get("arguments") or {}, ensure_ascii=False, default=str)
            args = args if len(args) <= 100 else args[:99] + "…"
            lines.append(f"      call {c['server']}.{c['tool']} {args} → {c.get('decision')}/{c.get('result_status')}")
        if s.error:
            lines.append(f"      {'error' if not s.ok else 'note'}: {s.error[:width]}")
        if s.reply:
            reply = " ".join(s.reply.split())
            lines.append(f"      reply: {reply[:width] + ('…' if len(reply) > width else '')}")
    return lines


def summary_text(report: SuiteReport, verbose: bool = False) -> str:
    """The terminal summary: headline numbers, tags, gates, injection metrics, each failure with its trajectory."""
    out = [
        f"model {report.model}: {report.cases} cases, {report.runs} runs ({report.trials} trial(s) each), "
        f"{report.wall_seconds:.1f} s",
        f"pass rate {report.pass_rate:.1%}   pass^{report.trials} {report.pass_k:.1%}",
        *(f"  {s.split:<10} {s.passed}/{s.runs} = {s.pass_rate:.1%}  95% CI [{s.ci95[0]:.1%}, {s.ci95[1]:.1%}]  "
          f"pass^{report.trials} {s.pass_k:.1%}" for s in report.splits),
        "hard gates: " + ", ".join(f"{g} {n}" for g, n in report.hard_gates.items()),
    ]  # fmt: skip
    para = report.paraphrases
    if para is not None:
        slots = ", ".join(f"{k} {v:.1%}" for k, v in para.by_index.items())
        orig = "n/a" if para.original_pass_rate is None else f"{para.original_pass_rate:.1%}"
        cons = "n/a" if para.consistency is None else f"{para.consistency:.1%}"
        out.append(f"paraphrases ({para.paraphrases} of {para.originals} cases): originals {orig}, paraphrases "
                   f"{para.paraphrase_pass_rate:.1%} ({slots}), consistency {cons}")  # fmt: skip
    inj = report.injection
    if inj.pairs:
        out.append(f"injection ({inj.pairs} pairs): benign utility {inj.benign_utility:.1%}, utility under attack "
                   f"{inj.utility_under_attack:.1%}, attack success rate {inj.attack_success_rate:.1%}")  # fmt: skip
    out.append("by tag: " + ", ".join(f"{t.tag} {t.passed}/{t.runs}" for t in report.by_tag))
    if report.rag:
        rows = {m["mode"]: m for m in report.rag.get("modes", [])}
        h = rows.get("hybrid", {})
        out.append(f"retrieval (hybrid): section recall@5 {h.get('section_recall_at_5')}, MRR@10 {h.get('mrr_at_10')}, "
                   f"unanswerable detection {report.rag.get('unanswerable_detection_rate')}")  # fmt: skip
    failing = [c for c in report.results if not c.passed_all]
    for c in failing:
        out.append(f"\nFAIL {c.id} [{c.split}] (reward {c.reward:.2f}; tags {', '.join(c.tags) or '-'}; "
                   f"{c.turns} turn(s), {c.tool_calls:g} tool call(s), {c.seconds:.1f} s)")  # fmt: skip
        for o in c.failed:
            out.append(f"  ✗ [{o.scope}] {o.name}: {o.detail}")
        trial = next((t for t in c.trials if t.reward < 1), c.trials[0])
        out.extend(trajectory_text(trial))
        out.extend(f"  ! {v}" for v in trial.violations)
    if verbose:
        out.append("")
        out.extend(f"ok   {c.id}" for c in report.results if c.passed_all)
    out.append("")
    out.append("PASSED" if report.ok else "FAILED: " + "; ".join(report.problems))
    return "\n".join(out)
