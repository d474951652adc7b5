"""Demo data loader: ``load_demo(session_factory)`` creates the acme demo tenant (and globex) idempotently."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from spine.db import transaction
from spine.demo_data import (
    ACME_CAMPAIGNS,
    ACME_USERS,
    CHANNEL_BASELINES,
    DEMO_TENANT,
    GLOBEX_CAMPAIGNS,
    GLOBEX_USERS,
    OTHER_TENANT,
    WORK_TEMPLATE,
)
from spine.models import Tenant
from spine.repositories import SpineStore, create_tenant

MEASURED_DAYS = 90
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class DemoSummary:
    tenants: list[str]
    users: int
    campaigns: int
    work_items: int
    strategies: int
    measurements: int
    created: bool  # False when the demo data was already there


def workfront_id(seed: str) -> str:
    """A plausible, stable Workfront GUID (32 lowercase hex)."""
    return hashlib.md5(f"wf:{seed}".encode(), usedforsecurity=False).hexdigest()


def asana_gid(seed: str) -> str:
    """A plausible, stable Asana gid (16 digits, starting 120...)."""
    digest = int(hashlib.sha256(f"asana:{seed}".encode()).hexdigest(), 16)
    return f"120{digest % 10**13:013d}"


def _external_id(system: str, seed: str) -> str:
    return workfront_id(seed) if system == "workfront" else asana_gid(seed)


# (system, seed) -> external id; the demo world passes the ids its sandboxes handed out.
ExternalIds = Callable[[str, str], str]


@dataclass(frozen=True, slots=True)
class PlannedItem:
    """A demo work item as it should exist in the execution system (and in the spine)."""

    seed: str
    name: str
    item_type: str
    parent: int | None
    status: str
    start: dt.date
    end: dt.date
    assignee: str  # user id: the production team does deliverables and tasks, the campaign owner the rest


@dataclass(frozen=True, slots=True)
class PlannedProject:
    """A demo campaign that runs in Workfront or Asana: its project and work items."""

    seed: str
    system: str
    name: str
    status: str
    launch: dt.date
    end: dt.date | None
    owner: str
    items: list[PlannedItem]


def _item_status(campaign_status: str, index: int, template_status: str) -> str:
    if campaign_status == "completed":
        return "completed"
    if campaign_status in ("planning", "approved") and index:
        return "not_started"
    return template_status


def external_plan(
    tenant_id: str, campaigns: list[dict[str, Any]], users: list[tuple[str, str, list[str]]], today: dt.date
) -> list[PlannedProject]:
    """The projects and work items the demo campaigns have in their execution systems (drafts have none)."""
    producer = next((u for u, _, g in users if "production-team" in g), users[0][0])
    plan = []
    for spec in campaigns:
        if spec["status"] == "draft":
            continue
        launch = today + dt.timedelta(days=spec["start"])
        end = today + dt.timedelta(days=spec["end"]) if spec["end"] is not None else None
        items = [
            PlannedItem(
                seed=f"{tenant_id}:{spec['name']}:{wname}",
                name=f"{wname} — {spec['name']}" if parent is None else wname,
                item_type=wtype,
                parent=parent,
                status=_item_status(spec["status"], j, wstatus),
                start=launch - dt.timedelta(days=30),
                end=launch + dt.timedelta(days=j),
                assignee=producer if wtype in ("deliverable", "task") else spec["owner"],
            )
            for j, (wname, wtype, parent, wstatus) in enumerate(WORK_TEMPLATE)
        ]
        seed, name = f"{tenant_id}:{spec['name']}", spec["name"]
        plan.append(PlannedProject(seed, spec["system"], name, spec["status"], launch, end, spec["owner"], items))
    return plan


def _external_url(system: str, kind: str, ext: str) -> str:
    if system == "workfront":
        return f"https://acme.my.workfront.com/{kind}/{ext}/overview"
    return f"https://app.asana.com/0/{ext}/list"


def _measurements(
    cid: str, spec: dict[str, Any], launch: dt.date, end: dt.date | None, today: dt.date, key: str
) -> list[dict[str, Any]]:
    first = max(launch, today - dt.timedelta(days=MEASURED_DAYS))
    last = min(end or today, today - dt.timedelta(days=1))
    rng = random.Random(spec["name"])  # by name, not id: the same figures in every demo world
    scale = {1: 2.0, 2: 1.0, 3: 0.5}[spec["tier"]]
    rows = []
    day = first
    while day <= last:
        weekly = 1.0 + 0.25 * math.sin(2 * math.pi * day.weekday() / 7)
        for channel in spec["channels"]:
            base_imps, ctr, cvr, cpc, rev = CHANNEL_BASELINES[channel]
            imps = max(0, int(base_imps * scale * weekly * rng.uniform(0.8, 1.2)))
            clicks = int(imps * ctr * rng.uniform(0.85, 1.15))
            convs = int(clicks * cvr * rng.uniform(0.7, 1.3))
            spend = (Decimal(clicks) * Decimal(str(cpc)) * Decimal(str(round(rng.uniform(0.9, 1.1), 2)))).quantize(
                _CENT
            )
            revenue = (Decimal(convs) * Decimal(str(rev)) * Decimal(str(round(rng.uniform(0.8, 1.2), 2)))).quantize(
                _CENT
            )
            rows.append(
                {
                    "campaign_id": cid,
                    "date": day,
                    "channel": channel,
                    "impressions": imps,
                    "clicks": clicks,
                    "conversions": convs,
                    "leads": convs,
                    "currency": spec["currency"],
                    "spend": spend,
                    "revenue_attributed": revenue,
                    "source_system": "google_analytics",
                    "source_campaign_key": key,
                    "data_freshness": "daily",
                }
            )
        day += dt.timedelta(days=1)
    return _pace_spend(rows, spec, launch, end, first, last, rng)


def _pace_spend(
    rows: list[dict[str, Any]], spec: dict[str, Any], launch: dt.date, end: dt.date | None, first: dt.date,
    last: dt.date, rng: random.Random,
) -> list[dict[str, Any]]:  # fmt: skip
    """Scale spend so a campaign has spent roughly its budget's share of the elapsed flight, as real ones do."""
    total = sum((r["spend"] for r in rows), Decimal(0))
    if not rows or total == 0 or not spec.get("budget"):
        return rows
    flight = max(1, ((end or launch + dt.timedelta(days=90)) - launch).days + 1)
    elapsed = min(1.0, ((last - launch).days + 1) / flight)
    target = Decimal(spec["budget"]) * Decimal(str(round(elapsed * rng.uniform(0.82, 1.04), 4)))
    factor = target / total
    for r in rows:
        r["spend"] = (r["spend"] * factor).quantize(_CENT)
    return rows


def _load_tenant(
    session: Session, tenant_id: str, name: str, users: list, campaigns: list, today: dt.date, ext: ExternalIds
) -> dict:
    create_tenant(session, tenant_id, name)
    store = SpineStore(session, tenant_id)
    domain = f"{tenant_id}.example.com"
    for user_id, display, groups in users:
        store.directory.add_user(
            {"user_id": user_id, "display_name": display, "email": f"{user_id}@{domain}", "groups": groups}
        )
    leader = next(u for u, _, g in users if "marketing-leadership" in g)
    counts = {"campaigns": 0, "work_items": 0, "strategies": 0, "measurements": 0}
    plans = {p.name: p for p in external_plan(tenant_id, campaigns, users, today)}
    for i, spec in enumerate(campaigns):
        launch = today + dt.timedelta(days=spec["start"])
        end = today + dt.timedelta(days=spec["end"]) if spec["end"] is not None else None
        c = store.campaigns.create(
            {
                "name": spec["name"],
                "description": spec["description"],
                "type": spec["type"],
                "tier": spec["tier"],
                "launch_date": launch,
                "end_date": end,
                "owner_id": spec["owner"],
                "team_id": "events" if spec["type"] == "event" else "demand-gen",
                "stakeholder_ids": [leader],
                "budget_planned": {"amount": spec["budget"], "currency": spec["currency"]},
                "channels": spec["channels"],
                "audiences": spec["audiences"],
                "products": spec["products"],
                "regions": spec["regions"],
                "tags": [spec["type"], f"tier-{spec['tier']}"],
            },
            actor=spec["owner"],
            client_request_key=f"demo-{tenant_id}-{i}",
        )
        counts["campaigns"] += 1
        system = spec["system"]
        planned = plans.get(spec["name"])
        if planned is not None:
            pext = ext(system, planned.seed)
            store.refs.link("campaign", c.id, system, pext, external_url=_external_url(system, "project", pext))
            store.campaigns.set_status(c.id, spec["status"], source=system, actor="sync")
            parents: list[str] = []
            for item_plan in planned.items:
                status, wtype = item_plan.status, item_plan.item_type
                wext = ext(system, item_plan.seed)
                item = store.work_items.create(
                    {
                        "campaign_id": c.id,
                        "parent_item_id": parents[item_plan.parent] if item_plan.parent is not None else None,
                        "name": item_plan.name,
                        "item_type": wtype,
                        "priority": "high" if spec["tier"] == 1 else "medium",
                        "status": status,
                        "percent_complete": 100 if status == "completed" else (50 if status == "in_progress" else 0),
                        "planned_start_date": item_plan.start,
                        "planned_end_date": item_plan.end,
                        "assignee_id": item_plan.assignee,
                        "source_system": system,
                        "external_id": wext,
                        "external_url": _external_url(system, "task", wext),
                        "sync_status": "synced",
                    },
                    actor="sync",
                )
                parents.append(item.id)
                counts["work_items"] += 1
        strat = store.strategies.create(
            {
                "campaign_id": c.id,
                "type": "messaging" if i % 2 else "full",
                "title": f"{spec['name']} — strategy",
                "content": {
                    "sections": [
                        {"heading": "Objective", "body": spec["description"]},
                        {"heading": "Audience", "body": ", ".join(spec["audiences"])},
                        {"heading": "Channels", "body": ", ".join(spec["channels"])},
                    ]
                },
                "generated_by": "agent" if i % 3 == 0 else "human",
            },
            actor=spec["owner"],
        )
        counts["strategies"] += 1
        if spec["status"] not in ("draft",):
            store.strategies.submit(strat.id, actor=spec["owner"])
            if spec["status"] != "planning":
                store.strategies.approve(strat.id, actor=leader)
        if launch <= today:
            key = store.tracking.get(c.id).google_analytics
            rows = _measurements(c.id, spec, launch, end, today, key)
            counts["measurements"] += store.measurements.append(rows)
            store.campaigns.refresh_budget_spent(c.id)
            store.assets.create(
                {
                    "campaign_id": c.id,
                    "type": "image",
                    "name": f"{spec['name']} hero banner",
                    "url": f"https://dam.{domain}/assets/{c.id[:8]}/hero.png",
                    "metadata": {"width": 1200, "height": 628, "format": "png"},
                    "source": "dam",
                    "source_asset_id": f"dam-{c.id[:8]}",
                },
                actor="dam",
            )
    counts["users"] = len(users)
    return counts


def load_demo(
    session_factory: sessionmaker[Session], *, today: dt.date | None = None, external_ids: ExternalIds | None = None
) -> DemoSummary:
    """Create the demo tenants once (one transaction); calling again changes nothing.

    ``external_ids(system, seed)`` names the Workfront/Asana ids of the demo projects and tasks (the demo world
    passes the ids its sandboxes created); by default stable made-up ids are used.
    """
    today = today or dt.date.today()
    ext = external_ids or _external_id
    with transaction(session_factory) as session:
        if session.get(Tenant, DEMO_TENANT) is not None:
            acme, globex = SpineStore(session, DEMO_TENANT), SpineStore(session, OTHER_TENANT)
            return DemoSummary(
                tenants=[DEMO_TENANT, OTHER_TENANT],
                users=len(acme.directory.list_users()) + len(globex.directory.list_users()),
                campaigns=acme.campaigns.count() + globex.campaigns.count(),
                work_items=len(acme.work_items.list()) + len(globex.work_items.list()),
                strategies=len(acme.strategies.list()) + len(globex.strategies.list()),
                measurements=acme.measurements.count() + globex.measurements.count(),
                created=False,
            )
        a = _load_tenant(session, DEMO_TENANT, "Acme Corporation", ACME_USERS, ACME_CAMPAIGNS, today, ext)
        g = _load_tenant(session, OTHER_TENANT, "Globex Corporation", GLOBEX_USERS, GLOBEX_CAMPAIGNS, today, ext)
    return DemoSummary(
        tenants=[DEMO_TENANT, OTHER_TENANT],
        users=a["users"] + g["users"],
        campaigns=a["campaigns"] + g["campaigns"],
        work_items=a["work_items"] + g["work_items"],
        strategies=a["strategies"] + g["strategies"],
        measurements=a["measurements"] + g["measurements"],
        created=True,
    )
