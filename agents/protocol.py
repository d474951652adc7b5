"""The contract between the graph and any model that drives it (Claude or the offline model).

The graph talks to a model only through ``ChatModel.complete(ModelRequest)``; what kind of step is asked for is
said in ``ModelRequest.metadata`` (keys below), so the offline model can act deterministically and Claude reads
the same facts from the system prompt.

Steps:
- **route** (``metadata["role"] == "supervisor"``): tools = [``ROUTE_TOOL``], ``tool_choice`` forces it. The model
  answers a ``route_request`` tool_use whose ``parts`` list 1-4 ``{agent, request}`` items (one per domain of a
  multi-domain request, in the order they should run), or zero parts and a ``reply`` when no agent is needed
  (greeting, help, a question about the conversation itself). A forced tool call carries no text, so the reply
  travels inside the call; plain text instead of the call (what the offline model answers) is still the reply.
- **agent** (``role == "agent"``, ``metadata["agent"]`` one of ``AGENTS``): messages start with the part's request
  as a user message; tools are that agent's MCP tools named ``<server>__<tool>``. The model answers tool_use blocks
  (the graph runs them through MCP and appends one user message of tool_result blocks whose content is the JSON
  of the tool's structured result, or the tool's error text with ``is_error``) or final text, which ends the agent.
  A tool_result whose JSON has ``"status": "approval_required"`` never reaches the model: the graph interrupts.
  After a rejection the model gets an ``is_error`` tool_result starting with ``REJECTED_PREFIX`` and must not
  re-send that call.
- **synthesise** (``role == "synthesiser"``): one user message holding each agent's answer under a heading; the
  model answers text only.

Output limits: each step asks for ``max_tokens_for(role, agent)`` tokens. A step cut off at the limit
(``stop_reason`` ``max_tokens`` or ``model_context_window_exceeded``) never runs its tool calls: each is answered
with an ``is_error`` tool_result (``cut_tool_results``) asking for a shorter call; cut text is shown with
``CUT_NOTE``. A ``refusal`` ends the part with what the model said and ``REFUSAL_NOTE``; no tool call of it runs.

Metadata every step carries: ``user`` (``{"user_id", "tenant_id", "groups": [...]}``), ``today`` (ISO date, so
relative dates resolve the same way in a test and in production), ``thread_id``; optionally ``work_routing``
(``WORK_ROUTING_KEY``: campaign type -> system, ``"*"`` for every other type; ``DEFAULT_WORK_ROUTING`` when absent),
and on supervisor and agent steps ``conversation`` (``CONVERSATION_KEY``): ``awaiting`` (what the last reply asked
the user, each ``{"agent", "request"}``), ``focus`` (what the thread last dealt with) and ``waiting`` (calls of this
thread that wait on an approval: approval id, group, expiry). A model that asks the user something (a clarifying
question, a proposal awaiting yes/no) says so in ``ModelResponse.asks``; the reply text never repeats the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.models.base import ModelResponse, ToolResultBlock, ToolSpec
from agents.models.schema import lean_schema

AgentName = Literal["strategy", "production", "analytics", "knowledge"]
AGENTS: Final[tuple[AgentName, ...]] = ("strategy", "production", "analytics", "knowledge")
ROLE_KEY: Final = "role"
AGENT_KEY: Final = "agent"
USER_KEY: Final = "user"
TODAY_KEY: Final = "today"
THREAD_KEY: Final = "thread_id"
WORK_ROUTING_KEY: Final = "work_routing"
CONVERSATION_KEY: Final = "conversation"
TOOL_SEPARATOR: Final = "__"
ROUTE_TOOL_NAME: Final = "route_request"
REJECTED_PREFIX: Final = "REJECTED:"
# The servers' control arguments: the approval a re-sent call presents and a create's idempotency key. They steer
# how a call runs, not what it does, so they are not part of a call's identity.
APPROVAL_ARG: Final = "approval_id"
IDEMPOTENCY_ARG: Final = "idempotency_key"
CONTROL_ARGUMENTS: Final = frozenset({APPROVAL_ARG, IDEMPOTENCY_ARG})
MAX_PARTS: Final = 4
# Output budget per step: routing is short, a strategy draft with long sections is not (all within every current
# model's limit, and short enough for a non-streamed call).
MAX_TOKENS: Final[dict[str, int]] = {"supervisor": 2048, "synthesiser": 4096, "agent": 8192, "strategy": 16000}
CUT_NOTE: Final = "[This answer was cut off at the length limit; ask me to continue, or for a shorter answer.]"
REFUSAL_NOTE: Final = "[The model declined to continue with this request, so nothing more was done for it.]"
# Where a campaign's work is tracked, by campaign type ("*": every other type). The one configurable rule of the
# agents; a deployment passes its own in metadata[WORK_ROUTING_KEY].
DEFAULT_WORK_ROUTING: Final[dict[str, str]] = {"event": "asana", "*": "workfront"}
_SYSTEM_NAMES: Final = {"asana": "Asana", "workfront": "Workfront"}


class RoutePart(BaseModel):
    """One domain of a request: which agent handles it and the words of the request that concern it."""

    model_config = ConfigDict(extra="forbid")
    agent: AgentName
    request: str = Field(min_length=1, max_length=4000)


class RouteDecision(BaseModel):
    """The supervisor's answer: the parts in the order they run, or no part and a direct reply."""

    model_config = ConfigDict(extra="forbid")
    parts: list[RoutePart] = Field(default_factory=list, max_length=MAX_PARTS)
    reply: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _parts_or_reply(self) -> RouteDecision:
        if not self.parts and not (self.reply and self.reply.strip()):
            raise ValueError("send 1-4 parts, or no parts and a non-empty reply when no agent is needed")
        return self

    @property
    def direct_reply(self) -> str | None:
        """The reply to show when no agent is needed (None when parts route the request)."""
        return None if self.parts else (self.reply or "").strip()


ROUTE_TOOL: Final = ToolSpec(
    name=ROUTE_TOOL_NAME,
    description=(
        "Send the user's request to the agents that handle it. One part per domain, in the order they should run: "
        "strategy (campaign strategies and messaging, drafted from the playbooks), production (creating campaigns, "
        "projects and tasks in Workfront/Asana, statuses, assignments), analytics (campaign performance, "
        "comparisons, spend), knowledge (questions about playbooks, guidelines and policies). When no agent is "
        "needed (a greeting, a request for help, a question about this conversation), send no parts and put your "
        "answer to the user in reply."
    ),
    input_schema=lean_schema(RouteDecision.model_json_schema()),
)


def max_tokens_for(role: str, agent: str | None = None) -> int:
    """The output budget of one step (an agent's own budget, else its role's)."""
    return MAX_TOKENS.get(agent or "", MAX_TOKENS.get(role, MAX_TOKENS["agent"]))


def cut_tool_results(response: ModelResponse) -> list[ToolResultBlock]:
    """``is_error`` results for every tool call of a step that was cut off: none of them runs."""
    uses = response.tool_uses
    out = []
    for i, use in enumerate(uses):
        what = "this call was cut off" if i == len(uses) - 1 else "the step was cut off after this call"
        out.append(ToolResultBlock(tool_use_id=use.id, is_error=True, content=(
            f"Not run: {what} at the output length limit, so its arguments may be incomplete. "
            "Fix: send it again, shorter (shorter text fields, or split long content over several calls)."
        )))  # fmt: skip
    return out


def work_routing_rule(metadata: Mapping[str, Any]) -> str:
    """The sentence telling a model where a campaign's work goes (``metadata[WORK_ROUTING_KEY]`` or the default)."""
    routing = metadata.get(WORK_ROUTING_KEY)
    if not isinstance(routing, Mapping) or not routing:
        routing = DEFAULT_WORK_ROUTING
    named = {str(k): _SYSTEM_NAMES.get(str(v).lower(), str(v)) for k, v in routing.items()}
    other = named.pop("*", None)
    rules = [f"{kind} campaigns go to {system}" for kind, system in sorted(named.items())]
    if other:
        rules.append(f"every other campaign type goes to {other}")
    return (
        "Where a campaign's projects and tasks are created: the system the campaign is already linked to; "
        f"otherwise, by campaign type: {'; '.join(rules)}."
    )


def model_tool_name(server: str, tool: str) -> str:
    """The name a model sees for an MCP tool: ``<server>__<tool>``."""
    return f"{server}{TOOL_SEPARATOR}{tool}"


def split_tool_name(name: str) -> tuple[str, str]:
    """``<server>__<tool>`` back to ``(server, tool)``; a ValueError naming the tool when it has no server."""
    server, sep, tool = name.partition(TOOL_SEPARATOR)
    if not sep or not server or not tool:
        raise ValueError(f"tool name {name!r} is not of the form <server>{TOOL_SEPARATOR}<tool>")
    return server, tool


def user_meta(user_id: str, tenant_id: str, groups: list[str]) -> dict[str, Any]:
    """The ``user`` metadata entry."""
    return {"user_id": user_id, "tenant_id": tenant_id, "groups": sorted(groups)}


# Which MCP tools each agent sees (server -> tool names); the graph offers an agent nothing else.
AGENT_TOOLS: Final[dict[AgentName, dict[str, tuple[str, ...]]]] = {
    "strategy": {
        "spine": (
            "list_campaigns", "get_campaign", "draft_strategy", "submit_strategy", "approve_strategy",
            "reject_strategy", "list_strategies", "get_strategy", "list_approvals", "get_approval",
        ),
        "knowledge": ("search_playbooks", "answer_question", "get_document"),
    },
    "production": {
        "workfront": (
            "create_project", "get_project", "search", "create_task", "update_task", "update_status",
            "assign_resource", "get_capacity", "create_issue", "add_note", "search_users",
        ),
        "asana": (
            "create_project", "get_project", "search_tasks", "get_task", "create_task", "create_subtask",
            "update_task", "add_comment", "get_user_tasks", "list_sections", "add_task_to_section", "list_users",
        ),
        "spine": (
            "create_campaign", "start_campaign_setup", "get_campaign", "list_campaigns", "update_campaign",
            "list_work_items",
            "get_work_item", "lookup_external_id", "lookup_canonical_id", "get_tracking_keys", "list_approvals",
            "get_approval",
        ),
    },
    "analytics": {"spine": ("performance_summary", "list_campaigns", "get_campaign", "get_tracking_keys")},
    "knowledge": {"knowledge": ("answer_question", "search_playbooks", "get_document")},
}  # fmt: skip
