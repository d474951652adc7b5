"""Building ModelRequests the way the graph does: real tool schemas (the servers' own input models), tool results
shaped by the servers' own output models, and conversations of tool_use / tool_result turns."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from agents.models.base import Message, ModelRequest, ModelResponse, TextBlock, ToolResultBlock, ToolSpec, ToolUseBlock
from agents.protocol import user_meta
from mcp_servers.asana import tool_models as asana
from mcp_servers.knowledge import server as knowledge
from mcp_servers.spine import campaign_tools as spine
from mcp_servers.spine import governance_tools as governance
from mcp_servers.spine import strategy_tools as strategies
from mcp_servers.workfront import project_tools as wf_projects
from mcp_servers.workfront import task_tools as wf_tasks
from spine.schemas import CampaignOut

TODAY = dt.date(2026, 11, 2)
ARGS = {
    "spine__list_campaigns": spine.ListCampaignsArgs, "spine__get_campaign": spine.GetCampaignArgs,
    "spine__create_campaign": spine.CreateCampaignArgs, "spine__list_work_items": spine.ListWorkItemsArgs,
    "spine__update_campaign": spine.UpdateCampaignArgs, "spine__submit_strategy": strategies.StrategyArgs,
    "spine__approve_strategy": strategies.StrategyArgs, "spine__reject_strategy": strategies.RejectStrategyArgs,
    "spine__lookup_external_id": spine.LookupExternalArgs, "spine__performance_summary": spine.PerformanceArgs,
    "spine__draft_strategy": strategies.DraftStrategyArgs, "spine__list_strategies": strategies.ListStrategiesArgs,
    "spine__get_tracking_keys": spine.GetCampaignArgs, "spine__list_approvals": governance.ListApprovalsArgs,
    "spine__get_approval": governance.GetApprovalArgs,
    "knowledge__search_playbooks": knowledge.SearchArgs, "knowledge__answer_question": knowledge.AnswerArgs,
    "workfront__create_project": wf_projects.CreateProjectArgs, "workfront__get_project": wf_projects.GetProjectArgs,
    "workfront__update_status": wf_projects.UpdateStatusArgs, "workfront__search": wf_projects.SearchArgs,
    "workfront__create_task": wf_tasks.CreateTaskArgs, "workfront__assign_resource": wf_tasks.AssignArgs,
    "asana__create_project": asana.CreateProjectArgs, "asana__search_tasks": asana.SearchTasksArgs,
    "asana__create_task": asana.CreateTaskArgs, "asana__update_task": asana.UpdateTaskArgs,
    "asana__add_comment": asana.AddCommentArgs, "workfront__add_note": wf_tasks.AddNoteArgs,
    "asana__get_task": asana.TaskGidArgs,
}  # fmt: skip
WRITES = {"spine__create_campaign", "spine__update_campaign", "spine__submit_strategy", "spine__approve_strategy",
          "spine__reject_strategy", "spine__draft_strategy", "workfront__create_project", "workfront__update_status",
          "workfront__create_task", "workfront__assign_resource", "asana__create_project", "asana__create_task",
          "asana__update_task", "asana__add_comment", "workfront__add_note"}  # fmt: skip
AGENT = {
    "production": [n for n in ARGS if n.split("__")[0] in ("workfront", "asana")] + [
        "spine__list_campaigns", "spine__get_campaign", "spine__create_campaign", "spine__update_campaign",
        "spine__list_work_items",
        "spine__lookup_external_id", "spine__list_approvals", "spine__get_approval", "spine__get_tracking_keys"],
    "analytics": ["spine__performance_summary", "spine__list_campaigns", "spine__get_campaign",
                  "spine__get_tracking_keys"],
    "strategy": ["spine__list_campaigns", "spine__get_campaign", "spine__draft_strategy", "spine__list_strategies",
                 "spine__submit_strategy", "spine__approve_strategy", "spine__reject_strategy",
                 "spine__list_approvals", "spine__get_approval", "knowledge__search_playbooks",
                 "knowledge__answer_question"],
    "knowledge": ["knowledge__answer_question", "knowledge__search_playbooks"],
}  # fmt: skip
USERS = {"maya.chen": ["campaign-managers"], "sam.taylor": ["readonly-users"], "dana.reyes": ["marketing-leadership"]}


def specs(agent: str, user: str = "maya.chen") -> list[ToolSpec]:
    """The agent's tools with the servers' real input schemas; read-only users get no write tools."""
    readonly = "readonly-users" in USERS[user]
    return [ToolSpec(name=n, input_schema=ARGS[n].model_json_schema()) for n in AGENT[agent]
            if not (readonly and n in WRITES)]  # fmt: skip


def meta(role: str, agent: str | None = None, user: str = "maya.chen") -> dict[str, Any]:
    out = {"role": role, "user": user_meta(user, "acme", USERS[user]), "today": TODAY.isoformat(), "thread_id": "t1"}
    if agent:
        out["agent"] = agent
    return out


def campaign(name: str, kind: str = "standard", tier: int = 2, refs: dict[str, str] | None = None,
             **extra: Any) -> dict[str, Any]:  # fmt: skip
    """A campaign exactly as spine__list_campaigns answers it (validated by the spine's CampaignOut)."""
    now = dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)
    data = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)), "tenant_id": "acme", "name": name,
        "description": f"{name} description.", "type": kind, "tier": tier, "status": "in_progress",
        "status_updated_at": now, "status_source": "mcc", "launch_date": "2026-12-01", "end_date": "2027-01-31",
        "owner_id": "maya.chen", "team_id": None, "stakeholder_ids": [], "budget_planned":
        {"amount": "20000", "currency": "USD"}, "budget_committed": None, "budget_spent": None,
        "channels": ["email", "web"], "audiences": ["IT leaders"], "products": ["Acme Cloud"], "regions": ["NA"],
        "tags": [], "external_refs": refs or {}, "created_at": now, "created_by": "maya.chen", "updated_at": now,
        "updated_by": "maya.chen", "version": 1, "schema_version": 1, **extra,
    }  # fmt: skip
    return CampaignOut.model_validate(data).model_dump(mode="json")


def campaign_list(*items: dict[str, Any]) -> dict[str, Any]:
    return {"campaigns": list(items), "count": len(items)}


class Conversation:
    """An agent conversation: the part's request, then the model's tool_use turns and our tool_result turns."""

    def __init__(self, agent: str, request: str, user: str = "maya.chen") -> None:
        self.agent, self.user = agent, user
        self.messages = [Message(role="user", content=request)]

    def request(self) -> ModelRequest:
        return ModelRequest(messages=list(self.messages), tools=specs(self.agent, self.user),
                            metadata=meta("agent", self.agent, self.user))  # fmt: skip

    def answer(self, response: ModelResponse, results: dict[str, Any]) -> None:
        """Append the model's turn and one tool_result per tool_use: ``results[name]`` is the JSON data, or an
        ``("error", text)`` tuple for an error result."""
        self.messages.append(response.to_message())
        blocks = []
        for use in response.tool_uses:
            value = results[use.name]
            if isinstance(value, tuple):
                blocks.append(ToolResultBlock(tool_use_id=use.id, content=value[1], is_error=True))
            else:
                blocks.append(ToolResultBlock(tool_use_id=use.id, content=json.dumps(value)))
        self.messages.append(Message(role="user", content=blocks))

    def add_call(self, name: str, args: dict[str, Any], result: Any, is_error: bool = False) -> None:
        """Record a call made earlier (e.g. by a previous step, or re-sent by the graph with approval_id)."""
        use = ToolUseBlock(id=f"toolu_{len(self.messages)}", name=name, input=args)
        self.messages.append(Message(role="assistant", content=[use]))
        content = result if isinstance(result, str) else json.dumps(result)
        self.messages.append(Message(role="user", content=[ToolResultBlock(tool_use_id=use.id, content=content,
                                                                           is_error=is_error)]))  # fmt: skip


def text_message(role: str, text: str) -> Message:
    return Message(role=role, content=[TextBlock(text=text)])  # type: ignore[arg-type]
