"""The composition root: builds every part from ``Settings`` and hands them out explicitly."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mcc.settings import Settings, load_settings
from spine.db import make_engine, make_session_factory

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from agents.models.base import ChatModel
    from connectors.asana.backend import AsanaBackend
    from connectors.workfront.backend import WorkfrontBackend
    from knowledge.embedding import Embedder
    from knowledge.retrieval import QueryEncoder
    from knowledge.service import KnowledgeBase
    from mcc.workers import Workers
    from mcp_servers.guard.guard import Guard, ResourceTenant
    from mcp_servers.guard.identity import PrincipalSource
    from mcp_servers.guard.sdk_adapter import ToolSchemaCache
    from policies.engine import PolicyEngine
    from policies.model import Principal
    from spine.audit import AuditLog
    from spine.repositories.connections import ConnectionOut
    from sync.campaign_setup import SetupServices
    from sync.durable import Durable, DurableConfig
    from sync.setup_client import CampaignSetupClient


SERVER_NAMES: tuple[str, ...] = ("spine", "workfront", "asana", "knowledge")


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedding model (nothing loads until the first encode; the ONNX export goes to home/cache)."""
    from knowledge.embedding import Embedder

    return Embedder(settings.embedding_model, backend=settings.embedding_backend, cache_dir=settings.home / "cache")


@dataclass(frozen=True, slots=True)
class SharedParts:
    """Parts built once and handed to several Apps of one process (the eval worlds); each one left None is built
    by the App itself from its settings, on first use."""

    embedder: QueryEncoder | None = None
    knowledge: KnowledgeBase | None = None
    chat_model: ChatModel | None = None
    tool_schemas: ToolSchemaCache | None = None  # the servers' tool schemas, generated once for every App


@dataclass
class App:
    """One process's wiring. Heavy parts (embedding model, vector store) are built on first use, unless
    ``shared`` hands them in ready-made."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    shared: SharedParts = field(default_factory=SharedParts)
    _backends: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    _worker: bool = field(default=False, repr=False)  # inside durable(): this process runs the workflows
    _lazy_workers: ExitStack | None = field(default=None, repr=False)  # the inline worker start_campaign_setup began
    _lazy_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, settings: Settings | None = None, *, migrate: bool = True, shared: SharedParts | None = None) -> Self:
        """Connect to the configured database and bring its schema to the current version."""
        settings = settings or load_settings()
        engine = make_engine(settings.resolved_database_url)
        if migrate:
            from spine.migrate import upgrade

            upgrade(engine)
        sessions = make_session_factory(engine)
        return cls(settings=settings, engine=engine, sessions=sessions, shared=shared or SharedParts())

    @cached_property
    def embedder(self) -> QueryEncoder:
        """The one embedding model of this process (loaded on first encode; the ONNX export is cached under
        home/cache), shared by retrieval and the offline model's router."""
        if self.shared.embedder is not None:
            return self.shared.embedder
        return build_embedder(self.settings)

    @cached_property
    def knowledge(self) -> KnowledgeBase:
        """The playbook knowledge base (model loaded lazily on first embed)."""
        from knowledge.service import KnowledgeBase

        if self.shared.knowledge is not None:
            return self.shared.knowledge
        return KnowledgeBase(
            persist_dir=None if self.settings.chroma_url else self.settings.chroma_path,
            chroma_url=self.settings.chroma_url,
            embedder=self.embedder,
        )

    @cached_property
    def policy_engine(self) -> PolicyEngine:
        """Cedar policies parsed and validated once per process; a bad policy file stops start-up here."""
        from policies.engine import PolicyEngine
        from policies.ratelimit import RateRule

        s = self.settings
        per_minute = {"workfront": s.workfront_rate_per_minute, "asana": s.asana_rate_per_minute,
                      "salesforce": s.salesforce_rate_per_minute}  # fmt: skip
        scopes = ("system", "principal")
        rules = [RateRule(system, scope, limit) for system, limit in per_minute.items() for scope in scopes]
        store = None
        if s.rate_store == "database":
            from spine.rate_counters import SqlRateStore

            store = SqlRateStore(self.sessions)  # one budget across every process and replica
        return PolicyEngine.from_directory(
            s.policy_dir, fx_rates=s.fx_rates_to_usd, mode=s.policy_mode, rate_rules=rules, rate_store=store
        )

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

    @cached_property
    def audit_key(self) -> bytes:
        """The audit chain's HMAC key: settings.audit_key, else home/audit.key (generated once). Never logged."""
        from mcc.audit_key import load_or_create_key

        key = self.settings.audit_key
        if key is not None:
            return key.get_secret_value().encode()
        return load_or_create_key(self.settings.audit_key_file)

    def audit_log(self) -> AuditLog:
        """The audit log of this database, keyed with this process's audit key."""
        from spine.audit import AuditLog

        return AuditLog(self.sessions, key=self.audit_key)

    def guard(self, server: str, principals: PrincipalSource, resource_tenant: ResourceTenant | None = None) -> Guard:
        """The policy guard for one server, sharing this process's engine, approvals and audit log."""
        from mcp_servers.guard.guard import Guard
        from spine.approvals import ApprovalStore

        audit = self.audit_log()
        approvals = ApprovalStore(self.sessions, audit=audit)
        return Guard(server, self.policy_engine, approvals, audit, principals, resource_tenant)

    def connection(self, tenant_id: str, system: str) -> ConnectionOut | None:
        """The tenant's stored connection to ``system`` (``mcc connect``), or None."""
        from spine.repositories.connections import ConnectionRepository

        with self.sessions() as session:
            return ConnectionRepository(session, tenant_id).get(system)

    def workfront_backend(self, tenant_id: str) -> WorkfrontBackend:
        """The tenant's Workfront backend: its connection (``mcc connect workfront``), else the process-wide REST
        settings, else its own sandbox under ``home/sandboxes/<tenant>``. Built once per process and tenant."""
        key = ("workfront", tenant_id)
        if key not in self._backends:
            self._backends[key] = self.new_workfront_backend(tenant_id)
        return self._backends[key]

    def new_workfront_backend(self, tenant_id: str) -> WorkfrontBackend:
        """A new Workfront backend of the tenant (the caller closes it), as ``workfront_backend`` chooses it."""
        s = self.settings
        conn = self.connection(tenant_id, "workfront")
        if conn is not None or s.workfront_backend == "rest":
            from connectors.workfront.client import WorkfrontRestClient

            if conn is not None:
                from mcc.secrets import resolve

                url, secret = conn.url, resolve(s, conn)
            elif s.workfront_api_key is None:
                raise ValueError("workfront_api_key: the REST backend needs MCC_WORKFRONT_API_KEY")
            else:
                url, secret = s.workfront_url, s.workfront_api_key.get_secret_value()
            return WorkfrontRestClient(
                url, secret, api_version=s.workfront_api_version.removeprefix("v"),
                rate_per_minute=s.workfront_rate_per_minute,
            )  # fmt: skip
        from connectors.workfront.sandbox import WorkfrontSandbox

        return WorkfrontSandbox(self.settings.sandbox_dir / tenant_id / "workfront")

    def asana_backend(self, tenant_id: str) -> AsanaBackend:
        """The tenant's Asana backend: its connection (``mcc connect asana``), else the process-wide settings
        (sandbox under ``home/sandboxes/<tenant>`` by default, or the REST API). Built once per process and tenant."""
        key = ("asana", tenant_id)
        if key not in self._backends:
            self._backends[key] = self.new_asana_backend(tenant_id)
        return self._backends[key]

    def new_asana_backend(self, tenant_id: str) -> AsanaBackend:
        """A new Asana backend of the tenant (the caller closes it), as ``asana_backend`` chooses it."""
        from connectors.asana.factory import make_asana_backend
        from connectors.asana.idempotency import SpineIdempotency

        s = self.settings
        data_dir = self.settings.sandbox_dir / tenant_id / "asana"
        data_dir.mkdir(parents=True, exist_ok=True)
        conn = self.connection(tenant_id, "asana")
        if conn is not None:
            from mcc.secrets import resolve

            kind, url, token, workspace = "rest", conn.url, resolve(s, conn), conn.workspace_gid
        else:
            kind, url, workspace = s.asana_backend, s.asana_url, s.asana_workspace_gid
            token = s.asana_token.get_secret_value() if s.asana_token else None
        return make_asana_backend(
            kind, data_dir=data_dir, url=url, token=token, workspace_gid=workspace,
            rate_per_minute=s.asana_rate_per_minute, idempotency=SpineIdempotency(self.sessions, tenant_id),
            custom_field_gids=s.asana_custom_field_gids,
        )  # fmt: skip

    def spine_server(self, principals: PrincipalSource, **server_kwargs: Any) -> MCPServer:
        """The campaign-spine MCP server, guarded."""
        from mcp_servers.spine.server import build_spine_server

        return build_spine_server(self.sessions, self.guard("spine", principals),
                                  campaign_setup=self.start_campaign_setup, **self._options(server_kwargs))  # fmt: skip

    def resource_tenant(self, server: str) -> ResourceTenant | None:
        """How a server tells which tenant owns the external ids in a call (None: ids are tenant-scoped)."""
        if server == "workfront":
            from mcp_servers.workfront.server import workfront_resource_tenant

            return workfront_resource_tenant(self.sessions)
        if server == "asana":
            from mcp_servers.asana.server import asana_resource_tenant

            return asana_resource_tenant(self.sessions)
        return None

    def workfront_server(self, principals: PrincipalSource, **server_kwargs: Any) -> MCPServer:
        """The Workfront MCP server over each tenant's backend, guarded (cross-tenant ids denied)."""
        from mcp_servers.workfront.server import build_workfront_server

        guard = self.guard("workfront", principals, self.resource_tenant("workfront"))
        return build_workfront_server(self.workfront_backend, self.sessions, guard, **self._options(server_kwargs))

    def asana_server(self, principals: PrincipalSource, **server_kwargs: Any) -> MCPServer:
        """The Asana MCP server over each tenant's backend, guarded (cross-tenant ids denied)."""
        from mcp_servers.asana.server import build_asana_server

        guard = self.guard("asana", principals, self.resource_tenant("asana"))
        return build_asana_server(self.asana_backend, self.sessions, guard, **self._options(server_kwargs))

    def knowledge_server(self, principals: PrincipalSource, **server_kwargs: Any) -> MCPServer:
        """The playbook knowledge MCP server, guarded."""
        from mcp_servers.knowledge.server import build_knowledge_server

        # A factory: the vector store and model load on the first knowledge call, not when tools are listed.
        guard = self.guard("knowledge", principals)
        return build_knowledge_server(
            lambda: self.knowledge, guard, shared=self.settings.knowledge_shared_playbooks,
            **self._options(server_kwargs),
        )  # fmt: skip

    def _options(self, server_kwargs: dict[str, Any]) -> dict[str, Any]:
        """``MCPServer`` options plus the shared schema cache, when one was handed in."""
        if self.shared.tool_schemas is None:
            return server_kwargs
        return {"schema_cache": self.shared.tool_schemas, **server_kwargs}

    def server(self, name: str, principals: PrincipalSource, **server_kwargs: Any) -> MCPServer:
        """One MCP server by name (spine, workfront, asana, knowledge)."""
        builders = {
            "spine": self.spine_server,
            "workfront": self.workfront_server,
            "asana": self.asana_server,
            "knowledge": self.knowledge_server,
        }
        if name not in builders:
            raise ValueError(f"server: unknown MCP server {name!r}; use one of {', '.join(SERVER_NAMES)}")
        return builders[name](principals, **server_kwargs)

    def groups_of(self, tenant_id: str, user_id: str) -> frozenset[str] | None:
        """The directory groups of a user, or None when the tenant or user is unknown (token principals)."""
        from spine.errors import SpineError
        from spine.repositories import open_store

        try:
            with open_store(self.sessions, tenant_id) as store:
                # get_user already reads the groups: one query fewer on every HTTP call.
                return frozenset(store.directory.get_user(user_id).groups)
        except SpineError:
            return None

    def servers_for(self, principal: Principal) -> dict[str, MCPServer]:
        """All four servers for one in-process principal (what the agents connect to by default)."""
        from mcp_servers.guard.identity import FixedPrincipal

        source = FixedPrincipal(principal)
        return {name: self.server(name, source) for name in SERVER_NAMES}

    def work_routing(self) -> dict[str, str]:
        """The one rule for where a campaign type's project goes (settings ``work_routing``; "*": every other type),
        as the agents' prompts and the offline model read it."""
        return {"*": "workfront", **self.settings.work_routing}

    def durable_config(self) -> DurableConfig:
        """How this process launches DBOS (the sync engine's workflows and queues), from settings."""
        from sync.durable import DurableConfig, default_system_database_url

        s = self.settings
        url = s.dbos_database_url or default_system_database_url(s.resolved_database_url)
        return DurableConfig(system_database_url=url, schema=s.dbos_schema, executor_id=s.dbos_executor_id,
                             polling_interval_sec=s.dbos_polling_sec)  # fmt: skip

    @contextmanager
    def workers(self, config: DurableConfig | None = None, inbox_batch: int | None = None) -> Iterator[Workers]:
        """DBOS launched (``config``, else ``durable_config()``) with every durable job bound: webhook inbox,
        outbound propagation, campaign setup (mcc/workers.py). This process is a worker until the block ends."""
        from mcc.workers import run_workers

        with run_workers(self, config, inbox_batch) as workers:
            self._worker = True
            try:
                yield workers
            finally:
                self._worker = False

    @contextmanager
    def durable(self, config: DurableConfig | None = None) -> Iterator[Durable]:
        """``workers()`` for callers that only enqueue: the launched engine with its queues."""
        with self.workers(config) as workers:
            yield workers.durable

    def setup_services(self) -> SetupServices:
        """What the campaign-setup workflow's steps use: the spine, fresh backends per step, the routing rule."""
        from sync.campaign_setup import SetupServices
        from sync.setup_systems import system_factory

        systems = system_factory(self.new_workfront_backend, self.new_asana_backend)
        return SetupServices(sessions=self.sessions, systems=systems, routing=self.work_routing(),
                             audit=self.audit_log())  # fmt: skip

    @cached_property
    def campaign_setup(self) -> CampaignSetupClient:
        """Starts and reads campaign-setup workflows (from any process; workers run them)."""
        from sync.setup_client import CampaignSetupClient

        return CampaignSetupClient(self.durable_config())

    def start_campaign_setup(
        self, *, tenant_id: str, actor: str, fields: dict[str, Any] | None, idempotency_key: str,
        approval_id: str | None, campaign_id: str | None = None, project_id: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """The spine tool's starter. A worker process (or, with ``campaign_setup_worker = inline``, this process once
        its first call starts an in-process worker) starts the workflow at once and waits up to
        ``campaign_setup_wait_sec`` for it; ``external`` only enqueues it for ``mcc workflows worker``. Answers the
        run as the tool shows it."""
        if not self._worker and self.settings.campaign_setup_worker == "inline":
            self.ensure_inline_worker()
        run = self.campaign_setup.start(tenant_id=tenant_id, actor=actor, fields=fields,
                                        idempotency_key=idempotency_key, approval_id=approval_id,
                                        wait_seconds=self.settings.campaign_setup_wait_sec if self._worker else 0.0,
                                        campaign_id=campaign_id, project_id=project_id,
                                        direct=self._worker)  # fmt: skip
        return run.summary()

    def ensure_inline_worker(self) -> None:
        """Make this process a worker (``workers()``) until ``close()``, unless it is one already. Call it from a
        thread with no running event loop (the spine tool's worker thread): DBOS adopts a loop running on the
        launching thread. DBOS already launched by another App of this process is refused (never two databases)."""
        from mcp_servers.spine.setup_tools import SetupUnavailableError
        from sync.durable import DurableError

        with self._lazy_lock:
            if self._worker:
                return
            stack = ExitStack()
            try:
                stack.enter_context(self.workers())
            except DurableError as exc:
                stack.close()
                raise SetupUnavailableError(
                    f"campaign setup cannot start a worker in this process: {exc} (set campaign_setup_worker = "
                    "external and run `mcc workflows worker`)"
                ) from None
            self._lazy_workers = stack

    def stop_inline_worker(self) -> None:
        """Stop the worker ``ensure_inline_worker`` started (DBOS destroyed), so another App may launch its own."""
        with self._lazy_lock:
            stack, self._lazy_workers = self._lazy_workers, None
        if stack is not None:
            stack.close()

    def chat_model(self) -> ChatModel:
        """The shared model when one was handed in; else Claude when ANTHROPIC_API_KEY is set, else the offline
        deterministic model (no network)."""
        if self.shared.chat_model is not None:
            return self.shared.chat_model
        if self.settings.anthropic_api_key is not None:
            from agents.models.claude import ClaudeModel

            return ClaudeModel(api_key=self.settings.anthropic_api_key.get_secret_value(),
                               model=self.settings.anthropic_model)  # fmt: skip
        from agents.offline.model import OfflineModel

        # Example-utterance embeddings are cached on disk: a new process skips re-encoding them. The key names
        # the backend too: vectors from onnx and torch agree only to ~1e-7.
        s = self.settings
        from agents.offline.transcript import WorkRouting

        return OfflineModel(encoder=self.embedder, cache_dir=s.home / "cache",
                            cache_key=f"minilm:{s.embedding_model}:{s.embedding_backend}",
                            confirm_writes=s.confirm_writes, work_routing=WorkRouting.of(s.work_routing))  # fmt: skip

    def ingest_default_playbooks(self) -> str:
        """Ingest (incrementally) the playbooks shipped in ``knowledge/playbooks``; a one-line summary."""
        from knowledge.service import default_playbooks_dir

        r = self.knowledge.ingest([default_playbooks_dir()])
        return (
            f"{len(r.added)} added, {len(r.updated)} updated, {len(r.unchanged)} unchanged, "
            f"{len(r.removed)} removed, {len(r.skipped)} skipped; {r.chunks_written} chunks written"
        )

    async def aclose_backends(self) -> None:
        """Close the backends from async code (HTTP clients, sandbox engines), after stopping an inline worker."""
        import asyncio

        await asyncio.to_thread(self.stop_inline_worker)  # DBOS joins its threads: not on the loop
        for backend in self._backends.values():
            await backend.aclose()
        self._backends.clear()

    def close(self) -> None:
        """Stop an inline campaign-setup worker, dispose the engine and close the backends this process opened."""
        import asyncio

        self.stop_inline_worker()

        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop running: close the backends here
            for backend in self._backends.values():
                asyncio.run(backend.aclose())
        # Inside a running loop the caller awaits aclose_backends() instead; nothing is left un-awaited.
        self._backends.clear()
        self.engine.dispose()


@contextmanager
def open_app(settings: Settings | None = None, *, migrate: bool = True) -> Iterator[App]:
    """``App.open`` as a context manager that disposes the engine."""
    app = App.open(settings, migrate=migrate)
    try:
        yield app
    finally:
        app.close()
