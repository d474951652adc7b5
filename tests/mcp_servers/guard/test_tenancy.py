"""The guard's resource-tenant lookup: owners found through the spine, cached; unknown ids looked up each time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import create_engine, delete
from sqlalchemy.orm import Session, sessionmaker

from mcp_servers.guard.tenancy import LOOKUP_FAILED, MIXED_TENANTS, ResourceTenants
from spine.models import SystemRef
from spine.models.core import Tenant


def _ids(_tool: str, args: Mapping[str, Any]) -> set[str]:
    return {v for k, v in args.items() if k.endswith("_id") and k != "campaign_id"}


def _world(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        s.add_all([Tenant(id="acme", name="Acme"), Tenant(id="globex", name="Globex")])
        s.add_all([
            SystemRef(tenant_id="acme", entity_type="campaign", canonical_id="c-a", system="wf", external_id="A1"),
            SystemRef(tenant_id="globex", entity_type="campaign", canonical_id="c-g", system="wf", external_id="G1"),
            SystemRef(tenant_id="globex", entity_type="campaign", canonical_id="c-x", system="other", external_id="X"),
        ])  # fmt: skip


def test_owner_found_cached_and_mixed_ids_are_no_tenant(session_factory: sessionmaker[Session]) -> None:
    _world(session_factory)
    tenant_of = ResourceTenants(session_factory, "wf", _ids)
    assert tenant_of("get_project", {"project_id": "A1"}) == "acme"
    assert tenant_of("get_project", {"project_id": "X"}) is None  # another system's id
    assert tenant_of("get_project", {"project_id": "A1", "task_id": "G1"}) == MIXED_TENANTS
    assert tenant_of("search", {}) is None

    with session_factory.begin() as s:
        s.execute(delete(SystemRef).where(SystemRef.external_id == "A1"))
    # An id's owner never changes, so the answer found before is kept without a query.
    assert tenant_of("get_project", {"project_id": "A1"}) == "acme"
    assert ResourceTenants(session_factory, "wf", _ids)("get_project", {"project_id": "A1"}) is None


def test_unknown_ids_are_looked_up_again(session_factory: sessionmaker[Session]) -> None:
    _world(session_factory)
    tenant_of = ResourceTenants(session_factory, "wf", _ids)
    assert tenant_of("get_project", {"project_id": "NEW"}) is None
    with session_factory.begin() as s:
        s.add(SystemRef(tenant_id="globex", entity_type="campaign", canonical_id="c-n", system="wf", external_id="NEW"))
    assert tenant_of("get_project", {"project_id": "NEW"}) == "globex"


def test_cache_is_bounded(session_factory: sessionmaker[Session]) -> None:
    _world(session_factory)
    tenant_of = ResourceTenants(session_factory, "wf", _ids, max_cached=1)
    assert tenant_of("get_project", {"project_id": "A1"}) == "acme"
    assert tenant_of("get_project", {"project_id": "G1"}) == "globex"  # evicts A1
    with session_factory.begin() as s:
        s.execute(delete(SystemRef).where(SystemRef.external_id == "A1"))
    assert tenant_of("get_project", {"project_id": "A1"}) is None


def test_an_unreadable_spine_fails_closed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = sessionmaker(create_engine(f"sqlite:///{tmp_path}/no-such-dir/spine.db"))
    assert ResourceTenants(broken, "wf", _ids)("get_project", {"project_id": "A1"}) == LOOKUP_FAILED
