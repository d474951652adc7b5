"""Report aggregation from constructed runs: pass rate, pass^k and its unbiased estimate, tags, gates, injection
metrics, the exit decision, and the JSON/HTML files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.conversation import Step
from evals.html import render_html, write_html
from evals.report import build_report, summary_text, write_json
from evals.runner import TrialResult
from evals.scoring import Outcome


def run(case: str, reward: float, *, trial: int = 0, tags: list[str] | None = None, **kw: object) -> TrialResult:
    outcomes = [] if reward == 1 else [Outcome(scope="case", name="reply_contains 'x'", ok=False, detail="<b>no</b>")]
    tags = ["t"] if tags is None else tags
    return TrialResult(case_id=case, tags=tags, trial=trial, reward=reward, utility=reward == 1,
                       outcomes=outcomes, **kw)  # type: ignore[arg-type]  # fmt: skip


def test_pass_rate_pass_k_and_estimates() -> None:
    runs = [run("a", 1, trial=0), run("a", 1, trial=1), run("b", 1, trial=0), run("b", 0, trial=1),
            run("c", 0, trial=0), run("c", 0, trial=1)]  # fmt: skip
    r = build_report(runs, model="m", paths=["x"], trials=2, min_pass=0.5)
    assert r.cases == 3 and r.runs == 6 and r.pass_rate == 0.5
    assert r.pass_k == pytest.approx(1 / 3, abs=1e-4)  # only "a" passed both trials
    assert r.pass_hat_k == {"1": 0.5, "2": pytest.approx(1 / 3, abs=1e-4)}
    assert r.ok and r.problems == []
    assert [c.passed_all for c in r.results] == [True, False, False]
    assert r.results[1].rewards == [1, 0] and r.results[1].failed[0].name == "reply_contains 'x'"


def test_gates_and_min_pass_make_the_run_fail() -> None:
    gated = run("a", 0, gates={"writes_without_approval": 1, "forbidden_tool_calls": 0, "cross_tenant_reads": 2})
    r = build_report([gated, run("b", 1)], model="m", paths=["x"], trials=1, min_pass=0.9)
    assert r.hard_gates == {"writes_without_approval": 1, "forbidden_tool_calls": 0, "cross_tenant_reads": 2,
                            "ungrounded_writes": 0}  # fmt: skip
    assert not r.ok
    assert r.problems == ["hard gate writes_without_approval: 1 (must be 0)",
                          "hard gate cross_tenant_reads: 2 (must be 0)",
                          "dev pass rate 50.0% is under --min-pass 90.0%"]  # fmt: skip


def test_tags_and_injection_metrics() -> None:
    runs = [
        run("inj", 0, tags=["injection"], variant="attack", attack_succeeded=True),
        run("inj@benign", 1, tags=["injection", "benign-twin"], variant="benign"),
        run("inj2", 1, tags=["injection"], variant="attack", attack_succeeded=False),
        run("inj2@benign", 1, tags=["injection", "benign-twin"], variant="benign"),
        run("plain", 1, tags=[]),
    ]
    r = build_report(runs, model="m", paths=["x"], trials=1)
    assert r.injection.pairs == 2 and r.injection.benign_utility == 1.0
    assert r.injection.utility_under_attack == 0.5 and r.injection.attack_success_rate == 0.5
    tags = {t.tag: (t.passed, t.runs) for t in r.by_tag}
    assert tags == {"benign-twin": (2, 2), "injection": (3, 4), "untagged": (1, 1)}


def test_json_and_html_are_written_and_escaped(tmp_path: Path) -> None:
    step = Step(kind="user", turn=0, label="turn 1", text="<script>alert(1)</script>", route=["analytics"],
                calls=[{"server": "spine", "tool": "list_campaigns", "arguments": {"limit": 500}, "decision": "allow",
                        "result_status": "ok"}], reply="Done & dusted")  # fmt: skip
    r = build_report([run("bad", 0, steps=[step]), run("good", 1)], model="m", paths=["x"], trials=1)
    data = json.loads(write_json(r, tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["results"][0]["trials"][0]["steps"][0]["calls"][0]["tool"] == "list_campaigns"
    html = write_html(r, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in html and "<script>" not in html and "&lt;b&gt;no&lt;/b&gt;" in html
    assert "Failing cases (1)" in html and "Passing cases (1)" in html and "spine.list_campaigns" in html
    assert "Done &amp; dusted" in html and 'class="bar"' in html
    assert render_html(r).count('class="case"') == 2
    text = summary_text(r)
    assert "FAIL bad" in text and "call spine.list_campaigns" in text and "reply: Done & dusted" in text


def test_min_pass_applies_to_each_split_and_splits_show_in_every_report(tmp_path: Path) -> None:
    runs = [run("a", 1, split="dev"), run("b", 1, split="dev"),
            run("a~p1", 1, split="paraphrase", paraphrase_of="a"),
            run("a~p2", 0, split="paraphrase", paraphrase_of="a"),
            run("t", 0, split="test", turns=2, tool_calls=3)]  # fmt: skip
    r = build_report(runs, model="m", paths=["x"], trials=1, min_pass=0.6)
    assert [(s.split, s.pass_rate) for s in r.splits] == [("dev", 1.0), ("paraphrase", 0.5), ("test", 0.0)]
    assert r.problems == ["paraphrase pass rate 50.0% is under --min-pass 60.0%",
                          "test pass rate 0.0% is under --min-pass 60.0%"]  # fmt: skip
    assert r.paraphrases is not None and r.paraphrases.consistency == 0.0
    t = next(c for c in r.results if c.id == "t")
    assert (t.split, t.turns, t.tool_calls) == ("test", 2, 3)
    text = summary_text(r)
    assert "paraphrase 1/2 = 50.0%  95% CI [" in text and "consistency 0.0%" in text
    assert "FAIL t [test]" in text and "2 turn(s), 3 tool call(s)" in text
    page = render_html(r)
    assert "By split" in page and "Paraphrases" in page and "a~p2" in page
    data = json.loads(write_json(r, tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["splits"][2]["ci95"] == [0.0, pytest.approx(0.7935, abs=1e-3)]


def test_a_floor_gives_one_split_its_own_bar_and_the_others_keep_min_pass() -> None:
    runs = [run("a", 1, split="dev"), run("a~p1", 1, split="paraphrase", paraphrase_of="a"),
            run("a~p2", 0, split="paraphrase", paraphrase_of="a"), run("t", 0, split="test")]  # fmt: skip
    r = build_report(runs, model="m", paths=["x"], trials=1, min_pass=0.95, floors={"paraphrase": 0.5})
    assert r.problems == ["test pass rate 0.0% is under --min-pass 95.0%"]  # the paraphrase split meets its floor
    r = build_report(runs, model="m", paths=["x"], trials=1, min_pass=0.95, floors={"paraphrase": 0.6, "test": 0.0})
    assert r.problems == ["paraphrase pass rate 50.0% is under --floor 60.0%"]
