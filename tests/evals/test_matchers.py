"""Matchers, table-driven: per-argument value matching with operators, tool patterns, and the four trajectory
modes (strict, unordered, subset, superset) for tool calls and routes."""

from __future__ import annotations

from typing import Any

import pytest

from evals.cases import CallSpec, RegexSpec
from evals.matchers import get_path, match_calls, match_record, match_route, match_value, text_matches, tool_matches

MISSING = get_path({}, "nothing")  # the matcher's "argument not given"


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        ("Berlin Meetup", "berlin   MEETUP", True),
        ("Berlin Meetup", "Berlin Meet-up", False),
        (25000, "25000.00", True),
        ("25000", 25000, True),
        (25000, 25001, False),
        (3, 3.0, True),
        (True, True, True),
        (True, 1, False),
        (None, None, True),
        (None, MISSING, True),
        ("x", MISSING, False),
        ({"amount": 25000}, {"amount": "25000", "currency": "USD"}, True),
        ({"amount": 25000, "currency": "EUR"}, {"amount": "25000", "currency": "USD"}, False),
        (["email", "web"], ["Email", "web"], True),
        (["email", "web"], ["web", "email"], False),
        (["email"], ["email", "web"], False),
        ({"$one_of": [2, 3]}, 3, True),
        ({"$one_of": ["CPL", "complete"]}, "complete", True),
        ({"$one_of": [2, 3]}, 1, False),
        ({"$contains": "meetup"}, "The Berlin Meetup 2027", True),
        ({"$contains": "email"}, ["email", "web"], True),
        ({"$contains": "social"}, ["email", "web"], False),
        ({"$regex": "^[0-9a-f]{32}$"}, "61629556c2f64765a1b3c78e041b31ab", True),
        ({"$regex": "^\\d+$"}, "12x", False),
        ({"$present": True}, "anything", True),
        ({"$present": True}, MISSING, False),
        ({"$present": True}, None, False),
        ({"$absent": True}, MISSING, True),
        ({"$absent": True}, "x", False),
        ({"$exact": "CPL"}, "cpl", False),
        ({"$exact": "CPL"}, "CPL", True),
        ({"$unordered": ["web", "email"]}, ["email", "web"], True),
        ({"$unordered": ["web", "email"]}, ["email", "email"], False),
        ({"$not": 50000}, "146250.03", True),
        ({"$not": 50000}, "50000.00", False),
        ({"$gte": 10}, 12, True),
        ({"$lte": 10}, "12", False),
    ],
)
def test_match_value(expected: Any, actual: Any, ok: bool) -> None:
    reason = match_value(expected, actual, "args.x")
    assert (reason is None) is ok, reason
    if reason is not None:
        assert reason.startswith("args.x")


def test_reasons_name_the_nested_path() -> None:
    reason = match_value({"budget_planned": {"amount": 25000}}, {"budget_planned": {"amount": "30000"}}, "args")
    assert reason == "args.budget_planned.amount: expected 25000, got '30000'"


def test_records_with_dotted_paths_and_lists() -> None:
    record = {"name": "X", "external_refs": {"workfront": "abc"}, "projects": [{"name": "P1"}, {"name": "P2"}]}
    assert match_record({"external_refs.workfront": {"$present": True}, "name": "x"}, record) is None
    assert match_record({"projects.name": {"$contains": "P2"}}, record) is None
    assert match_record({"external_refs.asana": {"$present": True}}, record) == "external_refs.asana: expected present"


@pytest.mark.parametrize(
    ("pattern", "server", "tool", "ok"),
    [
        ("spine.create_campaign", "spine", "create_campaign", True),
        ("create_campaign", "spine", "create_campaign", True),
        ("create_task", "asana", "create_task", True),
        ("workfront.create_task", "asana", "create_task", False),
        ("*.create_*", "workfront", "create_project", True),
        ("workfront.*", "asana", "create_task", False),
        ("@writes", "asana", "update_task", True),
        ("@writes", "spine", "resolve_approval", True),
        ("@writes", "spine", "list_campaigns", False),
        ("@writes", "knowledge", "answer_question", False),
    ],
)
def test_tool_patterns(pattern: str, server: str, tool: str, ok: bool) -> None:
    assert tool_matches(pattern, server, tool) is ok


def call(tool: str, decision: str = "allow", status: str = "ok", **args: Any) -> dict[str, Any]:
    server, name = tool.split(".")
    return {"server": server, "tool": name, "arguments": args, "decision": decision, "result_status": status}


LIST = call("spine.list_campaigns", limit=500)
CREATE = call("spine.create_campaign", "require_approval", "approval_required", name="Berlin Meetup", tier=3)
PROJECT = call("asana.create_project", name="Berlin Meetup")
S_LIST, S_CREATE, S_PROJECT = (CallSpec(tool="list_campaigns"), CallSpec(tool="spine.create_campaign",
                               args={"name": "berlin meetup"}), CallSpec(tool="asana.create_project"))  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "specs", "calls", "ok"),
    [
        ("strict", [S_LIST, S_CREATE], [LIST, CREATE], True),
        ("strict", [S_CREATE, S_LIST], [LIST, CREATE], False),
        ("strict", [S_LIST], [LIST, CREATE], False),
        ("unordered", [S_CREATE, S_LIST], [LIST, CREATE], True),
        ("unordered", [S_CREATE], [LIST, CREATE], False),
        ("superset", [S_CREATE], [LIST, CREATE, PROJECT], True),
        ("superset", [S_CREATE, S_PROJECT], [LIST, CREATE], False),
        ("superset", [S_CREATE, S_CREATE], [LIST, CREATE], False),
        ("subset", [S_LIST, S_CREATE, S_PROJECT], [LIST, CREATE], True),
        ("subset", [S_LIST], [LIST, CREATE], False),
        ("subset", [], [], True),
        ("strict", [], [LIST], False),
    ],
)
def test_call_modes(mode: str, specs: list[CallSpec], calls: list[dict[str, Any]], ok: bool) -> None:
    assert (match_calls(mode, specs, calls) is None) is ok  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "ok", "says"),
    [
        (CallSpec(tool="spine.create_campaign", args={"tier": 3}, decision="require_approval"), True, ""),
        (CallSpec(tool="spine.create_campaign", args={"tier": 2}), False, "args.tier: expected 2, got 3"),
        (CallSpec(tool="spine.create_campaign", args={"tier": {"$one_of": [1, 2]}}), False, "expected one of"),
        (CallSpec(tool="spine.create_campaign", decision="allow"), False, "decision: expected allow"),
        (CallSpec(tool="spine.create_campaign", status="ok"), False, "status: expected ok"),
        (CallSpec(tool="spine.create_campaign", args={"name": "Berlin Meetup"}, args_exact=True), False,
         "unexpected argument(s) tier"),
        (CallSpec(tool="spine.create_campaign", args={"budget": {"$absent": True}}), True, ""),
    ],
)  # fmt: skip
def test_per_argument_diagnostics(spec: CallSpec, ok: bool, says: str) -> None:
    reason = match_calls("superset", [spec], [LIST, CREATE])
    assert (reason is None) is ok, reason
    if not ok:
        assert says in (reason or ""), reason


@pytest.mark.parametrize(
    ("mode", "expected", "actual", "ok"),
    [
        ("strict", ["analytics", "production"], ["analytics", "production"], True),
        ("strict", ["production", "analytics"], ["analytics", "production"], False),
        ("unordered", ["production", "analytics"], ["analytics", "production"], True),
        ("superset", ["knowledge"], ["analytics", "knowledge"], True),
        ("subset", ["analytics", "knowledge"], ["knowledge"], True),
        ("subset", ["analytics"], ["knowledge"], False),
        ("strict", [], [], True),
    ],
)
def test_route_modes(mode: str, expected: list[str], actual: list[str], ok: bool) -> None:
    assert (match_route(mode, expected, actual) is None) is ok  # type: ignore[arg-type]


def test_reply_text_matching() -> None:
    assert text_matches("approval ID", "… approval   id: 3f2a …")
    assert not text_matches("approval id", "approvals")
    assert text_matches(RegexSpec(regex=r"ROAS \d+\.\d\dx"), "ROAS 9.62x")
