"""Engine behaviour beyond the table: approvals, LOG_ONLY, fail-closed, rate limits, redaction, responses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from policies import PolicyEngine, RateRule, ToolCall
from policies.engine import DEFAULT_APPROVAL_GROUPS
from policies.loader import load_policies
from tests.policies.conftest import FX, principal

BIG = ToolCall("spine", "create_campaign", {"name": "c", "budget_planned": {"amount": "250000", "currency": "USD"}})


def test_require_approval_lists_both_rules_and_vp_is_required(engine: PolicyEngine) -> None:
    d = engine.decide(principal("campaign-managers"), BIG)
    assert d.effect == "require_approval"
    assert d.required_group == "vp"
    assert set(d.rule_ids) == {"budget.leadership_approval", "budget.vp_approval"}
    assert "250,000.00" in d.message()


def test_leadership_approval_lifts_only_its_own_rule(engine: PolicyEngine) -> None:
    d = engine.decide(principal("campaign-managers"), BIG, approved_group="marketing-leadership")
    assert d.effect == "require_approval" and d.rule_ids == ("budget.vp_approval",)
    assert engine.decide(principal("campaign-managers"), BIG, approved_group="vp").effect == "allow"


def test_approval_never_lifts_a_hard_rule(engine: PolicyEngine) -> None:
    call = ToolCall(
        "spine",
        "update_campaign",
        {"campaign_id": "c", "changes": {"status": "live", "budget_planned": {"amount": "500000", "currency": "USD"}}},
    )
    d = engine.decide(principal("marketing-leadership"), call, approved_group="vp")
    assert d.effect == "deny" and d.rule_ids == ("authority.execution",)
    assert "campaign.status is owned by the execution system" in d.message()
    d2 = engine.decide(principal("marketing-leadership"), call)
    assert d2.effect == "deny"  # a hard forbid plus approval rules is a deny, not an approval request
    assert d2.rule_ids[0] == "authority.execution"


def test_vp_user_inherits_leadership_permits(engine: PolicyEngine) -> None:
    d = engine.decide(principal("vp"), ToolCall("spine", "approve_strategy", {"strategy_id": "s"}))
    assert d.effect == "allow" and d.rule_ids == ("permit.marketing_leadership",)


def test_log_only_allows_but_records_the_enforce_decision() -> None:
    eng = PolicyEngine.from_directory(fx_rates=FX, mode="log_only", rate_rules=())
    d = eng.decide(principal("readonly-users"), BIG)
    assert d.effect == "allow" and d.mode == "log_only"
    assert d.would_have is not None and d.would_have.effect == "deny"
    assert "role.readonly_no_write" in d.would_have.rule_ids
    ok = eng.decide(principal("readonly-users"), ToolCall("spine", "get_campaign", {"campaign_id": "c"}))
    assert ok.effect == "allow" and ok.would_have is not None and ok.would_have.effect == "allow"


class _Boom(dict):  # arguments whose iteration explodes inside the engine
    def items(self) -> Any:
        raise RuntimeError("kaboom")

    def get(self, *a: Any) -> Any:
        raise RuntimeError("kaboom")


def test_engine_exception_is_a_deny(engine: PolicyEngine) -> None:
    d = engine.decide(principal("marketing-leadership"), ToolCall("asana", "create_task", _Boom(name="x")))
    assert d.effect == "deny" and d.rule_ids == ("engine.error",)
    assert "kaboom" in d.message()


def test_engine_error_also_denies_in_log_only() -> None:
    eng = PolicyEngine.from_directory(fx_rates=FX, mode="log_only", rate_rules=())
    d = eng.decide(principal("marketing-leadership"), ToolCall("asana", "create_task", _Boom(name="x")))
    assert d.effect == "deny" and d.rule_ids == ("engine.error",)


def test_too_deep_arguments_are_denied(engine: PolicyEngine) -> None:
    nested: Any = "x"
    for _ in range(60):
        nested = {"a": nested}
    d = engine.decide(principal("marketing-leadership"), ToolCall("asana", "create_task", {"n": nested}))
    assert d.effect == "deny" and d.rule_ids == ("pii.unscannable",)


def test_redaction_returns_masked_arguments(engine: PolicyEngine) -> None:
    args = {"task_gid": "1204567890123456", "text": "mail ann@corp.com or +44 20 7946 0958"}
    d = engine.decide(principal("event-marketers"), ToolCall("asana", "add_comment", args))
    assert d.effect == "allow"
    assert d.redacted_arguments == {"task_gid": "1204567890123456", "text": "mail [REDACTED:email] or [REDACTED:phone]"}
    assert {h.kind for h in d.redactions} == {"email", "phone"}
    assert args["text"].startswith("mail ann@")  # the caller's arguments are untouched


def test_pii_denial_names_json_path(engine: PolicyEngine) -> None:
    args = {"name": "t", "notes": {"blocks": [{"text": "ok"}, {"text": "card 4111-1111-1111-1111"}]}}
    d = engine.decide(principal("campaign-managers"), ToolCall("workfront", "create_task", args))
    assert d.effect == "deny" and "$.notes.blocks[1].text" in d.message()
    assert "4111" not in d.message()


def test_unknown_currency_message_names_it(engine: PolicyEngine) -> None:
    call = ToolCall("spine", "create_campaign", {"name": "c", "budget_planned": {"amount": "1", "currency": "CHF"}})
    d = engine.decide(principal("campaign-managers"), call)
    assert d.effect == "deny" and "CHF" in d.message()


def test_rate_limits_per_system_and_principal() -> None:
    rules = (RateRule("salesforce", "system", 50), RateRule("salesforce", "principal", 3))
    eng = PolicyEngine.from_directory(fx_rates=FX, rate_rules=rules)
    call = ToolCall("salesforce", "get_campaign", {"id": "701"})
    alice, bob = principal("readonly-users", user="alice"), principal("readonly-users", user="bob")
    assert [eng.decide(alice, call, now=1000.0).effect for _ in range(3)] == ["allow"] * 3
    d = eng.decide(alice, call, now=1000.0)
    assert d.effect == "deny" and d.rule_ids == ("ratelimit.exceeded",)
    assert d.retry_after_s == pytest.approx(20.0)
    assert eng.decide(bob, call, now=1000.0).effect == "allow"  # per principal
    assert eng.decide(alice, call, now=1020.0).effect == "allow"  # window slides


def test_default_rate_limit_workfront_100_per_minute() -> None:
    eng = PolicyEngine.from_directory(fx_rates=FX)
    call = ToolCall("workfront", "get_project", {"project_id": "0" * 32})
    p = principal("readonly-users")
    effects = [eng.decide(p, call, now=50.0).effect for _ in range(101)]
    assert effects.count("allow") == 100 and effects[-1] == "deny"
    # Denied and approval-pending calls do not consume the allowance; spine calls are not limited.
    assert eng.decide(p, ToolCall("spine", "get_campaign", {"campaign_id": "c"}), now=50.0).effect == "allow"


def test_response_with_card_or_ssn_is_masked_and_the_rest_kept(engine: PolicyEngine) -> None:
    call = ToolCall("asana", "get_task", {"task_gid": "1"})
    answer = {"data": {"notes": "SSN 219-09-9999, card 4111 1111 1111 1111", "gid": "1204567890123456"}}
    d = engine.check_response(call, answer)
    assert d.rule_id == "pii.response_redacted" and not d.withheld
    assert d.value == {"data": {"notes": "SSN [REDACTED:ssn], card [REDACTED:card]", "gid": "1204567890123456"}}
    assert [h.kind for h in d.hits] == ["ssn", "card"] and "219-09" not in d.message
    assert answer["data"]["notes"].startswith("SSN 219-09-9999")  # the handler's own value is not mutated
    clean = engine.check_response(call, {"data": {"notes": "mail ann@corp.com"}})
    assert clean.rule_id == "" and clean.value == {"data": {"notes": "mail ann@corp.com"}}


def test_an_unscannable_response_is_withheld_and_log_only_shows_the_original() -> None:
    deep: dict[str, object] = {}
    cur = deep
    for _ in range(40):
        cur["x"] = {}
        cur = cur["x"]  # type: ignore[assignment]
    eng = PolicyEngine.from_directory(fx_rates=FX, rate_rules=())
    d = eng.check_response(ToolCall("spine", "get_campaign", {}), deep)
    assert d.withheld and d.shown is None and d.rule_id == "pii.response_unscannable"
    lo = PolicyEngine.from_directory(fx_rates=FX, mode="log_only", rate_rules=())
    answer = {"notes": "SSN 219-09-9999"}
    d2 = lo.check_response(ToolCall("spine", "get_campaign", {}), answer)
    assert d2.rule_id == "pii.response_redacted" and d2.shown == answer and not d2.withheld


def test_fx_rates_must_be_positive() -> None:
    loaded = load_policies(approval_groups=DEFAULT_APPROVAL_GROUPS)
    with pytest.raises(ValueError, match="EUR"):
        PolicyEngine(loaded, fx_rates={"EUR": Decimal("0")})
    with pytest.raises(ValueError, match="mode"):
        PolicyEngine(loaded, mode="audit")  # type: ignore[arg-type]


def test_a_default_deny_names_the_groups_the_policy_lets_make_the_call(engine: PolicyEngine) -> None:
    d = engine.decide(principal("campaign-managers"), ToolCall("spine", "approve_strategy", {"strategy_id": "s"}))
    assert d.effect == "deny" and d.rule_ids == ("default.deny",)
    assert d.message().endswith("groups that may: marketing-leadership, vp")
    nobody = engine.decide(principal("production-team"), ToolCall("spine", "no_such_tool", {}))
    assert nobody.effect == "deny" and "groups that may" not in nobody.message()  # no group may: none named


def test_the_loaded_policies_know_the_groups_they_mention() -> None:
    loaded = load_policies(approval_groups=DEFAULT_APPROVAL_GROUPS)
    assert {"campaign-managers", "marketing-leadership", "readonly-users"} <= set(loaded.groups)
