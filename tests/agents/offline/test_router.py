"""Routing: the classifier on the frozen held-out requests (MiniLM, slow), splitting multi-domain requests, unsure
and declined clauses, the weights cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agents.offline import HashingEncoder, OfflineModel, Router
from agents.offline.classifier import load_intents
from agents.offline.examples import INTENT_AGENT
from agents.offline.router import CONTEXT_MARK, own_words
from tests.agents.offline.heldout_requests import HELDOUT
from tests.agents.offline.routing_cases import HELD_OUT, MULTI


def test_paraphrase_set_covers_every_intent_and_shares_nothing_with_held_out_sets() -> None:
    intents = load_intents()
    assert set(intents) == set(INTENT_AGENT)
    assert all(len(texts) >= 40 for texts in intents.values()), {i: len(t) for i, t in intents.items()}
    training = {t.lower().strip() for texts in intents.values() for t in texts}
    assert not training & {t.lower().strip() for t, _ in HELD_OUT}
    assert not training & {t.lower().strip() for t, _ in HELDOUT}
    # written before the "comments" and "add_comment" intents existed; frozen, so not extended after seeing results
    assert {intent for _, intent in HELDOUT} == set(INTENT_AGENT) - {"comments", "add_comment"}
    assert len(HELDOUT) >= 60


@pytest.mark.slow
def test_minilm_classifier_on_frozen_held_out_requests(minilm_model: OfflineModel) -> None:
    router = minilm_model.router
    correct, unsure, wrong = 0, 0, []
    for text, want in HELDOUT:
        c = router.classify(text)
        if not c.sure:
            unsure += 1
        elif c.intent == want:
            correct += 1
        else:
            wrong.append(f"{text!r}: {want} -> {c.intent} ({c.score:.2f})")
    accuracy = correct / len(HELDOUT)
    print(f"\nheld-out: accuracy {accuracy:.3f}, unsure {unsure / len(HELDOUT):.3f}, confident misses {len(wrong)}")
    assert accuracy >= 0.85, wrong
    # the goal is no confident miss; measured: 1 of 72 (an add-task request whose topic word occurs in one
    # comment phrasing). Pinned at 2 so it cannot grow; the set is frozen, so it is not tuned away.
    assert len(wrong) <= 2, wrong


@pytest.mark.slow
def test_minilm_routing_on_older_held_out_set_is_not_worse(minilm_model: OfflineModel) -> None:
    # the older set leaked into the retired keyword rules; it is a regression check only, never trained on
    hits = sum(minilm_model.router.classify(t).intent == want for t, want in HELD_OUT if want in INTENT_AGENT)
    assert hits / len(HELD_OUT) >= 0.75


@pytest.mark.slow
def test_minilm_splits_multi_domain_requests(minilm_model: OfflineModel) -> None:
    # the older leaked set, never trained on: measured 5 of 6 ("what does the budget policy say about approvals
    # over $100k" is read as an approvals question); pinned so it cannot get worse
    misses = [(text, [p.agent for p in minilm_model.router.split(text)]) for text, agents in MULTI
              if [p.agent for p in minilm_model.router.split(text)] != agents]  # fmt: skip
    assert len(misses) <= 1, misses


@pytest.mark.slow
@pytest.mark.parametrize("text", ["What's the weather in Paris?", "who won the football game"])
def test_minilm_out_of_scope_requests_are_not_routed(minilm_model: OfflineModel, text: str) -> None:
    from agents.models.base import ModelRequest
    from agents.protocol import ROUTE_TOOL
    from tests.agents.offline.requests import meta, text_message

    request = ModelRequest(messages=[text_message("user", text)], tools=[ROUTE_TOOL], metadata=meta("supervisor"))
    response = minilm_model.respond(request)
    assert not response.tool_uses and response.text.startswith("I'm not sure how to help with that.")


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(HashingEncoder(), min_probability=0.0)


def test_clauses_respect_quotes(router: Router) -> None:
    text = "Add a task 'Design and print banners' to the summit and tell me what the playbooks say about banners"
    assert router.clauses(text) == [
        "Add a task 'Design and print banners' to the summit",
        "tell me what the playbooks say about banners",
    ]


def test_compare_a_and_b_stays_one_part(router: Router) -> None:
    parts = router.split("Compare Q1 Cloud Platform Launch and Holiday Promotions 2025 on ROAS")
    assert [(p.agent, p.intent) for p in parts] == [("analytics", "compare_campaigns")]


def test_pronoun_part_carries_the_first_part_as_context(router: Router) -> None:
    parts = router.split("Create an event campaign 'Berlin Meetup' with a $5k budget; then draft messaging for it")
    assert [p.agent for p in parts] == ["production", "strategy"]
    own, context = own_words(parts[1].request)
    assert own == "draft messaging for it" and "'Berlin Meetup'" in context
    assert CONTEXT_MARK not in parts[0].request


def test_split_within_one_agent_by_intent(router: Router) -> None:
    parts = router.split("Mark 'Design banner' as done and assign 'Book venue' to Priya", agent="production")
    assert [p.intent for p in parts] == ["update_task_status", "assign_task"]


def test_greeting_before_a_request_is_dropped(router: Router) -> None:
    parts = router.split("Hi! How is the Customer Summit 2026 performing?")
    assert [p.agent for p in parts] == ["analytics"]


class CountingEncoder(HashingEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.encoded = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded += len(texts)
        return super().encode(texts)


def test_weights_trained_for_another_encoder_are_cached_between_processes(tmp_path: Path) -> None:
    first = CountingEncoder()
    Router(first, cache_dir=tmp_path, cache_key="hashing-v1").warm_up()
    assert first.encoded > 700  # no shipped weights fit the hashing encoder: trained on the paraphrase set
    second = CountingEncoder()
    again = Router(second, cache_dir=tmp_path, cache_key="hashing-v1")
    again.warm_up()
    assert second.encoded == 1  # only the warm-up query: the weights came from the cache
    assert again.classify("How is the summit performing?").agent == "analytics"
    (cache,) = tmp_path.glob("offline-intents-*.npz")
    cache.write_bytes(b"not a numpy file")
    third = CountingEncoder()
    Router(third, cache_dir=tmp_path, cache_key="hashing-v1").warm_up()
    assert third.encoded > 700  # a damaged cache is retrained, not trusted


@pytest.mark.parametrize(
    "text",
    ["How is the Spring Product Launch campaign performing?", "What ROAS did the Mobile Launch campaign get?"],
)
def test_a_performance_question_about_a_launch_is_not_a_create(minilm_model: OfflineModel, text: str) -> None:
    # "Launch" in a campaign's name is not a request to launch (create) one; asking which is meant is allowed
    assert minilm_model.router.classify(text).intent != "create_campaign"
    assert [p.agent or p.intent for p in minilm_model.router.split(text)] in (["analytics"], ["unsure"])


def test_create_with_launch_wording_still_creates(minilm_model: OfflineModel) -> None:
    text = "Launch a new campaign 'Winter Webinar' tier 2, budget $20k, launching March 3"
    assert minilm_model.router.classify(text).intent == "create_campaign"
