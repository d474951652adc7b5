"""The campaign-setup workflow's failures, and what its steps do differently for an EXISTING campaign
(``campaign_id`` instead of the new campaign's fields): validate finds the campaign instead of parsing fields, and
choose_system checks the campaign's links against the routing rule and picks the project to adopt."""

from __future__ import annotations

from typing import Any

from spine.repositories import SpineStore

CLOSED_STATUSES = frozenset({"completed", "cancelled"})


class StepFailed(RuntimeError):
    """A step failed for good (bad input, a refused call); one string argument, so DBOS can record it."""


class TransientStepFailure(RuntimeError):
    """A step failed in a way a retry may cure (429, 5xx, timeout): DBOS retries it with backoff."""


def validate_existing(s: SpineStore, req: dict[str, Any]) -> dict[str, Any]:
    """The campaign is in the caller's tenant (another tenant's id is not found) and still open; the caller is in
    the directory (the guard already decided that the caller may write campaigns)."""
    s.directory.get_user(req["actor"])
    found = s.campaigns.get(req["campaign_id"])
    if str(found.status) in CLOSED_STATUSES:
        raise StepFailed(f"validate: campaign_id: campaign {found.id} is {found.status}; only an open campaign is set "
                         "up (fix: reopen it, or set up another campaign)")  # fmt: skip
    campaign = found.model_dump(mode="json", include={"id", "name", "type", "tier", "launch_date", "end_date",
                                                      "owner_id"})  # fmt: skip
    return {"campaign": campaign, "existing": True}


def linked_project(s: SpineStore, req: dict[str, Any], campaign: dict[str, Any], system: str) -> str | None:
    """The project to adopt in ``system`` (the rule's): the linked one, else the caller's ``project_id``, else None
    (create one). A link in the other system only, or a project_id other than the linked one, fails the step."""
    campaign_id = campaign["id"]
    refs = {r.system: r.external_id for r in s.refs.external_ids("campaign", campaign_id)}
    others = sorted(k for k in refs if k in ("workfront", "asana") and k != system)
    if others and system not in refs:
        raise StepFailed(f"choose_system: campaign {campaign_id} is linked to a {others[0]} project "
                         f"({refs[others[0]]}), but {campaign['type']} campaigns go to {system} by the routing rule "
                         "(fix: link it to a project in that system, or change work_routing)")  # fmt: skip
    linked, given = refs.get(system), req.get("project_id")
    if given and linked and given != linked:
        raise StepFailed(f"choose_system: project_id: {given} is not the campaign's linked {system} project "
                         f"({linked}) (fix: pass {linked}, or leave project_id out)")  # fmt: skip
    return linked or given
