"""Which tenant owns the external ids and campaign a call names: the guard's cross-tenant check, with a cache.

An external id maps to one tenant for good (a unique SystemRef per system, entity type and id), and a campaign
never changes tenant, so answers that found an owner are cached; unknown ids are looked up every time.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from spine.models import Campaign, SystemRef

log = logging.getLogger("mcc.guard")

MIXED_TENANTS = "<several tenants>"
LOOKUP_FAILED = "<tenant lookup failed>"

# (tool name, arguments) -> the external ids of ``system`` the call names.
NamedIds = Callable[[str, Mapping[str, Any]], set[str]]
# Built once: the lookup runs on almost every call of the Workfront and Asana servers.
_REF_TENANTS = select(SystemRef.external_id, SystemRef.tenant_id).where(
    SystemRef.system == bindparam("system"), SystemRef.external_id.in_(bindparam("ids", expanding=True))
)
_CAMPAIGN_TENANTS = select(Campaign.id, Campaign.tenant_id).where(Campaign.id.in_(bindparam("ids", expanding=True)))


class ResourceTenants:
    """``Guard(resource_tenant=...)`` for one external system. Returns the owning tenant, None when nothing
    named is known, ``MIXED_TENANTS`` for ids of several tenants and ``LOOKUP_FAILED`` when the spine cannot be
    read: both are no tenant, so the cross-tenant rule denies the call (fail closed)."""

    def __init__(
        self, sessions: sessionmaker[Session], system: str, named_ids: NamedIds, max_cached: int = 10_000
    ) -> None:
        self._sessions = sessions
        self._system = system
        self._named_ids = named_ids
        self._max_cached = max_cached
        self._known: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()  # the guard calls this from worker threads

    def __call__(self, tool: str, args: Mapping[str, Any]) -> str | None:
        wanted = [("ref", i) for i in sorted(self._named_ids(tool, args))]
        if isinstance(campaign_id := args.get("campaign_id"), str):
            wanted.append(("campaign", campaign_id))
        if not wanted:
            return None
        with self._lock:
            cached = {k: t for k in wanted if (t := self._known.get(k)) is not None}
        tenants = set(cached.values())
        missing = [k for k in wanted if k not in cached]
        if missing:
            try:
                found = self._lookup(missing)
            except Exception:
                log.exception("%s %s: tenant lookup failed; denying", self._system, tool)
                return LOOKUP_FAILED
            tenants.update(found.values())
            self._remember(found)
        if len(tenants) > 1:
            return MIXED_TENANTS
        return next(iter(tenants), None)

    def foreign_argument(self, args: Mapping[str, Any], tenant_id: str) -> str | None:
        """The first argument naming an id a known *other* tenant owns (after ``__call__`` cached it), or None."""
        for name, value in args.items():
            values = value.values() if isinstance(value, Mapping) else value if isinstance(value, list) else [value]
            for v in values:
                for key in (("ref", v), ("campaign", v)) if isinstance(v, str) else ():
                    if key in self._known and self._known[key] != tenant_id:
                        return name
        return None

    def _lookup(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        refs = [v for kind, v in keys if kind == "ref"]
        campaigns = [v for kind, v in keys if kind == "campaign"]
        found: dict[tuple[str, str], str] = {}
        # A bare connection, not an ORM session (half the CPU); the bind is read per call, as AuditLog does.
        engine: Engine = self._sessions.kw["bind"]
        with engine.connect() as conn:
            if refs:
                for ext_id, tenant in conn.execute(_REF_TENANTS, {"system": self._system, "ids": refs}):
                    # Ids of two entity types could name two tenants: keep both visible, never cache a guess.
                    if found.setdefault(("ref", ext_id), tenant) != tenant:
                        found[("ref", ext_id)] = MIXED_TENANTS
            if campaigns:
                found.update(
                    (("campaign", cid), tenant) for cid, tenant in conn.execute(_CAMPAIGN_TENANTS, {"ids": campaigns})
                )
        return found

    def _remember(self, found: Mapping[tuple[str, str], str]) -> None:
        with self._lock:
            for key, tenant in found.items():
                if tenant != MIXED_TENANTS:
                    self._known[key] = tenant
            while len(self._known) > self._max_cached:
                self._known.popitem(last=False)
