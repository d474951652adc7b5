"""Case-file rules that keep a case honest: an expected error names itself, route failures say so, YAML dates
validate the same way against the JSON Schema and the case models."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from evals.case_files import SCHEMA_PATH, CaseFileError, load_file, parse_case
from evals.matchers import match_route

BASE = {"id": "c1", "principal": {"user": "maya.chen"}}


def test_an_action_expected_to_fail_must_say_which_error() -> None:
    bare = {**BASE, "turns": [{"user": "x", "actions": [{"approve": {"by": "a"}, "outcome": "error"}]}]}
    with pytest.raises(CaseFileError, match=r"turns\[0\]\.actions\[0\]: .*error_contains"):
        parse_case(bare)
    named = {**BASE, "turns": [{"user": "x", "actions": [{"approve": {"by": "a"}, "outcome": "error",
                                                          "error_contains": "approver_not_in_group"}]}]}  # fmt: skip
    assert parse_case(named).turns[0].actions[0].error_contains == "approver_not_in_group"


def test_a_route_mismatch_is_worded_as_one() -> None:
    reason = match_route("superset", ["strategy"], ["analytics", "knowledge"])
    assert reason == "route mismatch (superset): expected [strategy], routed to [analytics, knowledge]"
    assert "no agent" in (match_route("strict", ["analytics"], []) or "") and "call" not in (reason or "")


@pytest.mark.parametrize(("launch", "valid"), [("2027-01-15", True), ("2027-13-45", False), ("'2027-01-15'", True)])
def test_unquoted_yaml_dates_are_text_to_schema_and_runner_alike(tmp_path: Path, launch: str, valid: bool) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(
        "id: c1\nprincipal: {user: maya.chen}\nturns: [hi]\n"
        f"world:\n  add:\n    campaigns:\n      - {{name: X, launch: {launch}}}\n",
        encoding="utf-8",
    )
    import yaml

    from evals.case_files import _DatesAsText

    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_DatesAsText)  # what an editor's validator sees
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.validate(raw, schema)  # a date is a string to the schema, valid or not
    if valid:
        assert str(load_file(path)[0].world.add.campaigns[0].launch) == "2027-01-15"  # type: ignore[union-attr]
    else:
        with pytest.raises(CaseFileError, match=r"world\.add\.campaigns\[0\]\.launch"):
            load_file(path)
