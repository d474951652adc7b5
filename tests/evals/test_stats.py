"""Suite statistics: the Wilson interval, per-split figures, and paraphrase pass rates and consistency."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from evals.stats import paraphrase_stats, split_stats, wilson


def test_wilson_interval_matches_known_values() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    lo, hi = wilson(81, 85)  # 95.3 %: the interval is wide enough that two cases do not move it much
    assert lo == pytest.approx(0.8852, abs=1e-3) and hi == pytest.approx(0.9815, abs=1e-3)
    assert wilson(10, 10)[1] == 1.0 and wilson(10, 10)[0] == pytest.approx(0.7225, abs=1e-3)
    assert wilson(0, 10)[0] == 0.0


def _case(cid: str, rewards: list[float], split: str = "dev", of: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(id=cid, split=split, paraphrase_of=of, rewards=rewards,
                           passed_all=all(r == 1 for r in rewards))  # fmt: skip


def test_split_stats_per_split_in_order() -> None:
    cases = [_case("t1", [0], "test"), _case("a", [1, 1]), _case("b", [1, 0]), _case("a~p1", [1], "paraphrase", "a")]
    stats = split_stats(cases)  # type: ignore[arg-type]
    assert [s.split for s in stats] == ["dev", "paraphrase", "test"]
    dev = stats[0]
    assert (dev.cases, dev.runs, dev.passed, dev.pass_rate, dev.pass_k) == (2, 4, 3, 0.75, 0.5)
    assert dev.ci95 == wilson(1.5, 2)  # over cases: trials of one case are not independent


def test_paraphrase_pass_rates_and_consistency() -> None:
    cases = [
        _case("a", [1]), _case("a~p1", [1], "paraphrase", "a"), _case("a~p2", [0], "paraphrase", "a"),
        _case("b", [1]), _case("b~p1", [1], "paraphrase", "b"), _case("b~p2", [1], "paraphrase", "b"),
    ]  # fmt: skip
    p = paraphrase_stats(cases)  # type: ignore[arg-type]
    assert p is not None
    assert (p.originals, p.paraphrases, p.original_pass_rate, p.paraphrase_pass_rate) == (2, 4, 1.0, 0.75)
    assert p.by_index == {"p1": 1.0, "p2": 0.5}
    assert p.consistency == 0.5
    assert [g.original for g in p.groups if not g.consistent] == ["a"]
    assert paraphrase_stats([_case("a", [1])]) is None  # type: ignore[list-item]
