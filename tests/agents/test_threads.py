"""The thread index: each user's own threads, titled by their first message, newest first, ids with dots kept apart."""

from __future__ import annotations

import asyncio

from langgraph.store.memory import InMemoryStore

from agents.threads import list_threads, remember_thread


def test_threads_are_listed_per_tenant_and_user_newest_first_with_the_first_message_as_title() -> None:
    async def main() -> None:
        store = InMemoryStore()
        await remember_thread(store, "acme", "maya.chen", "t1", "how many   campaigns?\nand more")
        await remember_thread(store, "acme", "maya.chen", "t2", "x" * 200)
        await remember_thread(store, "acme", "maya.chen", "t1", "a later message keeps the title")
        await remember_thread(store, "acme", "maya", "t3", "another user whose id is a prefix")
        await remember_thread(store, "globex", "maya.chen", "t4", "same user id, other tenant")
        mine = await list_threads(store, "acme", "maya.chen")
        assert [t.thread_id for t in mine] == ["t1", "t2"]  # t1 changed last
        assert mine[0].title == "how many campaigns? and more" and mine[1].title.endswith("…")
        assert len(mine[1].title) == 80 and mine[0].created_at <= mine[0].updated_at
        assert [t.thread_id for t in await list_threads(store, "acme", "maya")] == ["t3"]
        assert [t.thread_id for t in await list_threads(store, "globex", "maya.chen")] == ["t4"]

    asyncio.run(main())
