"""The spine tool that starts the durable campaign-creation workflow (the composition root hands in the starter, so
this server never imports the sync engine)."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from pydantic import BaseModel, Field

from mcp_servers.guard.guard import CallContext
from mcp_servers.guard.toolkit import ApprovableCreateInput, ToolDef, ToolFailure
from mcp_servers.spine.common import key_reused
from spine.errors import IdempotencyKeyReusedError
from spine.schemas import CampaignFields, CampaignUpdate, parse

_REQUIRED_NEW = ("name", "type", "tier", "launch_date", "owner_id")
_ID = Annotated[str, Field(min_length=1, max_length=128)]


class SetupUnavailableError(RuntimeError):
    """The starter cannot run or enqueue the workflow in this process (the message says why and what to do)."""


class CampaignSetupStarter(Protocol):
    """Starts (or finds) the workflow of one request and answers its state as ``CampaignSetupOut`` fields.
    ``fields`` (a new campaign) or ``campaign_id`` (an existing one, optionally with its linked ``project_id``)."""

    def __call__(
        self, *, tenant_id: str, actor: str, fields: dict[str, Any] | None, idempotency_key: str,
        approval_id: str | None, campaign_id: str | None = None, project_id: str | None = None,
    ) -> dict[str, Any]: ...  # fmt: skip


class StartCampaignSetupArgs(ApprovableCreateInput, CampaignUpdate):
    """Arguments of start_campaign_setup: a new campaign's MCC-owned fields (every field optional here; a new
    campaign's required ones are checked by ``request_of``), or ``campaign_id`` (and optionally ``project_id``) of
    an existing one; plus the control arguments."""

    campaign_id: _ID | None = Field(default=None, description="Existing campaign's UUID (no other fields)")
    project_id: _ID | None = Field(
        default=None,
        description="With campaign_id: its project in the routed system (default: the linked one, else new)",
    )


_FIELD_NAMES = tuple(n for n in CampaignFields.model_fields)


def request_of(a: StartCampaignSetupArgs) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """(fields, campaign_id, project_id) of a call: the new campaign's fields, or the existing campaign's ids.
    A ToolFailure naming the argument when the call mixes the two modes or misses a required field."""
    given = a.business_arguments(mode="json", exclude_unset=True, exclude_none=True)
    fields = {k: v for k, v in given.items() if k in _FIELD_NAMES}
    if a.campaign_id is not None:
        if fields:
            first = next(iter(fields))
            raise ToolFailure(f"{first}: an existing campaign (campaign_id) is set up as it is, so {first} cannot be "
                              "given with campaign_id", field=first,
                              fix=f"drop {first} (change the campaign with update_campaign), or drop campaign_id to "
                                  "create a new campaign")  # fmt: skip
        return None, a.campaign_id, a.project_id
    if a.project_id is not None:
        raise ToolFailure("project_id: a project is adopted only for an existing campaign", field="project_id",
                          fix="give campaign_id too, or drop project_id for a new project")  # fmt: skip
    for name in _REQUIRED_NEW:
        if name not in fields:
            raise ToolFailure(f"{name}: a new campaign needs {name}", field=name,
                              fix="give name, type, tier, launch_date and owner_id for a new campaign, or campaign_id "
                                  "to set up an existing one")  # fmt: skip
    parse(CampaignFields, fields)  # the same rules as create_campaign (a typed error naming the field)
    return fields, None, None


class SetupStepOut(BaseModel):
    name: str
    state: str = Field(description="done | running | pending | failed")


class CampaignSetupOut(BaseModel):
    workflow_id: str
    request_id: str
    status: str = Field(description="ENQUEUED, PENDING (running), SUCCESS or ERROR")
    campaign_id: str | None = None
    system: str | None = Field(default=None, description="workfront | asana")
    project_id: str | None = None
    template: str | None = None
    work_items: int | None = None
    assigned: list[str] = Field(default_factory=list, description="User ids given tasks")
    error: str | None = None
    steps: list[SetupStepOut] = Field(default_factory=list)


def setup_tools(starter: CampaignSetupStarter | None) -> list[ToolDef]:
    """``start_campaign_setup`` over ``starter``; no starter (no workflow runs behind this server): no tool, so an
    agent keeps creating the campaign and its project with the two plain tools."""
    if starter is None:
        return []

    def start_campaign_setup(call: CallContext, a: StartCampaignSetupArgs) -> CampaignSetupOut:
        """Set up a campaign in one durable workflow: project, task template, assignees.

        (1) campaign_id (UUID) of an EXISTING campaign, e.g. after create_campaign and create_project, optionally
        project_id; no other field. Adopts its linked project (or project_id) in the routed system, else creates
        one. No approval. (2) A NEW campaign: create_campaign's fields and approvals (budget_planned over USD
        10,000: marketing-leadership; over 100,000: vp; re-send with approval_id). Then: template for type and
        tier, system by routing (events: Asana, else Workfront), sections and tasks, assignees from the
        directory, mappings, campaign.synced. Side effects: spine and Workfront/Asana writes, never twice, survives
        restarts. SUCCESS: campaign_id, system, project_id, template, work_items, assigned; ENQUEUED/PENDING:
        running, re-call with the same idempotency_key; ERROR: error names the step.
        """
        assert starter is not None  # narrowed above: the tool exists only with a starter
        fields, campaign_id, project_id = request_of(a)
        key = call.idempotency_key
        assert key is not None  # the guard derives one for every create
        try:
            run = starter(tenant_id=call.principal.tenant_id, actor=call.principal.user_id, fields=fields,
                          idempotency_key=key, approval_id=call.approval_id, campaign_id=campaign_id,
                          project_id=project_id)  # fmt: skip
        except IdempotencyKeyReusedError:
            raise key_reused() from None
        except SetupUnavailableError as exc:
            fix = "run `mcc workflows worker`, or use create_campaign and create_project"
            raise ToolFailure(str(exc), code="unavailable", fix=fix) from None
        return CampaignSetupOut.model_validate(run)

    return [
        ToolDef("start_campaign_setup", StartCampaignSetupArgs, CampaignSetupOut, start_campaign_setup,
                read_only=False, idempotent=True, open_world=True),
    ]  # fmt: skip
