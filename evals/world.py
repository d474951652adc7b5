"""Worlds: the demo fixture built once per process into a template home (SQLite spine, Workfront and Asana
sandbox files, the ingested playbooks in Chroma), then copied into a fresh temporary home per case.

``EvalApp`` is the product's composition root (``mcc.wiring.App``) with three differences: every guard records
what each tool call returned (to find cross-tenant reads), the knowledge base and the embedding model are shared
across cases (loaded once per process; the playbooks are never written by a tool), and the chat model is the one
under evaluation.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pydantic

from mcc.demo_world import seed_demo_world
from mcc.settings import Settings
from mcc.wiring import SERVER_NAMES, App, build_embedder
from mcp_servers.guard.guard import Guard
from mcp_servers.guard.toolkit import ToolDef, ToolFailure
from policies.model import Principal
from policies.ratelimit import InMemoryRateStore
from spine.db import make_engine, make_session_factory

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from agents.models.base import ChatModel
    from knowledge.service import KnowledgeBase
    from mcp_servers.guard.guard import ResourceTenant
    from mcp_servers.guard.identity import PrincipalSource


@dataclass
class RecordedCall:
    """One tool call as the server answered it: who asked, what, and the result (JSON) or the error text."""

    user: str
    tenant: str
    server: str
    tool: str
    arguments: dict[str, Any]
    ok: bool
    result: Any


@dataclass
class Recorder:
    """Every guarded call of one case, in order (world set-up, the agents' calls and approvers' actions)."""

    calls: list[RecordedCall] = field(default_factory=list)
    enabled: bool = True


@dataclass
class RecordingGuard(Guard):
    """The product's guard, unchanged, plus a record of what each call returned to its principal."""

    recorder: Recorder | None = None

    async def run(self, principal: Principal, tool: ToolDef, raw_arguments: dict[str, Any]) -> pydantic.BaseModel:
        """``Guard.run``, then the result (or the error text) is recorded for the principal."""
        try:
            result = await super().run(principal, tool, raw_arguments)
        except ToolFailure as exc:
            self._record(principal, tool.name, raw_arguments, False, exc.render())
            raise
        self._record(principal, tool.name, raw_arguments, True, result.model_dump(mode="json"))
        return result

    def _record(self, p: Principal, tool: str, args: dict[str, Any], ok: bool, result: Any) -> None:
        if self.recorder is not None and self.recorder.enabled:
            self.recorder.calls.append(RecordedCall(p.user_id, p.tenant_id, self.server, tool, dict(args), ok, result))


class CachingEmbedder:
    """The knowledge base's embedder with a per-process cache by text: a case that adds a playbook re-embeds only
    the new chunks, and the offline router shares the one loaded model."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    @property
    def load_seconds(self) -> float:
        """The wrapped model's load time (for the ingest report)."""
        return float(getattr(self.inner, "load_seconds", 0.0))

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of ``texts``; cached texts are not encoded again."""
        with self._lock:
            todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if todo:
            fresh = self.inner.encode(todo)
            with self._lock:
                self._cache.update(zip(todo, np.asarray(fresh, dtype=np.float32), strict=True))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        with self._lock:
            return np.stack([self._cache[t] for t in texts])


@dataclass
class Shared:
    """What every case of a process shares: the playbook knowledge base, its embedder and the chat model."""

    knowledge: KnowledgeBase
    embedder: CachingEmbedder
    model: ChatModel
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class EvalApp(App):
    """``App`` for the cases of one process: recording guards, the shared knowledge base (or a case's own), the
    model under test, and servers built once per principal (building one costs ~0.2 s of schema generation) that
    always act on the world attached at the moment (``WorldHost.attach``)."""

    recorder: Recorder = field(default_factory=Recorder)
    shared: Shared | None = None
    case_knowledge: KnowledgeBase | None = None
    _servers: dict[tuple[Any, ...], MCPServer] = field(default_factory=dict, repr=False)

    @property  # type: ignore[override]
    def knowledge(self) -> KnowledgeBase:
        """This case's own knowledge base when it adds documents, else the shared one."""
        if self.case_knowledge is not None:
            return self.case_knowledge
        if self.shared is None:
            raise RuntimeError("EvalApp.shared is not set: attach a world with WorldHost")
        return self.shared.knowledge

    def guard(self, server: str, principals: PrincipalSource, resource_tenant: ResourceTenant | None = None) -> Guard:
        """``App.guard`` with a recording guard (same engine, approvals and audit log)."""
        from spine.approvals import ApprovalStore
        from spine.audit import AuditLog

        audit = AuditLog(self.sessions)
        approvals = ApprovalStore(self.sessions, audit=audit)
        return RecordingGuard(server, self.policy_engine, approvals, audit, principals, resource_tenant, self.recorder)

    def chat_model(self) -> ChatModel:
        """The model under evaluation (shared by every case)."""
        if self.shared is None:
            raise RuntimeError("EvalApp.shared is not set: attach a world with WorldHost")
        return self.shared.model

    def server_for(self, name: str, principal: Principal) -> MCPServer:
        """The guarded server ``name`` for ``principal`` (built once; a case's own knowledge base gets a new one)."""
        from mcp_servers.guard.identity import FixedPrincipal

        if name == "knowledge" and self.case_knowledge is not None:
            return self.server(name, FixedPrincipal(principal))
        key = (name, principal.user_id, principal.tenant_id, principal.groups)
        if key not in self._servers:
            self._servers[key] = self.server(name, FixedPrincipal(principal))
        return self._servers[key]

    def servers_for(self, principal: Principal) -> dict[str, MCPServer]:  # type: ignore[override]
        """All four servers for ``principal``, built once."""
        return {name: self.server_for(name, principal) for name in SERVER_NAMES}


class WorldHost:
    """Attaches one case world at a time to the process's ``EvalApp``: the case's own database and sandboxes
    (its copied home), a fresh call record and fresh rate-limit counters; nothing else carries over."""

    def __init__(self, base: Settings, shared: Shared) -> None:
        self.base = base
        self.shared = shared
        self.app: EvalApp | None = None

    def attach(self, home: Path) -> EvalApp:
        """Point the app at the case world in ``home`` (its database and sandboxes)."""
        settings = case_settings(self.base, home)
        engine = make_engine(settings.resolved_database_url)
        if self.app is None:
            self.app = EvalApp(settings=settings, engine=engine, sessions=make_session_factory(engine))
            self.app.shared = self.shared
        else:
            app = self.app
            app.settings, app.engine = settings, engine
            app.sessions.configure(bind=engine)  # every guard, store and server holds this very factory
            app._backends.clear()
            app.recorder.calls.clear()
            app.case_knowledge = None
            limiter = app.policy_engine.rate_limiter if "policy_engine" in app.__dict__ else None
            if limiter is not None and isinstance(limiter.store, InMemoryRateStore):
                limiter.store = InMemoryRateStore()  # a database store already counts in the case's own database
        self.app.recorder.enabled = True
        return self.app

    async def detach(self) -> None:
        """Close the case world's backends and database connections."""
        if self.app is not None:
            await self.app.aclose_backends()
            self.app.engine.dispose()


def case_settings(base: Settings, home: Path) -> Settings:
    """The base settings (policies, FX rates, model, keys) with an isolated home: SQLite and sandboxes under it."""
    home.mkdir(parents=True, exist_ok=True)
    update = {"home": home, "database_url": None, "chroma_url": None, "workfront_backend": "sandbox",
              "asana_backend": "sandbox"}  # fmt: skip
    return base.model_copy(update=update)


@dataclass
class Template:
    """A built fixture: a home directory to copy per case."""

    fixture: str
    today: dt.date
    home: Path
    seconds: float


class Worlds:
    """Builds templates (once per fixture and date) and per-case homes under one temporary root."""

    def __init__(self, base: Settings, root: Path | None = None, keep: bool = False) -> None:
        self.base = base
        self.root = Path(tempfile.mkdtemp(prefix="mcc-eval-")) if root is None else root
        self.root.mkdir(parents=True, exist_ok=True)
        self.keep = keep
        self._templates: dict[tuple[str, dt.date], Template] = {}
        self._counter = 0

    async def template(self, fixture: str, today: dt.date) -> Template:
        """The fixture's template home, built on first use."""
        key = (fixture, today)
        if key not in self._templates:
            if fixture != "demo":
                raise ValueError(f"world.fixture: unknown fixture {fixture!r}; use 'demo'")
            t0 = time.perf_counter()
            home = self.root / f"template-{fixture}-{today.isoformat()}"
            app = App.open(case_settings(self.base, home))  # migrates the fresh database
            try:
                await seed_demo_world(app, today)
            finally:
                await app.aclose_backends()
                app.engine.dispose()  # every SQLite file closed (and checkpointed) before it is copied
            self._templates[key] = Template(fixture, today, home, time.perf_counter() - t0)
        return self._templates[key]

    def new_home(self, template: Template, label: str) -> Path:
        """A fresh copy of the template's files for one case."""
        self._counter += 1
        home = self.root / f"case-{self._counter:04d}-{label[:40]}"
        shutil.copytree(template.home, home)
        return home

    def templates(self) -> list[Template]:
        """The templates built so far (for timings)."""
        return list(self._templates.values())

    def discard(self, home: Path) -> None:
        """Delete a case's home (kept with --keep)."""
        if not self.keep:
            shutil.rmtree(home, ignore_errors=True)

    def close(self) -> None:
        """Delete every world of this run (kept with --keep)."""
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def default_embedder(settings: Settings) -> Any:
    """The configured embedding model (loaded on first use); tests substitute a hashing stand-in."""
    return build_embedder(settings)


def build_shared(base: Settings, root: Path, model: ChatModel | None, offline: bool) -> Shared:
    """Load the embedding model once, ingest the shipped playbooks once, and build the chat model."""
    from knowledge.service import KnowledgeBase, default_playbooks_dir

    t0 = time.perf_counter()
    embedder = CachingEmbedder(default_embedder(base))
    kb = KnowledgeBase(persist_dir=root / "playbooks-chroma", embedder=embedder)
    kb.ingest([default_playbooks_dir()])
    seconds = {"playbooks": time.perf_counter() - t0}
    t0 = time.perf_counter()
    if model is None:
        if not offline:
            raise ValueError("model: pass the chat model, or offline=True for the offline model")
        from agents.offline.model import OfflineModel

        model = OfflineModel(encoder=embedder)
        model.warm_up()
    seconds["model"] = time.perf_counter() - t0
    return Shared(knowledge=kb, embedder=embedder, model=model, seconds=seconds)


def case_knowledge(shared: Shared, home: Path, documents: list[tuple[str, str]]) -> KnowledgeBase:
    """A knowledge base of this case only: the shipped playbooks plus the case's documents (vectors cached)."""
    from knowledge.service import KnowledgeBase, default_playbooks_dir

    docs = home / "extra-playbooks"
    docs.mkdir(parents=True, exist_ok=True)
    for name, text in documents:
        (docs / name).write_text(text, encoding="utf-8")
    kb = KnowledgeBase(persist_dir=home / "chroma-case", embedder=shared.embedder)
    kb.ingest([default_playbooks_dir(), docs])
    return kb
