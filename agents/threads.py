"""Which conversations a user has: an index of thread ids per (tenant, user) in the LangGraph store.

The checkpointer can read one thread by id but cannot list a user's threads cheaply; the assistant records each
thread here when a message is sent, so a UI (the web chat, any process on the same store) lists them.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from langgraph.store.base import BaseStore
from pydantic import BaseModel

THREADS_NAMESPACE = "threads"  # store namespace (THREADS_NAMESPACE, tenant, user): thread id -> ThreadSummary
TITLE_CHARS = 80
LIST_LIMIT = 200


class ThreadSummary(BaseModel):
    """One conversation as a list shows it: its first message as title, when it started and last changed."""

    thread_id: str
    title: str
    created_at: dt.datetime
    updated_at: dt.datetime


def _namespace(tenant_id: str, user_id: str) -> tuple[str, str, str]:
    # store labels may not contain "."; percent-encoding keeps distinct ids distinct (user ids are often a.b)
    return (THREADS_NAMESPACE, _label(tenant_id), _label(user_id))


def _label(value: str) -> str:
    return quote(value, safe="").replace(".", "%2E")


def _title(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


async def remember_thread(store: BaseStore, tenant_id: str, user_id: str, thread_id: str, text: str) -> None:
    """Record that ``thread_id`` (of this user) got a message: its title is the first message, kept afterwards."""
    namespace = _namespace(tenant_id, user_id)
    now = dt.datetime.now(dt.UTC)
    known = await store.aget(namespace, thread_id)
    if known is not None:
        value = {**known.value, "updated_at": now.isoformat()}
    else:
        value = {"title": _title(text), "created_at": now.isoformat(), "updated_at": now.isoformat()}
    await store.aput(namespace, thread_id, value, index=False)


async def list_threads(
    store: BaseStore, tenant_id: str, user_id: str, *, limit: int = LIST_LIMIT
) -> list[ThreadSummary]:
    """This user's threads, most recently changed first (only ever their own tenant's and their own)."""
    items = await store.asearch(_namespace(tenant_id, user_id), limit=limit)
    threads = [ThreadSummary(thread_id=i.key, **i.value) for i in items]
    return sorted(threads, key=lambda t: t.updated_at, reverse=True)
