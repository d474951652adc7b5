"""Worlds: the demo fixture built once per process into a template home (SQLite spine, Workfront and Asana
sandbox files, the ingested playbooks in Chroma), then copied into a fresh temporary home per case.

Each case world gets a new ``EvalApp``: the product's composition root (``mcc.wiring.App``), opened on the
world's home through the normal wiring, with one difference: every guard records what each tool call returned
(to find cross-tenant reads). The knowledge base, the embedding model and the chat model under evaluation are
built once per process and handed to each world's App as ``SharedParts`` (the playbooks are never written by a
tool; a case that adds documents gets a knowledge base of its own).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pydantic

from mcc.demo_world import seed_demo_world
from mcc.settings import Settings
from mcc.wiring import SERVER_NAMES, App, SharedParts, build_embedder
from mcp_servers.guard.guard import Guard
from mcp_servers.guard.sdk_adapter import ToolSchemaCache
from mcp_servers.guard.toolkit import ToolDef, ToolFailure
from policies.model import Principal

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
    """What every case of a process shares: the playbook knowledge base, its embedder, the chat model and the
    servers' tool schemas."""

    knowledge: KnowledgeBase
    embedder: CachingEmbedder
    model: ChatModel
    seconds: dict[str, float] = field(default_factory=dict)
    tool_schemas: ToolSchemaCache = field(default_factory=ToolSchemaCache)

    def parts(self, knowledge: KnowledgeBase | None = None) -> SharedParts:
        """The parts a world's ``App`` takes ready-made: this case's own knowledge base, or the shared one."""
        kb = knowledge or self.knowledge
        return SharedParts(embedder=self.embedder, knowledge=kb, chat_model=self.model, tool_schemas=self.tool_schemas)


@dataclass
class EvalApp(App):
    """``App`` on one case world: recording guards, and servers built once per principal within the world."""

    recorder: Recorder = field(default_factory=Recorder)
    _servers: dict[tuple[Any, ...], MCPServer] = field(default_factory=dict, repr=False)

    def guard(self, server: str, principals: PrincipalSource, resource_tenant: ResourceTenant | None = None) -> Guard:
        """``App.guard`` with a recording guard (same engine, approvals and audit log)."""
        plain = super().guard(server, principals, resource_tenant)
        return RecordingGuard(server, plain.engine, plain.approvals, plain.audit, principals, resource_tenant,
                              self.recorder)  # fmt: skip

    def server_for(self, name: str, principal: Principal) -> MCPServer:
        """The guarded server ``name`` for ``principal`` in this world (built on first use)."""
        from mcp_servers.guard.identity import FixedPrincipal

        key = (name, principal.user_id, principal.tenant_id, principal.groups)
        if key not in self._servers:
            self._servers[key] = self.server(name, FixedPrincipal(principal))
        return self._servers[key]

    def servers_for(self, principal: Principal) -> dict[str, MCPServer]:
        """All four servers for ``principal``, built once in this world."""
        return {name: self.server_for(name, principal) for name in SERVER_NAMES}


@asynccontextmanager
async def open_world(
    base: Settings, shared: Shared, home: Path, knowledge: KnowledgeBase | None = None
) -> AsyncIterator[EvalApp]:
    """A new ``EvalApp`` on the case world in ``home`` (its copied database and sandboxes), with the process's
    shared model and embedder and ``knowledge`` (default: the shared playbooks); closed on exit, with the DBOS
    worker its first start_campaign_setup started (cases run one after another: the next world launches its own)."""
    app = EvalApp.open(case_settings(base, home), migrate=False, shared=shared.parts(knowledge))
    try:
        yield app
    finally:
        await app.aclose_backends()
        app.engine.dispose()


def case_settings(base: Settings, home: Path) -> Settings:
    """The base settings (policies, FX rates, model, keys) with an isolated home: SQLite and sandboxes under it."""
    home.mkdir(parents=True, exist_ok=True)
    # A world's inline campaign-setup worker (DBOS) stops when the world closes; its queue threads wait out one
    # poll first, so a short poll keeps that from adding up to a second per case.
    update = {"home": home, "database_url": None, "chroma_url": None, "workfront_backend": "sandbox",
              "asana_backend": "sandbox", "dbos_polling_sec": 0.1}  # fmt: skip
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
