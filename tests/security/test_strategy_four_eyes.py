"""Attack: approve your own strategy. Whoever drafted, edited or submitted a strategy cannot approve it, whatever
their groups (a VP included); another member of the approving groups can."""

from __future__ import annotations

from typing import Any

from mcc.wiring import App
from spine.repositories import open_store
from tests.security.world import call

CONTENT = {"sections": [{"heading": "Message", "body": "Lead with the customer outcome."}]}


async def _strategy(app: App, drafter: str, submitter: str, editor: str | None = None) -> str:
    with open_store(app.sessions, "acme") as store:
        campaign = store.campaigns.list(limit=1)[0]
    ok, draft = await call(app, drafter, "spine", "draft_strategy",
                           {"campaign_id": campaign.id, "type": "messaging", "title": "Q3 messaging",
                            "content": CONTENT})  # fmt: skip
    assert ok, draft
    if editor is not None:
        with open_store(app.sessions, "acme") as store:
            store.strategies.edit(draft["id"], actor=editor, title="Q3 messaging, edited")
    ok, submitted = await call(app, submitter, "spine", "submit_strategy", {"strategy_id": draft["id"]})
    assert ok and submitted["status"] == "pending_review", submitted
    return str(draft["id"])


async def _approve(app: App, user: str, strategy_id: str) -> tuple[bool, Any]:
    result: tuple[bool, Any] = await call(app, user, "spine", "approve_strategy", {"strategy_id": strategy_id})
    return result


async def test_the_drafter_cannot_approve_even_as_vp(app: App) -> None:
    sid = await _strategy(app, drafter="victor.hale", submitter="maya.chen")
    ok, text = await _approve(app, "victor.hale", sid)
    assert not ok and "[four_eyes]" in text
    ok, row = await _approve(app, "dana.reyes", sid)
    assert ok and row["status"] == "approved" and row["approved_by"] == "dana.reyes"


async def test_the_submitter_cannot_approve(app: App) -> None:
    sid = await _strategy(app, drafter="maya.chen", submitter="dana.reyes")
    ok, text = await _approve(app, "dana.reyes", sid)
    assert not ok and "[four_eyes]" in text
    with open_store(app.sessions, "acme") as store:
        assert store.strategies.get(sid).status == "pending_review"
    ok, row = await _approve(app, "victor.hale", sid)
    assert ok and row["status"] == "approved"


async def test_an_editor_of_the_draft_cannot_approve(app: App) -> None:
    sid = await _strategy(app, drafter="maya.chen", submitter="maya.chen", editor="Dana.Reyes ")
    ok, text = await _approve(app, "dana.reyes", sid)
    assert not ok and "[four_eyes]" in text
