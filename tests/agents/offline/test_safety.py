"""Write safety and the requests marketers make: negation, junk names, optional fields, proposals before writes,
the work-routing rule, budget changes, delete requests (fast: hashing encoder; attacks on the write path)."""

from __future__ import annotations

import re

import pytest

from agents.models.base import ModelRequest
from agents.offline import HashingEncoder, OfflineModel
from agents.offline.plans.production import find_task_name
from agents.offline.slots import find_task_state, meaningful_name
from agents.offline.transcript import WorkRouting
from agents.protocol import ROUTE_TOOL
from tests.agents.offline.requests import Conversation, campaign, campaign_list, meta, text_message

SUMMIT = campaign("Customer Summit 2026", "event", 1, {"asana": "1201234567890123"})
Q1 = campaign("Q1 Cloud Platform Launch", "product_launch", 1, {"workfront": "6a1b" + "0" * 28})
CAMPAIGNS = campaign_list(Q1, SUMMIT)


def _supervise(model: OfflineModel, text: str):  # type: ignore[no-untyped-def]
    return model.respond(ModelRequest(messages=[text_message("user", text)], tools=[ROUTE_TOOL],
                                      metadata=meta("supervisor")))  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "Don't create a campaign called 'Ghost Launch' tier 1 launching March 3",
        "please do not add a task 'Book venue' to the summit",
        "we don't want you to assign 'Design banner' to Priya",
    ],
)
def test_a_negated_request_is_never_turned_into_its_action(fast_model: OfflineModel, text: str) -> None:
    response = _supervise(fast_model, text)
    assert not response.tool_uses
    assert "won't" in response.text and "no changes" in response.text


def test_negated_agent_clause_is_acknowledged_without_a_call(fast_model: OfflineModel) -> None:
    conv = Conversation("production", "Don't create a campaign called 'Ghost Launch' tier 1 launching March 3")
    response = fast_model.respond(conv.request())
    assert not response.tool_uses and "won't" in response.text


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("mark 'Design banner' as not complete", "new"),
        ("'Design banner' is no longer done", "new"),
        ("set 'Design banner' to in progress instead of done", "in_progress"),
        ("mark 'Design banner' complete", "complete"),
    ],
)
def test_task_state_polarity(text: str, state: str) -> None:
    assert find_task_state(text) == state


@pytest.mark.parametrize("name", ["For", "for ?", "?", "the task", "to the", "it"])
def test_function_words_are_never_names(name: str) -> None:
    assert not meaningful_name(name)


@pytest.mark.parametrize("name", ["Design banner", "QA", "Q3 plan", "Book venue"])
def test_real_names_are_names(name: str) -> None:
    assert meaningful_name(name) or name == "QA"


@pytest.mark.parametrize(
    "text",
    ["put Priya on the task for the Q1 Cloud Platform Launch", "any new task for ?", "add a task for the summit"],
)
def test_no_task_named_after_a_function_word(text: str) -> None:
    assert find_task_name(text, []) is None


def test_junk_task_name_asks_instead_of_creating(fast_model: OfflineModel) -> None:
    conv = Conversation("production", "add a task for the Q1 Cloud Platform Launch")
    first = fast_model.respond(conv.request())
    conv.answer(first, {"spine__list_campaigns": CAMPAIGNS})
    final = fast_model.respond(conv.request())
    assert not final.tool_uses and "called" in final.text


def test_a_proposed_write_runs_on_yes_and_never_on_no() -> None:
    model = OfflineModel(HashingEncoder(), confirm_writes="always")
    request = "Create a campaign 'Big Bash' tier 1 with a $50k budget launching March 3"
    proposal = model.respond(Conversation("production", request).request())
    assert not proposal.tool_uses
    assert not proposal.tool_uses and "Go ahead?" in proposal.text and "Workfront" in proposal.text
    conv = Conversation("production", f"{request} — yes")
    first = model.respond(conv.request())
    assert [u.name for u in first.tool_uses] == ["spine__list_campaigns"]
    conv.answer(first, {"spine__list_campaigns": CAMPAIGNS})
    create = model.respond(conv.request())
    assert [u.name for u in create.tool_uses] == ["spine__create_campaign"]
    assert create.tool_uses[0].input["type"] == "standard"
    declined = model.respond(Conversation("production", f"{request} — no").request())
    assert not declined.tool_uses and "did not create" in declined.text


def test_a_budget_the_user_leaves_out_stays_out(fast_model: OfflineModel) -> None:
    conv = Conversation("production", "Create a standard campaign 'Lean Launch' tier 3 launching March 3, no budget")
    first = fast_model.respond(conv.request())
    conv.answer(first, {"spine__list_campaigns": CAMPAIGNS})
    create = fast_model.respond(conv.request())
    assert [u.name for u in create.tool_uses] == ["spine__create_campaign"]
    assert "budget_planned" not in create.tool_uses[0].input


def test_confirm_writes_always_proposes_even_a_fully_specified_write() -> None:
    model = OfflineModel(HashingEncoder(), confirm_writes="always")
    request = "Create a standard campaign 'Full Spec' tier 2 with a $5k budget launching March 3"
    response = model.respond(Conversation("production", request).request())
    assert not response.tool_uses and "Go ahead?" in response.text
    with pytest.raises(ValueError, match="confirm_writes"):
        OfflineModel(HashingEncoder(), confirm_writes="sometimes")  # type: ignore[arg-type]


def test_work_routing_rule_follows_the_playbook_and_is_configurable() -> None:
    rule = WorkRouting()
    assert rule.system_for("event") == "asana"
    assert [rule.system_for(t) for t in ("partner", "standard", "product_launch")] == ["workfront"] * 3
    custom = WorkRouting.of({"event": "asana", "partner": "asana"})
    assert custom.system_for("partner") == "asana" and custom.system_for("standard") == "workfront"
    with pytest.raises(ValueError, match="jira"):
        WorkRouting.of({"event": "jira"})


def test_a_partner_campaign_gets_a_workfront_project(fast_model: OfflineModel) -> None:
    request = "Create a partner campaign 'Co-Sell Wave' tier 2 with a $5k budget launching March 3"
    conv = Conversation("production", request)
    first = fast_model.respond(conv.request())
    conv.answer(first, {"spine__list_campaigns": CAMPAIGNS})
    create = fast_model.respond(conv.request())
    created = campaign("Co-Sell Wave", "partner", 2)
    conv.answer(create, {"spine__create_campaign": created})
    project = fast_model.respond(conv.request())
    assert [u.name for u in project.tool_uses] == ["workfront__create_project"]


def test_a_budget_change_updates_the_existing_campaign(fast_model: OfflineModel) -> None:
    conv = Conversation("production", "Increase the budget of the Customer Summit 2026 to EUR 85,000")
    first = fast_model.respond(conv.request())
    conv.answer(first, {"spine__list_campaigns": CAMPAIGNS})
    update = fast_model.respond(conv.request())
    assert [u.name for u in update.tool_uses] == ["spine__update_campaign"]
    args = update.tool_uses[0].input
    assert args["changes"] == {"budget_planned": {"amount": "85000", "currency": "EUR"}}
    assert args["expected_version"] == 1 and args["campaign_id"] == SUMMIT["id"]


def test_a_relative_budget_change_is_computed_from_the_current_budget(fast_model: OfflineModel) -> None:
    conv = Conversation("production", "raise the Customer Summit 2026 budget by 10k")
    first = fast_model.respond(conv.request())
    conv.answer(first, {"spine__list_campaigns": CAMPAIGNS})
    update = fast_model.respond(conv.request())
    assert update.tool_uses[0].input["changes"] == {"budget_planned": {"amount": "30000", "currency": "USD"}}


def test_a_delete_request_is_explained_and_nothing_is_called(fast_model: OfflineModel) -> None:
    response = fast_model.respond(Conversation("production", "delete the Customer Summit 2026 campaign").request())
    assert not response.tool_uses
    assert "can't delete" in response.text and "no changes" in response.text


@pytest.mark.parametrize(
    "text",
    [
        "remove the Regional Roadshow EMEA workfront project, we cancelled it",
        "get rid of the webinar task please",
        "wipe the Q1 Cloud Platform Launch campaign",
        "trash the old strategy for Brand Awareness Q2",
    ],
)
def test_a_delete_explanation_never_reads_as_a_deletion_done(fast_model: OfflineModel, text: str) -> None:
    response = fast_model.respond(Conversation("production", text).request())
    assert not response.tool_uses and "no changes" in response.text
    # a reply checked for "deleted"/"removed" must not trip on its own explanation
    assert not re.search(r"\b(deleted|removed)\b", response.text, re.I), response.text


def test_a_workfront_project_is_closed_not_deleted(fast_model: OfflineModel) -> None:
    text = fast_model.respond(Conversation("production", "delete the workfront project of Q1 Cloud Platform Launch")
                              .request()).text  # fmt: skip
    assert "Complete" in text and "Dead" in text  # the statuses that close a Workfront project


@pytest.mark.parametrize(
    "text",
    [
        "freeze the Q1 Cloud Platform Launch campaign, status paused",
        "Q1 Cloud Platform Launch is finished, close it out",
        "flip Q1 Cloud Platform Launch back to in progress",
    ],
)
def test_a_campaign_status_change_names_its_owner_and_writes_nothing(text: str) -> None:
    q1 = campaign("Q1 Cloud Platform Launch", "product_launch", 1, {"workfront": "6a1b" + "0" * 28})
    conv = Conversation("production", text)
    model = OfflineModel(HashingEncoder())
    model._intent = lambda *_: "update_campaign"  # type: ignore[method-assign]  # the planner, not the router
    response = model.respond(conv.request())
    for _ in range(3):
        if not response.tool_uses:
            break
        assert all(
            u.name.startswith("spine__list") or u.name.startswith("spine__get") or u.name == "spine__lookup_external_id"
            for u in response.tool_uses
        ), response.tool_uses
        conv.answer(response, {"spine__list_campaigns": campaign_list(q1)})
        response = model.respond(conv.request())
    assert "Workfront" in response.text and "in_progress" in response.text  # the owner and the current value


@pytest.mark.parametrize(
    ("text", "campaign_level"),
    [
        ("switch Q1 Cloud Platform Launch to on hold", True),
        ("set Q1 Cloud Platform Launch as done", True),
        ("set pricing page copy on Q1 Cloud Platform Launch as done", False),
    ],
)
def test_a_status_change_that_names_only_a_campaign_is_about_the_campaign(text: str, campaign_level: bool) -> None:
    q1 = campaign("Q1 Cloud Platform Launch", "product_launch", 1, {"workfront": "6a1b" + "0" * 28})
    conv = Conversation("production", text)
    model = OfflineModel(HashingEncoder())
    model._intent = lambda *_: "update_task_status"  # type: ignore[method-assign]  # the planner, not the router
    response = model.respond(conv.request())
    called: list[str] = []
    for _ in range(3):
        if not response.tool_uses:
            break
        called += [u.name for u in response.tool_uses]
        conv.answer(
            response,
            {
                "spine__list_campaigns": campaign_list(q1),
                "spine__list_work_items": {"work_items": [], "count": 0, "next_offset": None},
            },
        )
        response = model.respond(conv.request())
    assert "spine__list_work_items" not in called if campaign_level else "spine__list_work_items" in called
    assert ("owned by Workfront" in response.text) is campaign_level
