"""Conversation checkpoints and the store beside them: SQLite by default, PostgreSQL when the URL says so, memory
for throwaway threads.

The graph runs async, so these are the async savers of the same packages (``AsyncSqliteSaver`` from
langgraph-checkpoint-sqlite, ``AsyncPostgresSaver`` from langgraph-checkpoint-postgres); the tables are the ones
``SqliteSaver``/``PostgresSaver`` use, so either family can read a thread the other wrote. The store
(``AsyncSqliteStore``/``AsyncPostgresStore``, ``InMemoryStore`` for memory) is LangGraph's key-value store at the
same location; the assistant keeps its approval -> waiting thread index there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

MEMORY = ":memory:"
_SQLITE_BUSY_MS = 10_000  # another process may be writing the same file: wait instead of failing at once


class CheckpointURLError(ValueError):
    """A checkpoint location that is neither a SQLite path/URL nor a PostgreSQL URL."""


def describe(url: str) -> tuple[str, str]:
    """``(kind, target)`` for a checkpoint location: kind is ``memory``, ``sqlite`` or ``postgres``.

    Accepts a file path, ``sqlite:///path`` (SQLAlchemy style), ``:memory:``, or ``postgresql[+driver]://...``
    (the driver suffix is dropped: psycopg takes the plain URL).
    """
    if url in (MEMORY, "memory://", "sqlite:///:memory:", "sqlite://"):
        return "memory", MEMORY
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme.startswith(("postgresql", "postgres")):
        return "postgres", urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))
    if scheme.startswith("sqlite"):
        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path  # sqlite:///rel/x.db -> rel/x.db; sqlite:////abs -> /abs
        if not path:
            raise CheckpointURLError(f"checkpoint url {url!r} names no file. Fix: sqlite:///path/to/checkpoints.db")
        return "sqlite", path
    if scheme and len(scheme) > 1:  # a Windows drive letter is not a scheme
        raise CheckpointURLError(
            f"checkpoint url {url!r} has unsupported scheme {scheme!r}. Fix: use a file path, sqlite:///path or "
            "postgresql://user@host/db"
        )
    return "sqlite", url


@asynccontextmanager
async def open_checkpointer(url: str = MEMORY) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """A ready checkpointer for ``url`` (tables created), closed on exit."""
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with _opened(url, InMemorySaver, AsyncSqliteSaver, AsyncPostgresSaver) as saver:
        yield saver


@asynccontextmanager
async def open_store(url: str = MEMORY) -> AsyncIterator[BaseStore]:
    """A ready LangGraph store for ``url`` (same URL rules as ``open_checkpointer``; tables created), closed on exit."""
    from langgraph.store.postgres.aio import AsyncPostgresStore
    from langgraph.store.sqlite.aio import AsyncSqliteStore

    async with _opened(url, InMemoryStore, AsyncSqliteStore, AsyncPostgresStore) as store:
        yield store


@asynccontextmanager
async def _opened(url: str, memory: Any, sqlite: Any, postgres: Any) -> AsyncIterator[Any]:
    """One of the three LangGraph backends of a kind (saver or store) for ``url``, set up, closed on exit."""
    kind, target = describe(url)
    if kind == "memory":
        yield memory()
    elif kind == "sqlite":
        Path(target).expanduser().parent.mkdir(parents=True, exist_ok=True)
        async with sqlite.from_conn_string(str(Path(target).expanduser())) as opened:
            await _sqlite_pragmas(opened.conn)
            await opened.setup()
            yield opened
    else:
        async with postgres.from_conn_string(target) as opened:
            await opened.setup()
            yield opened


async def _sqlite_pragmas(conn: Any) -> None:
    """WAL lets a second process read while this one writes; busy_timeout waits out a writer."""
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
    await conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: survives process crashes; no fsync per commit
