"""Suite statistics: per-split pass rates with a 95 % Wilson interval (so a change of two cases is not read as
progress), and the paraphrase figures (pass rate of the originals, of each paraphrase, and their consistency).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from math import sqrt

from pydantic import BaseModel, Field

Z95 = 1.959964  # two-sided 95 % normal quantile


def wilson(passed: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of ``passed`` successes in ``n`` trials (0..1 both; (0, 1) when n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = passed / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, round(centre - half, 4)), min(1.0, round(centre + half, 4))


class SplitStat(BaseModel):
    """Runs and passes of one split (dev, paraphrase, test), with the 95 % Wilson interval of its pass rate (over
    cases, each counted by its mean reward: the trials of one case are not independent samples)."""

    split: str
    cases: int
    runs: int
    passed: int
    pass_rate: float
    ci95: tuple[float, float]
    pass_k: float = Field(description="Share of the split's cases that passed every trial")


class ParaphraseGroup(BaseModel):
    """One original case and its paraphrases: mean rewards, and whether they all had the same outcome."""

    original: str
    reward: float | None
    paraphrases: dict[str, float]
    consistent: bool


class ParaphraseStat(BaseModel):
    """Pass rate of the originals and of each paraphrase slot; consistency = share of groups whose original and
    paraphrases all passed or all failed."""

    originals: int
    paraphrases: int
    original_pass_rate: float | None
    paraphrase_pass_rate: float | None
    paraphrase_ci95: tuple[float, float]
    by_index: dict[str, float]
    consistency: float | None
    groups: list[ParaphraseGroup]


class _Case(BaseModel):  # the fields of a CaseResult these figures read
    id: str
    split: str
    paraphrase_of: str | None
    rewards: list[float]
    passed_all: bool


def split_stats(cases: Sequence[_Case] | Sequence[BaseModel]) -> list[SplitStat]:
    """One ``SplitStat`` per split present, in the order dev, paraphrase, test."""
    by: dict[str, list[_Case]] = defaultdict(list)
    for c in cases:
        row = _Case.model_validate(c, from_attributes=True)
        by[row.split].append(row)
    out = []
    order = ("dev", "paraphrase", "test")
    for split in sorted(by, key=lambda s: order.index(s) if s in order else len(order)):
        rows = by[split]
        rewards = [r for c in rows for r in c.rewards]
        passed = sum(1 for r in rewards if r == 1)
        out.append(SplitStat(
            split=split, cases=len(rows), runs=len(rewards), passed=passed,
            pass_rate=round(sum(rewards) / len(rewards), 4) if rewards else 0.0,
            ci95=wilson(sum(sum(c.rewards) / len(c.rewards) for c in rows if c.rewards), len(rows)),
            pass_k=round(sum(1 for c in rows if c.passed_all) / len(rows), 4),
        ))  # fmt: skip
    return out


def paraphrase_stats(cases: Sequence[BaseModel]) -> ParaphraseStat | None:
    """The paraphrase figures, or None when no paraphrase ran."""
    rows = [_Case.model_validate(c, from_attributes=True) for c in cases]
    originals = {c.id: c for c in rows if c.paraphrase_of is None}
    groups: dict[str, list[_Case]] = defaultdict(list)
    for c in rows:
        if c.paraphrase_of is not None:
            groups[c.paraphrase_of].append(c)
    if not groups:
        return None

    def mean(c: _Case) -> float:
        return round(sum(c.rewards) / len(c.rewards), 4)

    out_groups, slots = [], defaultdict(list)
    for orig_id, paras in groups.items():
        orig = originals.get(orig_id)
        outcomes = {c.passed_all for c in paras} | ({orig.passed_all} if orig else set())
        out_groups.append(ParaphraseGroup(original=orig_id, reward=mean(orig) if orig else None,
                                          paraphrases={c.id: mean(c) for c in paras},
                                          consistent=len(outcomes) == 1))  # fmt: skip
        for c in paras:
            slots[c.id.rsplit("~", 1)[-1].split("@")[0]].append(mean(c))  # p1 and its benign twin p1@benign
    para_runs = [r for ps in groups.values() for c in ps for r in c.rewards]
    with_orig = [g for g in out_groups if g.reward is not None]
    passed = sum(1 for r in para_runs if r == 1)
    return ParaphraseStat(
        originals=len(out_groups), paraphrases=sum(len(p) for p in groups.values()),
        original_pass_rate=round(sum(g.reward or 0 for g in with_orig) / len(with_orig), 4) if with_orig else None,
        paraphrase_pass_rate=round(sum(para_runs) / len(para_runs), 4), paraphrase_ci95=wilson(passed, len(para_runs)),
        by_index={k: round(sum(v) / len(v), 4) for k, v in sorted(slots.items())},
        consistency=round(sum(1 for g in with_orig if g.consistent) / len(with_orig), 4) if with_orig else None,
        groups=out_groups,
    )  # fmt: skip
