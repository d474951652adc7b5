"""A small inbound-sync world: tenant acme with two people, one campaign linked to a Workfront project with three
linked tasks, and helpers that build Workfront event messages the way Workfront sends them."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from spine.audit import AuditLog
from spine.db import transaction
from spine.repositories import SpineStore, create_tenant
from sync import inbox

TENANT = "acme"
AUDIT_KEY = b"inbound-test-audit-key-0123456789"
WF_MAYA = "a" * 32
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@dataclass
class World:
    sessions: sessionmaker[Session]
    audit: AuditLog
    campaign_id: str
    project_id: str
    task_ids: list[str] = field(default_factory=list)  # Workfront task ids
    item_ids: list[str] = field(default_factory=list)  # their work items, same order


def build_world(sessions: sessionmaker[Session], tasks: int = 3) -> World:
    project = uuid.uuid4().hex
    with transaction(sessions) as s:
        create_tenant(s, TENANT, "Acme")
        store = SpineStore(s, TENANT)
        for uid, wf in (("maya.chen", WF_MAYA), ("lee.park", None)):
            store.directory.add_user({"user_id": uid, "display_name": uid, "email": f"{uid}@acme.test",
                                      "groups": ["campaign-managers"], "workfront_user_id": wf})  # fmt: skip
        campaign = store.campaigns.create(
            {"name": "Q1 Launch", "type": "product_launch", "tier": 1, "launch_date": "2026-02-15",
             "end_date": "2026-04-30", "owner_id": "maya.chen"}, actor="maya.chen")  # fmt: skip
        store.refs.link("campaign", campaign.id, "workfront", project, actor="test")
        world = World(sessions, AuditLog(sessions, key=AUDIT_KEY), campaign.id, project)
        for i in range(tasks):
            tid = uuid.uuid4().hex
            item = store.work_items.create({"campaign_id": campaign.id, "name": f"Step {i + 1}",
                                            "source_system": "workfront", "external_id": tid,
                                            "planned_start_date": "2026-02-01", "planned_end_date": "2026-02-10",
                                            "sync_status": "synced"}, actor="test")  # fmt: skip
            store.refs.link("work_item", item.id, "workfront", tid, actor="test")
            world.task_ids.append(tid)
            world.item_ids.append(item.id)
    return world


def wf_event(event_type: str, code: str, obj_id: str, at: dt.datetime, new: dict[str, Any] | None = None,
             old: dict[str, Any] | None = None) -> bytes:  # fmt: skip
    """A Workfront event-subscription message body."""
    when = {"epochSecond": int(at.timestamp()), "nano": at.microsecond * 1000}
    body: dict[str, Any] = {"eventType": event_type, "subscriptionId": "sub1", "eventTime": when}
    if new is not None:
        body["newState"] = {"ID": obj_id, "objCode": code, **new}
    if old is not None:
        body["oldState"] = {"ID": obj_id, "objCode": code, **old}
    return json.dumps(body).encode()


def task_update(world: World, i: int, at: dt.datetime, old: dict[str, Any], new: dict[str, Any]) -> bytes:
    base = {"projectID": world.project_id}
    return wf_event("UPDATE", "TASK", world.task_ids[i], at, {**base, **new}, {**base, **old})


def deliver(world: World, body: bytes, system: str = "workfront") -> inbox.Stored:
    """Store a delivery the way the receiver does (delivery id from the body)."""
    headers = {"content-type": "application/json"}
    return inbox.store(world.sessions, TENANT, system, inbox.delivery_id_for(body), headers, body)
