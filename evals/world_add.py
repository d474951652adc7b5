"""``world.add``: campaigns, work items, measurements, approvals and playbooks created on top of the fixture, so a
case states the data it depends on instead of relying on the fixture's exact contents.

Campaigns, measurements and approvals are written through the spine's repositories and approval store (as the
demo loader does); projects and tasks go through the real Workfront/Asana MCP tools as the campaign owner with
leadership rights, so the sandbox, the spine links and the work items are exactly what the product writes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from mcp import Client

from evals.cases import ATTACK_PLACEHOLDER, ApprovalAdd, CampaignAdd, TaskAdd, WorldAdd, resolve_date
from evals.world import EvalApp
from policies.model import Principal
from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.repositories import open_store

WF_STATUS = {"new": "NEW", "in_progress": "INP", "complete": "CPL"}
SETUP_GROUPS = frozenset({"marketing-leadership"})  # may call every tool; fixtures need no approval for these


class WorldSetupError(ValueError):
    """An addition that cannot be made; the message names the entry and the reason."""


def with_payload(add: WorldAdd, text: str) -> WorldAdd:
    """``add`` with every ``{{attack}}`` replaced by ``text`` (the injection, or the benign twin's text)."""
    raw = add.model_dump_json()
    return WorldAdd.model_validate_json(raw.replace(ATTACK_PLACEHOLDER, json.dumps(text)[1:-1]))


def email(tenant: str, user: str) -> str:
    """The demo directory's e-mail of a user (as in the Workfront and Asana sandboxes)."""
    return f"{user}@{tenant}.example.com"


class Builder:
    """Applies one case's additions to its world; ``approval_refs`` maps each ``ref`` to its approval id."""

    def __init__(self, app: EvalApp, tenant: str, today: dt.date) -> None:
        self.app = app
        self.tenant = tenant
        self.today = today
        self.approval_refs: dict[str, str] = {}

    async def apply(self, add: WorldAdd) -> None:
        """Every addition, in the order campaigns, work items, measurements, approvals."""
        for i, c in enumerate(add.campaigns):
            await self._guarded(f"world.add.campaigns[{i}] ({c.name})", self.campaign(c))
        for i, w in enumerate(add.work_items):
            tenant = w.tenant or self.tenant
            where = f"world.add.work_items[{i}] ({w.name})"
            await self._guarded(where, self.task(tenant, self._campaign_named(tenant, w.campaign, where), w))
        for i, m in enumerate(add.measurements):
            self._wrap(f"world.add.measurements[{i}]", lambda m=m: self.measurement(m))
        for i, a in enumerate(add.approvals):
            self._wrap(f"world.add.approvals[{i}]", lambda a=a: self.approval(a))

    async def _guarded(self, where: str, coro: Any) -> None:
        try:
            await coro
        except WorldSetupError:
            raise
        except Exception as exc:
            raise WorldSetupError(f"{where}: {exc}") from None

    def _wrap(self, where: str, fn: Any) -> None:
        try:
            fn()
        except WorldSetupError:
            raise
        except Exception as exc:
            raise WorldSetupError(f"{where}: {exc}") from None

    # --- campaigns and tasks -----------------------------------------------------------------------------------

    async def campaign(self, c: CampaignAdd) -> None:
        """A campaign in the spine and, unless system is none, its linked project and tasks."""
        tenant = c.tenant or self.tenant
        launch = resolve_date(c.launch, self.today)
        end = resolve_date(c.end, self.today) if c.end is not None else None
        data: dict[str, Any] = {
            "name": c.name, "type": c.type, "tier": c.tier, "launch_date": launch, "end_date": end,
            "owner_id": c.owner, "description": c.description, "channels": c.channels,
            "budget_planned": c.budget.model_dump(mode="json") if c.budget else None,
        }  # fmt: skip
        with open_store(self.app.sessions, tenant) as store:
            created = store.campaigns.create({k: v for k, v in data.items() if v is not None}, actor=c.owner)
        system = c.system or ("asana" if c.type in ("event", "partner") else "workfront")
        if system == "none":
            if c.tasks:
                raise WorldSetupError(f"campaign {c.name!r}: tasks need a project; set system to workfront or asana")
            return
        owner = Principal(c.owner, tenant, SETUP_GROUPS)
        if system == "workfront":
            args = {"name": c.name, "campaign_id": created.id, "planned_start_date": launch.isoformat(),
                    "planned_completion_date": (end or launch + dt.timedelta(days=30)).isoformat()}  # fmt: skip
            await self._call(owner, "workfront", "create_project", args)
        else:
            args = {"name": c.name, "campaign_id": created.id, "start_on": launch.isoformat(),
                    "due_on": (end or launch + dt.timedelta(days=30)).isoformat()}  # fmt: skip
            await self._call(owner, "asana", "create_project", args)
        for t in c.tasks:
            await self.task(tenant, {"id": created.id, "name": c.name, "owner": c.owner, "system": system}, t)

    def _campaign_named(self, tenant: str, name: str, where: str) -> dict[str, Any]:
        with open_store(self.app.sessions, tenant) as store:
            found = [c for c in store.campaigns.list(limit=10_000) if c.name.casefold() == name.casefold()]
            if len(found) != 1:
                raise WorldSetupError(f"{where}: campaign {name!r} matches {len(found)} campaigns of {tenant}")
            c = found[0]
            system = next((s for s in ("workfront", "asana") if s in c.external_refs), None)
            if system is None:
                raise WorldSetupError(f"{where}: campaign {name!r} has no Workfront or Asana project")
            return {"id": c.id, "name": c.name, "owner": c.owner_id, "system": system}

    async def task(self, tenant: str, campaign: Mapping[str, Any], t: TaskAdd) -> None:
        """A task in the campaign's project via the real tool (mirrored as a work item), then its status; its notes
        are typed into Workfront/Asana directly, as a person would (MCC's PII rules govern MCC's writes only)."""
        owner = Principal(campaign["owner"], tenant, SETUP_GROUPS)
        with open_store(self.app.sessions, tenant) as store:
            project = store.refs.external_id("campaign", campaign["id"], campaign["system"])
        if project is None:
            raise WorldSetupError(f"campaign {campaign['name']!r} has no {campaign['system']} project")
        due = resolve_date(t.due, self.today).isoformat() if t.due is not None else None
        if campaign["system"] == "workfront":
            args: dict[str, Any] = {"project_id": project, "name": t.name, "planned_completion_date": due}
            if t.assignee:
                args["assigned_to_id"] = await self._workfront_user(tenant, t.assignee)
            made = await self._call(owner, "workfront", "create_task", {k: v for k, v in args.items() if v})
            task_id = made["task"]["id"]
            if t.status != "new":
                change = {"obj_type": "task", "obj_id": task_id, "status": WF_STATUS[t.status]}
                await self._call(owner, "workfront", "update_status", change)
            if t.notes:
                await self.app.workfront_backend(tenant).update_task(task_id, {"description": t.notes})
            return
        args = {"name": t.name, "projects": [project], "due_on": due, "completed": t.status == "complete" or None}
        if t.assignee:
            args["assignee"] = self._asana_user(tenant, t.assignee)
        made = await self._call(owner, "asana", "create_task", {k: v for k, v in args.items() if v})
        if t.notes:
            task = made.get("data") or made.get("task") or {}
            await self.app.asana_backend(tenant).update_task(str(task["gid"]), {"notes": t.notes})

    async def _workfront_user(self, tenant: str, user: str) -> str:
        page = await self.app.workfront_backend(tenant).search("USER", fields=["ID", "emailAddr"], limit=500)
        by_email = {u.get("emailAddr"): u.get("ID") for u in page.items}  # type: ignore[attr-defined]
        found = by_email.get(email(tenant, user))
        if not found:
            raise WorldSetupError(f"assignee {user!r} is not a Workfront user of {tenant}")
        return str(found)

    def _asana_user(self, tenant: str, user: str) -> str:
        seeded = self.app.asana_backend(tenant).seed_demo(workspace_name="")  # type: ignore[attr-defined]
        found = seeded.users.get(email(tenant, user))  # seed_demo on a seeded sandbox returns its gids
        if not found:
            raise WorldSetupError(f"assignee {user!r} is not an Asana user of {tenant}")
        return str(found)

    async def _call(self, principal: Principal, server: str, tool: str, args: dict[str, Any]) -> Any:
        async with Client(self.app.server_for(server, principal)) as client:
            result = await client.call_tool(tool, args)
        if result.is_error:
            text = "".join(getattr(b, "text", "") for b in result.content)
            raise WorldSetupError(f"{server}.{tool} failed: {text}")
        data = result.structured_content
        return data["result"] if isinstance(data, dict) and set(data) == {"result"} else data

    # --- measurements and approvals ----------------------------------------------------------------------------

    def measurement(self, m: Any) -> None:
        """One day of metrics for a campaign named in the tenant."""
        tenant = m.tenant or self.tenant
        with open_store(self.app.sessions, tenant) as store:
            found = [c for c in store.campaigns.list(limit=10_000) if c.name.casefold() == m.campaign.casefold()]
            if len(found) != 1:
                raise WorldSetupError(f"campaign {m.campaign!r} matches {len(found)} campaigns of {tenant}")
            row = {"campaign_id": found[0].id, "date": resolve_date(m.date, self.today), "channel": m.channel,
                   "impressions": m.impressions, "clicks": m.clicks, "conversions": m.conversions,
                   "currency": m.currency, "spend": m.spend, "revenue_attributed": m.revenue,
                   "source_system": "custom", "source_campaign_key": f"eval-{found[0].id}"}  # fmt: skip
            store.measurements.append([{k: v for k, v in row.items() if v is not None}], actor="eval")

    def approval(self, a: ApprovalAdd) -> None:
        """An approval request, resolved or expired as asked; its ref is remembered."""
        tenant = a.tenant or self.tenant
        server, tool = a.tool.split(".", 1)
        if self.app.groups_of(tenant, a.requester) is None:
            raise WorldSetupError(f"requester: {a.requester!r} is not a user of tenant {tenant}; set tenant")
        store = ApprovalStore(self.app.sessions, audit=AuditLog(self.app.sessions))
        made = store.request(tenant, server, tool, a.arguments, a.requester, a.required_group, a.reason)
        if a.status in ("approved", "rejected"):
            approver = a.resolved_by or "dana.reyes"
            groups = self.app.groups_of(tenant, approver)
            if groups is None:
                raise WorldSetupError(f"resolved_by: {approver!r} is not a user of {tenant}")
            decision = "approve" if a.status == "approved" else "reject"
            store.resolve(tenant, made.approval_id, approver, groups, decision, a.note)  # type: ignore[arg-type]
        elif a.status == "expired":
            expire_approval(self.app, tenant, made.approval_id)
        if a.ref:
            self.approval_refs[a.ref] = made.approval_id


def expire_approval(app: EvalApp, tenant: str, approval_id: str) -> str:
    """Let an approval's 72 hours run out now: its expiry moves to the past and the store marks it expired."""
    from sqlalchemy import update

    from spine.db import transaction, utcnow
    from spine.models.governance import Approval

    with transaction(app.sessions) as s:
        s.execute(
            update(Approval)
            .where(Approval.approval_id == approval_id, Approval.tenant_id == tenant)
            .values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
    store = ApprovalStore(app.sessions, audit=AuditLog(app.sessions))
    store.expire_overdue(tenant)
    return store.get(tenant, approval_id).status
