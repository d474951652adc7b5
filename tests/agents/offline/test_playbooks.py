"""Strategy and knowledge turns against the real knowledge server over the shipped playbooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.offline import OfflineModel
from knowledge.service import KnowledgeBase
from spine.repositories import open_store
from tests.agents.offline.world import World, open_world


async def test_messaging_strategy_is_drafted_from_the_playbooks_and_saved(
    playbook_world: World, fast_model: OfflineModel
) -> None:
    turn = await playbook_world.run(fast_model, "strategy", "Draft a messaging strategy for the Customer Summit 2026")
    # tier requirements, brand voice and the summit's first two channels (events, email), searched in one step
    assert turn.names() == ["spine__list_campaigns", *["knowledge__search_playbooks"] * 4, "spine__draft_strategy"]
    searches = [args for name, args, _, _ in turn.calls if name == "knowledge__search_playbooks"]
    assert searches[0]["tier"] == "1"  # the summit is a tier 1 campaign
    assert "email" in searches[3]["query"] and "event" in searches[2]["query"]
    hits = [h for name, _, _, data in turn.calls if name == "knowledge__search_playbooks" for h in data["hits"]]
    saved = turn.calls[-1][3]
    assert saved["type"] == "messaging" and saved["status"] == "draft" and saved["generated_by"] == "agent"
    headings = [s["heading"] for s in saved["content"]["sections"]]
    assert headings[:3] == ["Objective", "Audience", "Core message"] and "Sources" in headings
    sources = saved["content"]["sections"][-1]["body"].splitlines()
    assert sources and {s.removeprefix("- ") for s in sources} <= {h["citation"] for h in hits}  # nothing invented
    assert f"strategy id {saved['id']}" in turn.answer and "**Sources**" in turn.answer
    with open_store(playbook_world.sessions, "acme") as store:
        assert any(s.id == saved["id"] for s in store.strategies.list())


async def test_playbook_question_answer_matches_the_knowledge_result(
    playbook_world: World, fast_model: OfflineModel
) -> None:
    turn = await playbook_world.run(fast_model, "knowledge", "Who approves a campaign budget over $100,000?")
    assert turn.names() == ["knowledge__answer_question"]
    result = turn.calls[0][3]
    if result["answered"]:
        assert turn.answer.startswith(result["answer"].strip())
        assert all(c["citation"] in turn.answer for c in result["citations"])
    else:
        assert "do not cover" in turn.answer


@pytest.mark.slow
async def test_minilm_playbook_answer_with_the_encoder_shared(
    session_factory, tmp_path: Path, minilm_playbooks: KnowledgeBase
) -> None:  # type: ignore[no-untyped-def]
    model = OfflineModel(encoder=minilm_playbooks.embedder)  # one MiniLM in the process for routing and retrieval
    world = await open_world(session_factory, tmp_path, minilm_playbooks)
    try:
        turn = await world.run(model, "knowledge", "What is the minimum lead time for a tier 1 campaign?")
        assert turn.names() == ["knowledge__answer_question"] and turn.calls[0][1]["tier"] == "1"
        assert turn.calls[0][3]["answered"] is True
        assert "16 weeks" in turn.answer and "tier-1-campaign-playbook §" in turn.answer
        turn = await world.run(model, "knowledge", "What is the company's policy on office plants?")
        assert "do not cover" in turn.answer
    finally:
        await world.close()
