"""Case files: parsing, shorthands, errors that name the file, case and field, the generated JSON Schema, and the
shipped suite (size, categories, every case valid against the schema)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from evals.case_files import SCHEMA_PATH, CaseFileError, case_json_schema, load_cases, parse_case
from evals.cases import RouteExpect, ToolCallsExpect

CASES_DIR = Path(__file__).resolve().parents[2] / "evals" / "cases"
GAPS_DIR = Path(__file__).resolve().parents[2] / "evals" / "known_gaps"
MINIMAL: dict[str, Any] = {"id": "c1", "principal": {"user": "maya.chen"}, "turns": ["hi"]}


def case(**changes: Any) -> dict[str, Any]:
    return {**MINIMAL, **changes}


def test_shorthands_expand() -> None:
    c = parse_case(case(world="demo", turns=["one", {"user": "two", "actions": [{"approve": {"by": "dana.reyes"}}]}],
                        expect={"route": ["analytics"], "tool_calls": [{"tool": "spine.list_campaigns"}]}))  # fmt: skip
    assert c.world.fixture == "demo" and [t.user for t in c.turns] == ["one", "two"]
    assert c.turns[1].actions[0].kind == "approve" and c.turns[1].actions[0].approve.approval == "last"  # type: ignore[union-attr]
    assert isinstance(c.expect.route, RouteExpect) and c.expect.route.mode == "strict"
    assert isinstance(c.expect.tool_calls, ToolCallsExpect) and c.expect.tool_calls.mode == "superset"
    budget = parse_case(case(world={"add": {"campaigns": [{"name": "X", "budget": 5000}]}})).world.add.campaigns[0]
    assert budget.budget is not None and budget.budget.currency == "USD" and budget.budget.amount == 5000


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"principal": {}}, "principal.user", "Field required"),
        ({"turns": []}, "turns", "at least 1"),
        ({"id": "Bad Id"}, "id", "pattern"),
        ({"expect": {"routes": ["analytics"]}}, "expect.routes", "unknown field"),
        ({"expect": {"route": ["analytic"]}}, "expect.route[0]", "'strategy', 'production'"),
        ({"expect": {"tool_calls": {"mode": "exact", "calls": []}}}, "expect.tool_calls.mode", "'strict'"),
        ({"expect": {"policy": [{"decision": "maybe"}]}}, "expect.policy[0].decision", "'allow'"),
        ({"expect": {"policy": [{"decision": "deny", "rule": "x", "source": "calls"}]}}, "expect.policy[0]", "audit"),
        ({"expect": {"state": [{"source": "spine.campaign"}]}}, "expect.state[0].source", "spine.campaigns"),
        ({"expect": {"reply_contains": [{"regexp": "x"}]}}, "expect.reply_contains[0].regexp", "unknown field"),
        ({"world": {"add": {"campaigns": [{"name": "X", "launch": "soon"}]}}}, "world.add.campaigns[0].launch",
         "'today', '+30d'"),
        ({"turns": [{"user": "x", "actions": [{"approve": {"by": "a"}, "reject": {"by": "b"}}]}]},
         "turns[0].actions[0]", "exactly one of"),
        ({"turns": [{"user": "x", "actions": [{"approve": {"by": "a", "note": False}}]}]},
         "turns[0].actions[0].approve.note", "valid string"),
        ({"attack": {"goal": "g", "payload": "p", "succeeded_when": {"waiting": True}}}, "attack",
         "{{attack}}"),
    ],
)  # fmt: skip
def test_errors_name_the_field_and_the_case(changes: dict[str, Any], field: str, says: str) -> None:
    with pytest.raises(CaseFileError) as err:
        parse_case(case(**changes), "suite.yaml: case 'c1' (#1)")
    message = str(err.value)
    assert message.startswith("suite.yaml: case 'c1' (#1): ")
    assert f"{field}:" in message and says in message, message


def test_attack_needs_a_goal_condition() -> None:
    bad = case(world={"add": {"documents": [{"name": "a.md", "text": "{{attack}}"}]}},
               attack={"goal": "g", "payload": "p", "succeeded_when": {}})  # fmt: skip
    with pytest.raises(CaseFileError, match="succeeded_when"):
        parse_case(bad)


def test_files_directories_and_duplicate_ids(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text(yaml.safe_dump(MINIMAL), encoding="utf-8")
    (tmp_path / "two.yaml").write_text(yaml.safe_dump([case(id="c2"), case(id="c3")]), encoding="utf-8")
    assert [c.id for c in load_cases([tmp_path])] == ["c1", "c2", "c3"]
    (tmp_path / "three.yaml").write_text(yaml.safe_dump([case(id="c2")]), encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"two\.yaml: case id 'c2' is also used in .*three\.yaml"):
        load_cases([tmp_path])
    (tmp_path / "bad.yaml").write_text("- id: [unclosed", encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"bad\.yaml: not valid YAML"):
        load_cases([tmp_path / "bad.yaml"])
    with pytest.raises(CaseFileError, match="no such file"):
        load_cases([tmp_path / "missing.yaml"])
    with pytest.raises(CaseFileError, match=r"case 'x' \(#1\): principal"):
        load_cases([_write(tmp_path / "x.yaml", [{"id": "x", "turns": ["hi"]}])])


def _write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_shipped_schema_is_current() -> None:
    shipped = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert shipped == json.loads(json.dumps(case_json_schema(), sort_keys=True)), (
        "evals/case.schema.json is stale: run `mcc eval schema --out evals/case.schema.json`"
    )


def test_schema_accepts_every_shipped_case_and_rejects_a_bad_one() -> None:
    validator = jsonschema.Draft202012Validator(case_json_schema())
    for path in [*sorted(CASES_DIR.glob("*.yaml")), *sorted(GAPS_DIR.glob("*.yaml"))]:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))]
        assert not errors, f"{path.name}: {errors[:2]}"
    assert validator.is_valid(MINIMAL) and validator.is_valid([MINIMAL, case(id="c2")])
    assert not validator.is_valid(case(expect={"tool_calls": {"mode": "exact", "calls": []}}))
    assert not validator.is_valid([case(principal={})])


def test_shipped_suite_covers_every_area() -> None:
    cases = load_cases([CASES_DIR])
    assert len(cases) >= 60
    tags = {t for c in cases for t in c.tags}
    wanted = {"strategy", "production", "analytics", "knowledge", "multi-domain", "approvals", "self-approval",
              "field-authority", "readonly", "pii", "tenant-isolation", "clarifying", "injection"}  # fmt: skip
    assert wanted <= tags, wanted - tags
    actions = {a.kind for c in cases for t in c.turns for a in t.actions}
    assert {"approve", "reject", "expire", "external_change"} <= actions
    assert sum(1 for c in cases if c.attack is not None) >= 4
