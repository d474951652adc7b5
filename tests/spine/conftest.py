"""Spine test helpers: two tenants with users, and a valid campaign input."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from spine.db import Base, transaction
from spine.repositories import SpineStore, create_tenant

T1, T2 = "acme-test", "globex-test"


def campaign_input(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Q1 Launch",
        "type": "product_launch",
        "tier": 1,
        "launch_date": "2026-02-15",
        "end_date": "2026-04-30",
        "owner_id": "maya.chen",
        "budget_planned": {"amount": "50000.00", "currency": "USD"},
        "channels": ["email", "paid_media"],
        "tags": ["launch"],
    }
    data.update(overrides)
    return data


def row_counts(session: Session) -> dict[str, int]:
    """Rows per table: the 'database unchanged' check."""
    return {t.name: session.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables}


@pytest.fixture
def factory(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """A session factory over a database holding tenants T1 and T2, each with users."""
    with transaction(session_factory) as s:
        create_tenant(s, T1, "Acme Test")
        create_tenant(s, T2, "Globex Test")
        one, two = SpineStore(s, T1), SpineStore(s, T2)
        one.directory.add_user(
            {
                "user_id": "maya.chen",
                "display_name": "Maya Chen",
                "email": "maya@acme.test",
                "groups": ["campaign-managers"],
            }
        )
        one.directory.add_user(
            {
                "user_id": "lee.park",
                "display_name": "Lee Park",
                "email": "lee@acme.test",
                "groups": ["marketing-leadership"],
            }
        )
        two.directory.add_user(
            {"user_id": "gus.g", "display_name": "Gus G", "email": "gus@globex.test", "groups": ["campaign-managers"]}
        )
    return session_factory


@pytest.fixture
def campaign_id(factory: sessionmaker[Session]) -> str:
    with transaction(factory) as s:
        return SpineStore(s, T1).campaigns.create(campaign_input(), actor="maya.chen").id
