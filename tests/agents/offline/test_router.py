"""Routing: accuracy on the held-out utterances (MiniLM, slow), splitting multi-domain requests, the example cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agents.offline import HashingEncoder, OfflineModel, Router
from agents.offline.examples import EXAMPLES, INTENT_AGENT
from agents.offline.router import CONTEXT_MARK, own_words
from tests.agents.offline.routing_cases import HELD_OUT, MULTI


def test_examples_cover_every_intent_and_are_not_held_out() -> None:
    assert set(EXAMPLES) == set(INTENT_AGENT)
    assert all(len(texts) >= 8 for texts in EXAMPLES.values())
    training = {t.lower() for texts in EXAMPLES.values() for t in texts}
    assert not training & {t.lower() for t, _ in HELD_OUT}
    assert {intent for _, intent in HELD_OUT} == set(INTENT_AGENT)


def _accuracy(router: Router) -> tuple[float, list[str]]:
    misses = []
    for text, want in HELD_OUT:
        got = router.classify(text).intent
        if got != want:
            misses.append(f"{text!r}: {want} -> {got}")
    return 1 - len(misses) / len(HELD_OUT), misses


@pytest.mark.slow
def test_minilm_routing_accuracy_on_held_out_set(minilm_model: OfflineModel) -> None:
    accuracy, misses = _accuracy(minilm_model.router)
    print(f"\nheld-out intent accuracy (MiniLM + keyword rules): {accuracy:.3f} on {len(HELD_OUT)} utterances")
    assert accuracy >= 0.9, misses


@pytest.mark.slow
@pytest.mark.parametrize(("text", "agents"), MULTI)
def test_minilm_splits_multi_domain_requests(minilm_model: OfflineModel, text: str, agents: list[str]) -> None:
    assert [p.agent for p in minilm_model.router.split(text)] == agents


@pytest.mark.slow
@pytest.mark.parametrize("text", ["What's the weather in Paris?", "who won the football game"])
def test_minilm_out_of_scope_requests_are_not_routed(minilm_model: OfflineModel, text: str) -> None:
    from agents.models.base import ModelRequest
    from agents.protocol import ROUTE_TOOL
    from tests.agents.offline.requests import meta, text_message

    request = ModelRequest(messages=[text_message("user", text)], tools=[ROUTE_TOOL], metadata=meta("supervisor"))
    response = minilm_model.respond(request)
    assert not response.tool_uses and response.text.startswith("I'm not sure how to help with that.")


def test_keyword_rules_alone_route_most_requests() -> None:
    # the hashing encoder carries almost no meaning: this measures the keyword rules' share of the routing
    accuracy, misses = _accuracy(Router(HashingEncoder()))
    assert accuracy >= 0.85, misses


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(HashingEncoder())


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


def test_example_embeddings_are_cached_between_processes(tmp_path: Path) -> None:
    first = CountingEncoder()
    Router(first, cache_dir=tmp_path, cache_key="hashing-v1").warm_up()
    n_examples = sum(len(t) for t in EXAMPLES.values())
    assert first.encoded == n_examples + 1  # the examples and the warm-up query
    second = CountingEncoder()
    again = Router(second, cache_dir=tmp_path, cache_key="hashing-v1")
    again.warm_up()
    assert second.encoded == 1  # only the query: the examples came from the cache
    assert again.classify("How is the summit performing?").agent == "analytics"
    (cache,) = tmp_path.glob("offline-router-*.npy")
    cache.write_bytes(b"not a numpy file")
    third = CountingEncoder()
    Router(third, cache_dir=tmp_path, cache_key="hashing-v1").warm_up()
    assert third.encoded == n_examples + 1  # a damaged cache is recomputed, not trusted


@pytest.mark.parametrize(
    "text",
    ["How is the Spring Product Launch campaign performing?", "What ROAS did the Mobile Launch campaign get?"],
)
def test_a_performance_question_about_a_launch_is_not_a_create(minilm_model: OfflineModel, text: str) -> None:
    # "Launch" in a campaign's name is not a request to launch (create) one.
    assert minilm_model.router.classify(text).intent != "create_campaign"
    assert [p.agent for p in minilm_model.router.split(text)] == ["analytics"]


def test_create_with_launch_wording_still_creates(minilm_model: OfflineModel) -> None:
    text = "Launch a new campaign 'Winter Webinar' tier 2, budget $20k, launching March 3"
    assert minilm_model.router.classify(text).intent == "create_campaign"
