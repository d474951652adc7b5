"""The graph-model contract: the route tool's direct reply, output budgets, cut-off calls, the work-routing rule."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from agents.models import ModelResponse, TextBlock, ToolUseBlock
from agents.protocol import (
    DEFAULT_WORK_ROUTING,
    ROUTE_TOOL,
    WORK_ROUTING_KEY,
    RouteDecision,
    cut_tool_results,
    max_tokens_for,
    work_routing_rule,
)
from tests.wire.anthropic_server import MAX_OUTPUT_TOKENS


def test_route_takes_parts_or_a_direct_reply_never_neither() -> None:
    routed = RouteDecision.model_validate({"parts": [{"agent": "analytics", "request": "spend by campaign"}]})
    assert routed.direct_reply is None and routed.parts[0].agent == "analytics"
    direct = RouteDecision.model_validate({"parts": [], "reply": "Hi! I can help with campaigns."})
    assert direct.direct_reply == "Hi! I can help with campaigns."
    assert RouteDecision.model_validate({"reply": "Hello"}).direct_reply == "Hello"
    for bad in ({"parts": []}, {"reply": "   "}, {}, {"parts": [{"agent": "hr", "request": "x"}]}):
        with pytest.raises(ValidationError):
            RouteDecision.model_validate(bad)
    with pytest.raises(ValidationError):
        RouteDecision.model_validate({"parts": [{"agent": "analytics", "request": "x"}] * 5})


def test_the_route_tool_offers_the_reply_in_a_lean_schema() -> None:
    schema = ROUTE_TOOL.input_schema
    assert set(schema["properties"]) == {"parts", "reply"} and "required" not in schema
    assert schema["properties"]["reply"] == {"maxLength": 4000, "type": "string"}
    assert '"title"' not in json.dumps(schema)
    assert "no parts" in ROUTE_TOOL.description and "reply" in ROUTE_TOOL.description


def test_output_budgets_per_role_fit_every_model() -> None:
    assert max_tokens_for("supervisor") < max_tokens_for("synthesiser") < max_tokens_for("agent", "analytics")
    assert max_tokens_for("agent", "strategy") > max_tokens_for("agent", "production")  # long drafts
    assert all(max_tokens_for(r, a) <= MAX_OUTPUT_TOKENS for r, a in [("agent", "strategy"), ("agent", None)])


def test_every_call_of_a_cut_step_is_answered_with_an_error_and_none_runs() -> None:
    response = ModelResponse(
        content=[
            TextBlock(text="Drafting both."),
            ToolUseBlock(id="a", name="spine__draft_strategy", input={"campaign_id": "c"}),
            ToolUseBlock(id="b", name="spine__draft_strategy", input={"campaign_id": "c", "sections": [{"t": "x"}]}),
        ],
        stop_reason="max_tokens",
    )
    assert response.cut_off
    results = cut_tool_results(response)
    assert [r.tool_use_id for r in results] == ["a", "b"] and all(r.is_error for r in results)
    assert "this call was cut off" in results[1].content and "shorter" in results[1].content
    assert "after this call" in results[0].content


def test_work_routing_rule_default_and_from_metadata() -> None:
    default = work_routing_rule({})
    assert DEFAULT_WORK_ROUTING == {"event": "asana", "*": "workfront"}
    assert "event campaigns go to Asana" in default and "every other campaign type goes to Workfront" in default
    custom = work_routing_rule({WORK_ROUTING_KEY: {"event": "asana", "partner": "asana", "*": "workfront"}})
    assert "partner campaigns go to Asana" in custom
    assert work_routing_rule({WORK_ROUTING_KEY: "garbage"}) == default
