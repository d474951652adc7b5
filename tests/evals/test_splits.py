"""Suite splits: dev at the top of a suite directory, paraphrases/ derived from the dev cases, frozen test/; the
--split selection, and errors naming the file and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from evals.case_files import CaseFileError
from evals.splits import load_suite

CASES_DIR = Path(__file__).resolve().parents[2] / "evals" / "cases"


def _case(cid: str, turns: list[Any]) -> dict[str, Any]:
    return {"id": cid, "principal": {"user": "maya.chen"}, "turns": turns,
            "expect": {"forbidden_tools": ["@writes"], "reply_contains": ["x"]}}  # fmt: skip


def _write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    _write(tmp_path / "a.yaml", [_case("one", ["hello"]), _case("two", ["first", {"user": "second"}])])
    _write(tmp_path / "paraphrases" / "a.yaml", {"one": ["hi there", "good morning"], "two": [["1st", "2nd"]]})
    _write(tmp_path / "test" / "t.yaml", [_case("frozen", ["new words"])])
    return tmp_path


def test_dev_selection_is_cases_plus_paraphrases_with_the_originals_expectations(suite: Path) -> None:
    cases = load_suite([suite], "dev")
    assert [(c.id, c.split, c.paraphrase_of) for c in cases] == [
        ("one", "dev", None), ("two", "dev", None), ("one~p1", "paraphrase", "one"), ("one~p2", "paraphrase", "one"),
        ("two~p1", "paraphrase", "two"),
    ]  # fmt: skip
    p = {c.id: c for c in cases}
    assert [t.user for t in p["two~p1"].turns] == ["1st", "2nd"]
    assert p["one~p2"].expect == p["one"].expect and "paraphrase" in p["one~p2"].tags
    assert [t.user for t in p["one"].turns] == ["hello"]  # the original is untouched


def test_test_and_all_selections(suite: Path) -> None:
    assert [(c.id, c.split) for c in load_suite([suite], "test")] == [("frozen", "test")]
    assert {c.split for c in load_suite([suite], "all")} == {"dev", "paraphrase", "test"}
    assert [c.split for c in load_suite([suite / "test"], "dev")] == ["test"]  # the folder decides, not the flag
    assert [c.split for c in load_suite([suite / "test" / "t.yaml"])] == ["test"]


@pytest.mark.parametrize(
    ("paraphrases", "says"),
    [
        ({"nope": ["x"]}, "'nope' is not a case id"),
        ({"two": ["only one turn"]}, "1 turn(s), but the case has 2"),
        ({"one": []}, "give a list of rewordings"),
        ({"one": [""]}, "non-empty string"),
        (["one"], "maps case ids"),
    ],
)
def test_bad_paraphrase_files_name_the_problem(suite: Path, paraphrases: Any, says: str) -> None:
    _write(suite / "paraphrases" / "a.yaml", paraphrases)
    with pytest.raises(CaseFileError, match=r"paraphrases/a\.yaml") as err:
        load_suite([suite])
    assert says in str(err.value)


def test_split_fields_are_not_written_in_case_files(suite: Path) -> None:
    _write(suite / "b.yaml", [{**_case("three", ["x"]), "split": "test"}])
    with pytest.raises(CaseFileError, match="split: set by the folder"):
        load_suite([suite])
    with pytest.raises(CaseFileError, match="pass the suite directory"):
        load_suite([suite / "paraphrases"])
    with pytest.raises(ValueError, match="unknown split"):
        load_suite([suite], "holdout")


def test_shipped_suite_has_two_paraphrases_per_case_and_a_frozen_test_split() -> None:
    cases = load_suite([CASES_DIR], "all")
    dev = [c for c in cases if c.split == "dev"]
    per_original = {c.id: 0 for c in dev}
    for c in cases:
        if c.paraphrase_of:
            per_original[c.paraphrase_of] += 1
    assert min(per_original.values()) >= 2, [k for k, v in per_original.items() if v < 2]
    test = [c for c in cases if c.split == "test"]
    assert len(test) >= 30
    for path in sorted((CASES_DIR / "test").glob("*.yaml")):
        assert "frozen: written" in path.read_text(encoding="utf-8").splitlines()[1], path.name
