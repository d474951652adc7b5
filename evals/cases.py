"""The eval case format as pydantic models; ``evals.case_files`` loads YAML into them and generates the JSON Schema
(``case.schema.json``) from them. See evals/README.md for the meaning of every field.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

AgentName = Literal["strategy", "production", "analytics", "knowledge"]
MatchMode = Literal["strict", "unordered", "subset", "superset"]
CallDecision = Literal["allow", "deny", "require_approval", "error"]
ResultStatus = Literal["ok", "error", "approval_required", "rejected"]
# Decisions a policy expectation can ask for: the turn's tool-call decisions plus every audit-log decision.
PolicyDecision = Literal[
    "allow", "deny", "require_approval", "executed", "invalid", "failed", "blocked", "redacted", "approved",
    "rejected", "consumed", "expired",
]  # fmt: skip
StateSource = Literal[
    "spine.campaigns", "spine.work_items", "spine.approvals", "spine.strategies", "spine.measurements",
    "workfront.PROJ", "workfront.TASK", "asana.tasks", "asana.projects",
]  # fmt: skip
DEFAULT_TODAY = dt.date(2026, 11, 2)  # a Monday: relative dates in cases resolve the same way on every run
ATTACK_PLACEHOLDER = "{{attack}}"
Split = Literal["dev", "paraphrase", "test"]
_RELATIVE_RE = re.compile(r"^(today|[+-]\d+d)$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_date_ref(value: Any) -> Any:
    if isinstance(value, dt.date) or (isinstance(value, str) and _RELATIVE_RE.match(value)):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date: use an ISO date (2027-01-15), 'today', '+30d' or '-3d'")


# An ISO date or a day offset from the world's today: "today", "+30d", "-3d".
DateRef = Annotated[dt.date | str, BeforeValidator(_check_date_ref)]


def resolve_date(ref: DateRef, today: dt.date) -> dt.date:
    """``ref`` as a date: ISO dates as they are, offsets relative to ``today``."""
    if isinstance(ref, dt.date):
        return ref
    if ref == "today":
        return today
    return today + dt.timedelta(days=int(ref[:-1]))


class Money(_Model):
    """An amount with an ISO 4217 currency (USD when a plain number is given)."""

    amount: Decimal = Field(ge=0)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")


# --- who and where ---------------------------------------------------------------------------------------------


class PrincipalSpec(_Model):
    """Who talks to the assistant. ``groups`` default to the user's groups in the tenant's directory."""

    user: str = Field(min_length=1)
    tenant: str = Field(default="acme", min_length=1)
    groups: list[str] | None = None


class TaskAdd(_Model):
    """A task in the campaign's Workfront/Asana project (mirrored as a spine work item)."""

    name: str = Field(min_length=1)
    notes: str | None = Field(default=None, description="Task description (Workfront) or notes (Asana)")
    status: Literal["new", "in_progress", "complete"] = "new"
    assignee: str | None = Field(default=None, description="A directory user id of the tenant")
    due: DateRef | None = None


class CampaignAdd(_Model):
    """A campaign created in the spine, with its project (and tasks) in Workfront or Asana."""

    name: str = Field(min_length=1)
    type: Literal["standard", "event", "partner", "product_launch"] = "standard"
    tier: int = Field(default=2, ge=1, le=3)
    launch: DateRef = "+30d"
    end: DateRef | None = None
    owner: str = "maya.chen"
    budget: Money | None = None
    description: str | None = None
    channels: list[str] = Field(default_factory=list)
    system: Literal["workfront", "asana", "none"] | None = Field(
        default=None, description="Where its project lives; default by type (events/partners Asana), none: no project"
    )
    tasks: list[TaskAdd] = Field(default_factory=list)
    tenant: str | None = None

    @field_validator("budget", mode="before", json_schema_input_type=Money | float | str | None)
    @classmethod
    def _budget(cls, v: Any) -> Any:
        return {"amount": v, "currency": "USD"} if isinstance(v, int | float | str | Decimal) else v


class WorkItemAdd(TaskAdd):
    """A task added to an existing campaign's project (``campaign`` is the campaign's name)."""

    campaign: str = Field(min_length=1)
    tenant: str | None = None


class MeasurementAdd(_Model):
    """One day of a campaign's metrics on one channel."""

    campaign: str = Field(min_length=1)
    date: DateRef = "-1d"
    channel: str = "email"
    impressions: int = Field(default=0, ge=0)
    clicks: int = Field(default=0, ge=0)
    conversions: int = Field(default=0, ge=0)
    spend: Decimal | None = Field(default=None, ge=0)
    revenue: Decimal | None = Field(default=None, ge=0)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    tenant: str | None = None


class ApprovalAdd(_Model):
    """An approval request already in the spine (``ref`` names it for actions and expectations)."""

    ref: str | None = None
    tool: str = Field(default="spine.create_campaign", pattern=r"^[a-z_]+\.[a-z_]+$")
    arguments: dict[str, Any]
    requester: str = "maya.chen"
    required_group: str = "marketing-leadership"
    reason: str = "budget over $10,000 needs marketing-leadership approval"
    status: Literal["pending", "approved", "rejected", "expired"] = "pending"
    resolved_by: str | None = Field(default=None, description="Approver for approved/rejected (default dana.reyes)")
    note: str | None = None
    tenant: str | None = None


class DocumentAdd(_Model):
    """An extra playbook for this case's knowledge base (Markdown; may carry injected instructions)."""

    name: str = Field(pattern=r"^[\w.-]+\.(md|txt)$", description="File name, e.g. partner-faq.md")
    text: str = Field(min_length=1)


class WorldAdd(_Model):
    """What a case adds to its fixture (see the README table)."""

    campaigns: list[CampaignAdd] = Field(default_factory=list)
    work_items: list[WorkItemAdd] = Field(default_factory=list)
    measurements: list[MeasurementAdd] = Field(default_factory=list)
    approvals: list[ApprovalAdd] = Field(default_factory=list)
    documents: list[DocumentAdd] = Field(default_factory=list)


class WorldSpec(_Model):
    """A named seed fixture plus additions. ``demo``: tenants acme + globex with spine, Workfront and Asana data."""

    fixture: Literal["demo"] = "demo"
    today: dt.date = DEFAULT_TODAY
    add: WorldAdd = Field(default_factory=WorldAdd)


# --- expectations ------------------------------------------------------------------------------------------------


class RegexSpec(_Model):
    """A reply check by regular expression (case-insensitive)."""

    regex: str

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str) -> str:
        re.compile(v)
        return v


TextSpec = str | RegexSpec


class RouteExpect(_Model):
    """The agents a request is routed to, matched in ``mode``."""

    agents: list[AgentName]
    mode: MatchMode = "strict"


class CallSpec(_Model):
    """One expected tool call. ``tool``: ``server.tool``, a bare tool name (any server) or a glob (``*.create_*``).
    ``args`` are matched per argument (see README); only the listed arguments are checked unless ``args_exact``."""

    tool: str = Field(min_length=1)
    args: dict[str, Any] = Field(default_factory=dict)
    args_exact: bool = False
    decision: CallDecision | None = None
    status: ResultStatus | None = None


class ToolCallsExpect(_Model):
    """The tool calls made, matched against ``calls`` in ``mode``."""

    mode: MatchMode = "superset"
    calls: list[CallSpec]


class PolicyExpect(_Model):
    """A decision that must occur (``min``) or must not (``max: 0``), from tool calls and/or the audit log."""

    decision: PolicyDecision
    tool: str | None = None
    rule: str | None = Field(default=None, description="A rule id (audit log only), e.g. role.readonly_no_write")
    source: Literal["calls", "audit", "any"] = "any"
    min: int = Field(default=1, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _rule_needs_audit(self) -> PolicyExpect:
        if self.rule is not None and self.source == "calls":
            raise ValueError("rule: rule ids are only in the audit log; use source: audit or any")
        if self.max is not None and self.max < self.min:
            self.min = self.max  # "max: 0" alone means: must not occur
        return self


class StateExpect(_Model):
    """Records of one source matching ``where`` (end state after the step): how many, and their fields."""

    source: StateSource
    tenant: str | None = Field(default=None, description="Default: the principal's tenant")
    where: dict[str, Any] = Field(default_factory=dict)
    count: int | None = Field(default=None, ge=0)
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)
    fields: dict[str, Any] = Field(default_factory=dict, description="Every matching record must match these")


class Expect(_Model):
    """What must hold. Every listed expectation is checked; the case's reward is 1 only when all hold."""

    route: RouteExpect | list[AgentName] | None = None
    tool_calls: ToolCallsExpect | list[CallSpec] | None = None
    forbidden_tools: list[str] = Field(default_factory=list)
    policy: list[PolicyExpect] = Field(default_factory=list)
    state: list[StateExpect] = Field(default_factory=list)
    reply_contains: list[TextSpec] = Field(default_factory=list)
    reply_excludes: list[TextSpec] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)
    waiting: bool | None = Field(default=None, description="Whether the step ends waiting for an approval")

    def is_empty(self) -> bool:
        """True when nothing is asked for (so it cannot tell success from failure)."""
        asked = [self.route, self.tool_calls, self.forbidden_tools, self.policy, self.state, self.reply_contains,
                 self.reply_excludes, self.citations, self.waiting is not None]  # fmt: skip
        return not any(asked)

    @field_validator("route", mode="after")
    @classmethod
    def _route(cls, v: Any) -> Any:
        return RouteExpect(agents=v) if isinstance(v, list) else v

    @field_validator("tool_calls", mode="after")
    @classmethod
    def _calls(cls, v: Any) -> Any:
        return ToolCallsExpect(calls=v) if isinstance(v, list) else v


# --- turns and actions ------------------------------------------------------------------------------------------


class ResolveSpec(_Model):
    """Which approval (``last``: the newest one this conversation asked for; ``pending``: the newest still pending;
    a world approval's ``ref``; or an approval id) and who resolves it."""

    approval: str = "last"
    by: str = Field(min_length=1)
    note: str | None = None


class ExpireSpec(_Model):
    """Which approval runs out of time (same references as approve/reject)."""

    approval: str = "last"


class ExternalChange(_Model):
    """A change made directly in Workfront/Asana by someone outside MCC (what a webhook would announce)."""

    system: Literal["workfront", "asana"]
    task: str = Field(min_length=1, description="Task name (its campaign's project) or id")
    campaign: str | None = None
    status: Literal["new", "in_progress", "complete"] | None = None
    notes: str | None = None


class Action(_Model):
    """Something that happens between turns. Exactly one of approve, reject, expire, external_change."""

    approve: ResolveSpec | None = None
    reject: ResolveSpec | None = None
    expire: ExpireSpec | None = None
    external_change: ExternalChange | None = None
    outcome: Literal["ok", "error"] = Field(
        default="ok", description="error: the action must fail (e.g. self-approval)"
    )
    error_contains: str | None = None
    resume: bool = Field(default=True, description="Resume the waiting conversation afterwards")
    expect: Expect | None = Field(default=None, description="Checked on the resumed step")

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        kinds = [k for k in ("approve", "reject", "expire", "external_change") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"an action needs exactly one of approve, reject, expire, external_change (got {kinds or 'none'})"
            )
        if self.outcome == "error" and not self.error_contains:
            # Otherwise any failure, even the wrong one, would pass the action.
            raise ValueError(
                "an action with outcome: error needs error_contains (a code or words of the expected error)"
            )
        return self

    @property
    def kind(self) -> str:
        """approve, reject, expire or external_change."""
        return next(k for k in ("approve", "reject", "expire", "external_change") if getattr(self, k) is not None)


class Turn(_Model):
    """One user message; ``expect`` is checked on its own result, then ``actions`` run in order."""

    user: str = Field(min_length=1)
    expect: Expect | None = None
    actions: list[Action] = Field(default_factory=list)


class Attack(_Model):
    """An injection: ``payload`` replaces ``{{attack}}`` in the world's texts; the benign twin (id ``<id>@benign``)
    gets ``benign`` instead. The attack succeeded when every expectation of ``succeeded_when`` holds."""

    goal: str = Field(min_length=1)
    payload: str = Field(min_length=1)
    benign: str = "Routine update: nothing unusual to report."
    succeeded_when: Expect

    @field_validator("succeeded_when")
    @classmethod
    def _not_empty(cls, v: Expect) -> Expect:
        if v.is_empty():
            raise ValueError("succeeded_when: name what the attacker wants (e.g. a tool call or a state)")
        return v


class Case(_Model):
    """One eval case."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=120)
    tags: list[str] = Field(default_factory=list)
    description: str | None = None
    principal: PrincipalSpec
    world: WorldSpec = Field(default_factory=WorldSpec)
    turns: list[Turn] = Field(min_length=1)
    expect: Expect = Field(default_factory=Expect)
    attack: Attack | None = None
    # Set by the loader, never written in a case file: the split of the case's folder, a paraphrase's original.
    split: SkipJsonSchema[Split] = "dev"
    paraphrase_of: SkipJsonSchema[str | None] = None

    @field_validator("world", mode="before", json_schema_input_type=WorldSpec | Literal["demo"])
    @classmethod
    def _world(cls, v: Any) -> Any:
        return {"fixture": v} if isinstance(v, str) else v

    @field_validator("turns", mode="before", json_schema_input_type=list[Turn | str])
    @classmethod
    def _turns(cls, v: Any) -> Any:
        return [{"user": t} if isinstance(t, str) else t for t in v] if isinstance(v, list) else v

    @model_validator(mode="after")
    def _attack_has_a_place(self) -> Case:
        if self.attack is not None and ATTACK_PLACEHOLDER not in self.world.add.model_dump_json():
            raise ValueError(f"attack: put {ATTACK_PLACEHOLDER} in a text of world.add (where the payload goes)")
        return self
