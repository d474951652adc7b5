"""The spine tool that starts the durable campaign-creation workflow (the composition root hands in the starter, so
this server never imports the sync engine)."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, Field

from mcp_servers.guard.guard import CallContext
from mcp_servers.guard.toolkit import ApprovableCreateInput, ToolDef, ToolFailure
from mcp_servers.spine.common import key_reused
from spine.errors import IdempotencyKeyReusedError
from spine.schemas import CampaignFields


class CampaignSetupStarter(Protocol):
    """Starts (or finds) the workflow of one request and answers its state as ``CampaignSetupOut`` fields."""

    def __call__(
        self, *, tenant_id: str, actor: str, fields: dict[str, Any], idempotency_key: str, approval_id: str | None
    ) -> dict[str, Any]: ...


class StartCampaignSetupArgs(ApprovableCreateInput, CampaignFields):
    """Arguments of start_campaign_setup: the campaign's MCC-owned fields plus the control arguments."""


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
    work_items: int | None = None
    error: str | None = None
    steps: list[SetupStepOut] = Field(default_factory=list)


def setup_tools(starter: CampaignSetupStarter | None) -> list[ToolDef]:
    """``start_campaign_setup`` over ``starter`` (None: the tool answers that setup is not available here)."""

    def start_campaign_setup(call: CallContext, a: StartCampaignSetupArgs) -> CampaignSetupOut:
        """Set up a new campaign end to end in one durable workflow; answer: its state.

        Same fields, rules and approvals as create_campaign (budget_planned over USD 10,000: marketing-
        leadership approval; over 100,000: vp; then re-send the identical call with approval_id). Steps:
        validate, policy, playbook task template for the type and tier, system by the routing rule (events:
        Asana, others: Workfront), campaign (draft, tracking keys), project, task structure, assignees from
        the directory, id mappings, campaign.created / campaign.synced events. Side effects: writes the
        campaign, the project and its tasks in that system, the mappings and events; campaign-managers and
        marketing-leadership may call it. It survives restarts and never creates anything twice. status SUCCESS
        gives campaign_id, system and project_id; ENQUEUED or PENDING: still running, call again with the same
        idempotency_key to see progress; ERROR: error names the step.
        """
        if starter is None:
            raise ToolFailure("campaign setup workers are not configured for this server", code="unavailable",
                              fix="use create_campaign, then the workfront or asana create_project tool")  # fmt: skip
        fields = a.business_arguments(mode="json", exclude_unset=True, exclude_none=False)
        key = call.idempotency_key
        assert key is not None  # the guard derives one for every create
        try:
            run = starter(tenant_id=call.principal.tenant_id, actor=call.principal.user_id, fields=fields,
                          idempotency_key=key, approval_id=call.approval_id)  # fmt: skip
        except IdempotencyKeyReusedError:
            raise key_reused() from None
        return CampaignSetupOut.model_validate(run)

    return [
        ToolDef("start_campaign_setup", StartCampaignSetupArgs, CampaignSetupOut, start_campaign_setup,
                read_only=False, idempotent=True, open_world=True),
    ]  # fmt: skip
