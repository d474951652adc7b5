"""Backfill: propose links from a team's existing projects to spine campaigns, and apply the accepted ones.

Matching, strongest first: a project already linked is skipped; a project whose ``extRefID`` is a campaign id of
the tenant is an exact match (score 1.0); otherwise the campaign with the most similar name (rapidfuzz token-set
ratio) and the nearest launch date, scored ``0.75 * name + 0.25 * date``, is proposed when it scores at least
``MIN_SCORE``; else the proposal is to create a new campaign. Accepting links the project to the campaign (creating
it when none exists, with type, tier, owner and launch date inferred and flagged for review) and mirrors every task
as a work item. Re-running an import refreshes open proposals and never touches accepted or rejected ones.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from spine.errors import NotFoundError, ValidationError
from spine.models import Campaign, ImportProposal, SystemRef
from spine.repositories import SpineStore
from sync.backfill_read import ExternalProject

MIN_SCORE = 0.6
DATE_WINDOW_DAYS = 60  # a launch this far from the project start earns no date score
UUID_LEN = 36


@dataclass
class ProposeSummary:
    """What one import run found and proposed."""

    projects: int = 0
    tasks: int = 0
    already_linked: int = 0
    exact: int = 0
    fuzzy: int = 0
    new: int = 0
    unchanged_decided: int = 0  # accepted or rejected earlier: left as they are
    proposal_ids: list[str] = field(default_factory=list)


def _score(project: ExternalProject, campaign: Campaign) -> float:
    name = fuzz.token_set_ratio(project.name.lower(), campaign.name.lower()) / 100
    if project.start is None:
        return round(0.9 * name, 4)  # no date to confirm the name: never as strong as a dated match
    days = abs((project.start - campaign.launch_date).days)
    return round(0.75 * name + 0.25 * max(0.0, 1 - days / DATE_WINDOW_DAYS), 4)


def propose(session: Session, tenant_id: str, projects: Iterable[ExternalProject], *, dry_run: bool = False,
            system: str | None = None) -> ProposeSummary:  # fmt: skip
    """Store (or refresh) one proposal per project not yet linked; with ``dry_run`` the caller rolls back.
    ``system`` (default: the projects' own) keeps an empty read from being taken for another system's."""
    summary = ProposeSummary()
    projects = list(projects)
    system = system or (projects[0].system if projects else "workfront")
    if any(p.system != system for p in projects):
        raise ValidationError("projects", f"every project must come from {system}", "import one system at a time")
    mine = (SystemRef.tenant_id == tenant_id, SystemRef.system == system, SystemRef.entity_type == "campaign")
    linked = set(session.scalars(select(SystemRef.external_id).where(*mine)))
    taken = set(session.scalars(select(SystemRef.canonical_id).where(*mine)))
    campaigns = list(session.scalars(select(Campaign).where(Campaign.tenant_id == tenant_id)))
    by_id = {c.id: c for c in campaigns}
    free = [c for c in campaigns if c.id not in taken]
    existing = {p.external_id: p for p in session.scalars(select(ImportProposal).where(
        ImportProposal.tenant_id == tenant_id, ImportProposal.system == system))}  # fmt: skip
    for project in projects:
        summary.projects += 1
        summary.tasks += len(project.tasks)
        if project.id in linked:
            summary.already_linked += 1
            continue
        row = existing.get(project.id)
        if row is not None and row.status != "proposed":
            summary.unchanged_decided += 1
            continue
        kind, campaign_id, score = _match(project, by_id, free)
        counter = {"extref": "exact", "fuzzy": "fuzzy", "none": "new"}[kind]
        setattr(summary, counter, getattr(summary, counter) + 1)
        if row is None:
            row = ImportProposal(id=str(uuid.uuid4()), tenant_id=tenant_id, system=system, external_id=project.id,
                                 status="proposed")  # fmt: skip
            session.add(row)
        row.name, row.planned_start, row.planned_end = project.name[:500], project.start, project.end
        row.owner_external_id, row.match_kind, row.campaign_id, row.score = project.owner, kind, campaign_id, score
        row.tasks = [t.to_json() for t in project.tasks]
        row.flags = [] if campaign_id else ["type_inferred", "tier_inferred", "owner_inferred", "launch_inferred"]
        summary.proposal_ids.append(row.id)
    session.flush()
    return summary


def _match(project: ExternalProject, by_id: dict[str, Campaign], free: list[Campaign]) -> tuple[str, str | None, float]:
    ref = (project.ext_ref or "").strip().lower()
    if len(ref) == UUID_LEN and ref in by_id:
        return "extref", ref, 1.0
    best = max(free, key=lambda c: _score(project, c), default=None)
    if best is not None and (score := _score(project, best)) >= MIN_SCORE:
        return "fuzzy", best.id, score
    return "none", None, 0.0


@dataclass
class Applied:
    """What accepting one proposal wrote."""

    proposal_id: str
    campaign_id: str
    campaign_created: bool
    work_items: int
    flags: list[str]


def accept(session: Session, tenant_id: str, proposal_id: str, actor: str, today: dt.date) -> Applied:
    """Link the proposal's project (creating its campaign when proposed), mirror its tasks; in the caller's
    transaction. Idempotent: an accepted proposal is not applied twice."""
    row = _open(session, tenant_id, proposal_id)
    store = SpineStore(session, tenant_id)
    created = False
    campaign_id = row.campaign_id
    if campaign_id is None:
        owner = _owner(store, row.system, row.owner_external_id) or actor
        launch = row.planned_start or today
        out = store.campaigns.create(
            {"name": row.name[:200], "type": "standard", "tier": 2, "launch_date": launch, "owner_id": owner,
             "end_date": row.planned_end if row.planned_end and row.planned_end >= launch else None,
             "tags": ["imported"]},
            actor=actor, client_request_key=f"import-{row.id}",
        )  # fmt: skip
        campaign_id, created = out.id, True
    elif session.get(Campaign, campaign_id) is None:
        raise NotFoundError("campaign", campaign_id, "campaign_id")
    store.refs.link("campaign", campaign_id, row.system, row.external_id, actor=actor)
    known = set(session.scalars(select(SystemRef.external_id).where(
        SystemRef.system == row.system, SystemRef.entity_type == "work_item",
        SystemRef.external_id.in_([t["id"] for t in row.tasks]))))  # fmt: skip
    owners: dict[str, str | None] = {}
    specs = []
    for task in row.tasks:
        if task["id"] in known:
            continue
        start, end = task.get("start"), task.get("end")
        assignee = task.get("assignee")
        if assignee not in owners:
            owners[assignee] = _owner(store, row.system, assignee)
        specs.append({"name": task["name"], "status": task["status"], "percent_complete": task["percent"],
                      "planned_start_date": start, "planned_end_date": start if start and end and end < start else end,
                      "assignee_id": owners[assignee], "source_system": row.system, "external_id": task["id"],
                      "sync_status": "synced"})  # fmt: skip
    items = store.work_items.create_many(campaign_id, specs, actor=actor)
    row.status, row.resolved_by, row.campaign_id = "accepted", actor, campaign_id
    session.flush()
    return Applied(row.id, campaign_id, created, items, list(row.flags) if created else [])


def reject(session: Session, tenant_id: str, proposal_id: str, actor: str) -> None:
    """Mark a proposal rejected: later imports leave the project alone until the proposal is reopened."""
    row = _open(session, tenant_id, proposal_id)
    row.status, row.resolved_by = "rejected", actor
    session.flush()


def proposals(session: Session, tenant_id: str, status: str | None = "proposed") -> list[ImportProposal]:
    """The tenant's proposals, best score first."""
    q = select(ImportProposal).where(ImportProposal.tenant_id == tenant_id)
    if status is not None:
        q = q.where(ImportProposal.status == status)
    return list(session.scalars(q.order_by(ImportProposal.score.desc(), ImportProposal.name)))


def _open(session: Session, tenant_id: str, proposal_id: str) -> ImportProposal:
    row = session.get(ImportProposal, proposal_id)
    if row is None or row.tenant_id != tenant_id:  # another tenant's proposal is answered as an unknown one
        raise NotFoundError("import proposal", proposal_id, "proposal_id")
    if row.status != "proposed":
        raise ValidationError("proposal_id", f"proposal {proposal_id} is already {row.status}", "pick an open one")
    return row


def _owner(store: SpineStore, system: str, external_user: str | None) -> str | None:
    """The MCC person behind an external user id (identity map), or None."""
    if not external_user:
        return None
    user = store.directory.user_for_identity(system, external_user)
    return user.user_id if user is not None else None
