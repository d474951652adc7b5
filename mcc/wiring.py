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
    from mcp.server.mcpserver import MCPServer

    from knowledge.service import KnowledgeBase
    from mcp_servers.guard.guard import Guard
    from mcp_servers.guard.identity import PrincipalSource
    from policies.engine import PolicyEngine
    from policies.model import Principal


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

    @cached_property
    def policy_engine(self) -> PolicyEngine:
        """Cedar policies parsed and validated once per process; a bad policy file stops start-up here."""
        from policies.engine import PolicyEngine

        return PolicyEngine.from_directory(fx_rates=self.settings.fx_rates_to_usd, mode=self.settings.policy_mode)

    def principal(self, user_id: str | None = None, tenant_id: str | None = None) -> Principal:
        """The directory entry of ``user_id`` in ``tenant_id`` (defaults from settings) as a policy principal."""
        from policies.model import Principal
        from spine.repositories import open_store

        tenant_id = tenant_id or self.settings.tenant
        user_id = user_id or self.settings.user
        with open_store(self.sessions, tenant_id) as store:
            store.directory.get_user(user_id)  # unknown user: a NotFoundError naming user_id
            groups = frozenset(store.directory.groups_of(user_id))
        return Principal(user_id=user_id, tenant_id=tenant_id, groups=groups)

    def guard(self, server: str, principals: PrincipalSource) -> Guard:
        """The policy guard for one server, sharing this process's engine, approvals and audit log."""
        from mcp_servers.guard.guard import Guard
        from spine.approvals import ApprovalStore
        from spine.audit import AuditLog

        audit = AuditLog(self.sessions)
        approvals = ApprovalStore(self.sessions, audit=audit)
        return Guard(server, self.policy_engine, approvals, audit, principals)

    def spine_server(self, principals: PrincipalSource) -> MCPServer:
        """The campaign-spine MCP server, guarded."""
        from mcp_servers.spine.server import build_spine_server

        return build_spine_server(self.sessions, self.guard("spine", principals))

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
