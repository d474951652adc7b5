"""The composition root: builds every part from ``Settings`` and hands them out explicitly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mcc.settings import Settings, load_settings
from spine.db import make_engine, make_session_factory

if TYPE_CHECKING:
    from knowledge.service import KnowledgeBase


@dataclass
class App:
    """One process's wiring. Heavy parts (embedding model, vector store) are built on first use."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    _closers: list[object] = field(default_factory=list, repr=False)

    @classmethod
    def open(cls, settings: Settings | None = None, *, migrate: bool = True) -> App:
        """Connect to the configured database and bring its schema to the current version."""
        settings = settings or load_settings()
        engine = make_engine(settings.resolved_database_url)
        if migrate:
            from spine.migrate import upgrade

            upgrade(engine)
        return cls(settings=settings, engine=engine, sessions=make_session_factory(engine))

    @cached_property
    def knowledge(self) -> KnowledgeBase:
        """The playbook knowledge base (model loaded lazily on first embed)."""
        from knowledge.service import KnowledgeBase

        return KnowledgeBase(
            persist_dir=None if self.settings.chroma_url else self.settings.chroma_path,
            chroma_url=self.settings.chroma_url,
            model_name_or_path=self.settings.embedding_model,
        )

    def ingest_default_playbooks(self) -> str:
        """Ingest (incrementally) the playbooks shipped in ``knowledge/playbooks``; a one-line summary."""
        from knowledge.service import default_playbooks_dir

        r = self.knowledge.ingest([default_playbooks_dir()])
        return (
            f"{len(r.added)} added, {len(r.updated)} updated, {len(r.unchanged)} unchanged, "
            f"{len(r.removed)} removed, {len(r.skipped)} skipped; {r.chunks_written} chunks written"
        )

    def close(self) -> None:
        self.engine.dispose()


@contextmanager
def open_app(settings: Settings | None = None, *, migrate: bool = True) -> Iterator[App]:
    """``App.open`` as a context manager that disposes the engine."""
    app = App.open(settings, migrate=migrate)
    try:
        yield app
    finally:
        app.close()
