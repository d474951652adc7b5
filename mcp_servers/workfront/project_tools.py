"""Workfront MCP tools for projects and reads: create_project, get_project, update_status, search, get_capacity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, WithJsonSchema, field_validator

from connectors.workfront.backend import WorkfrontBackend
from connectors.workfront.inputs import CustomValue
from connectors.workfront.models import (
    CAPACITY_WINDOW_MAX_DAYS,
    CUSTOM_FIELD_NAME_MAX,
    CUSTOM_FIELD_VALUE_MAX,
    CUSTOM_FIELDS_MAX,
    Project,
    ProjectStatus,
    Task,
    TaskStatus,
)
from connectors.workfront.query import MAX_LIMIT
from mcp_servers.guard.blocking import in_thread
from mcp_servers.guard.guard import CallContext
from mcp_servers.guard.toolkit import ApprovableCreateInput, ToolDef, ToolInput, Uuid
from mcp_servers.workfront.spine_sync import SpineSync
from mcp_servers.workfront.tool_calls import call_fingerprint, project_tasks, wf
from mcp_servers.workfront.tool_models import (
    CapacityOut,
    CreateProjectOut,
    ProjectOut,
    ProjectSummaryOut,
    SearchOut,
    SpineLink,
    StatusResult,
    TaskOut,
    WfDate,
    WfDescription,
    WfId,
    WfName,
    check_after,
)
from spine.schemas import Money

BackendFor = Callable[[str], WorkfrontBackend]
CustomName = Annotated[
    str, Field(min_length=4, max_length=CUSTOM_FIELD_NAME_MAX + 3, pattern=rf"^DE:.{{1,{CUSTOM_FIELD_NAME_MAX}}}$")
]
_CUSTOM_TEXT = {"type": "string", "maxLength": CUSTOM_FIELD_VALUE_MAX}
# The published type of a custom field value (CustomValue validates it with one validator, for short errors).
TypedCustomValue = Annotated[
    CustomValue,
    WithJsonSchema({"anyOf": [_CUSTOM_TEXT, {"type": "number"}, {"type": "boolean"}, {"type": "null"},
                              {"type": "array", "items": {"anyOf": [_CUSTOM_TEXT, {"type": "number"}]}}]}),
]  # fmt: skip
CustomFields = Annotated[  # only DE: keys, each with a typed value
    dict[CustomName, TypedCustomValue],
    Field(max_length=CUSTOM_FIELDS_MAX, json_schema_extra={"additionalProperties": False}),
]
ObjCode = Literal["PROJ", "TASK", "OPTASK", "NOTE", "USER", "TEAMOB", "PORT", "TMPL"]
StatusCode = Literal["CUR", "PLN", "ONH", "CPL", "DED", "REQ", "APR", "REJ", "IDA", "NEW", "INP", "CPA", "CPI"]
FilterText = Annotated[str, Field(max_length=CUSTOM_FIELD_VALUE_MAX)]
FilterValue = FilterText | int | float | list[FilterText | int | float]
# Where create_project puts the optional budget: Workfront custom fields of the project.
BUDGET_AMOUNT_FIELD = "DE:Budget"
BUDGET_CURRENCY_FIELD = "DE:Budget Currency"


class CreateProjectArgs(ApprovableCreateInput):
    name: WfName = Field(description="Project name, 1-255 characters.")
    template_id: WfId | None = Field(None, description="Template (TMPL) ID whose tasks are copied into the project.")
    planned_start_date: WfDate | None = Field(None, description="ISO date; default today.")
    planned_completion_date: WfDate | None = Field(
        None, description="ISO date, not before planned_start_date; default: the end of the last template task."
    )
    portfolio_id: WfId | None = Field(None, description="Portfolio (PORT) ID.")
    owner_id: WfId | None = Field(None, description="Project owner: a Workfront user (USER) ID.")
    description: WfDescription | None = None
    custom_fields: CustomFields | None = Field(
        None,
        description="Custom form values {'DE:<field name>': text | number | true/false | list of text}.",
    )
    budget: Money | None = Field(
        None,
        description="Planned budget {amount: decimal string, currency: ISO 4217}, e.g. {'amount': '25000.00', "
        "'currency': 'USD'}; over USD 10,000 needs marketing-leadership approval, over USD 100,000 a vp's.",
    )
    campaign_id: Uuid | None = Field(
        None, description="Canonical campaign UUID (MCC spine) to link the project to; it may have no project yet."
    )

    @field_validator("planned_completion_date")
    @classmethod
    def _end_after_start(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        return check_after(v, info, "planned_start_date")

    @field_validator("budget")
    @classmethod
    def _budget_not_in_custom_fields(cls, v: Money | None, info: ValidationInfo) -> Money | None:
        clash = {BUDGET_AMOUNT_FIELD, BUDGET_CURRENCY_FIELD} & set(info.data.get("custom_fields") or {})
        if v is not None and clash:
            raise ValueError(f"budget is written to {', '.join(sorted(clash))}; do not also pass it in custom_fields")
        return v


class GetProjectArgs(ToolInput):
    project_id: WfId = Field(description="Project (PROJ) ID, 32 hex.")


class UpdateStatusArgs(ToolInput):
    obj_type: Literal["task", "project"]
    obj_id: WfId = Field(description="ID of the task or project, 32 hex.")
    status: StatusCode = Field(
        description="Project codes: CUR PLN ONH CPL DED REQ APR REJ IDA; task codes: NEW INP CPL CPA CPI."
    )

    @field_validator("status")
    @classmethod
    def _code_fits_type(cls, v: str, info: ValidationInfo) -> str:
        kind = info.data.get("obj_type")
        codes = [c.value for c in (TaskStatus if kind == "task" else ProjectStatus)]
        if kind is not None and v not in codes:
            listed = ", ".join(f"{c.value} ({c.label})" for c in (TaskStatus if kind == "task" else ProjectStatus))
            raise ValueError(f"{v!r} is not a {kind} status code; use one of {listed}")
        return v


class SearchArgs(ToolInput):
    obj_code: ObjCode = Field(description="Object type: PROJ TASK OPTASK NOTE USER TEAMOB PORT TMPL.")
    filters: dict[Annotated[str, Field(min_length=1, max_length=120)], FilterValue] = Field(
        default_factory=dict,
        max_length=50,
        description="Workfront filters: {'field': value, 'field_Mod': op}; op is eq (default) ne cieq cine gt gte "
        "lt lte contains notcontains cicontains cinotcontains in notin (value a list) between notbetween (upper "
        "bound in 'field_Range') isnull notnull. Dates ISO; IDs 32 hex.",
    )
    fields: list[Annotated[str, Field(min_length=1, max_length=120)]] | None = Field(
        None, max_length=60, description="Fields to return (Workfront names); default all. ID and objCode always."
    )
    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="$$LIMIT: page size, 1-2000.")
    first: int = Field(0, ge=0, description="$$FIRST: index of the first result (use next_first to page).")


class CapacityArgs(ToolInput):
    team_id: WfId = Field(description="Team (TEAMOB) ID, 32 hex.")
    start_date: WfDate
    end_date: WfDate = Field(description=f"ISO date, not before start_date; window at most {CAPACITY_WINDOW_MAX_DAYS} "
                             "days.")  # fmt: skip

    @field_validator("end_date")
    @classmethod
    def _window(cls, v: dt.date, info: ValidationInfo) -> dt.date:
        check_after(v, info, "start_date")
        start = info.data.get("start_date")
        if start is not None and (v - start).days + 1 > CAPACITY_WINDOW_MAX_DAYS:
            raise ValueError(f"the window may span at most {CAPACITY_WINDOW_MAX_DAYS} days")
        return v


def _budget_fields(budget: Money | None) -> dict[str, Any]:
    if budget is None:
        return {}
    return {BUDGET_AMOUNT_FIELD: format(budget.amount, "f"), BUDGET_CURRENCY_FIELD: budget.currency}


def project_tools(backend_for: BackendFor, sync: SpineSync) -> list[ToolDef]:
    """Project-level tools over the caller's tenant's Workfront backend, mirrored into ``sync``'s spine."""

    async def create_project(call: CallContext, a: CreateProjectArgs) -> CreateProjectOut:
        """Create a Workfront project (status PLN), copying the tasks of template_id when given.

        IDs are Workfront GUIDs (32 lowercase hex): template (TMPL), portfolio (PORT), owner (USER). Dates are
        ISO (YYYY-MM-DD); planned_completion_date may not precede planned_start_date. custom_fields are
        {'DE:<name>': value}. budget {amount: decimal string, currency: ISO 4217} is stored in the custom
        fields 'DE:Budget' and 'DE:Budget Currency'; over USD 10,000 (converted) the answer is status
        'approval_required' and nothing is created until marketing-leadership approves (over USD 100,000: vp)
        and the identical call is re-sent with approval_id.
        campaign_id (canonical campaign UUID of your tenant with no Workfront project yet) links the project
        to the campaign in the spine: a SystemRef campaign -> project, one work item per template task, a
        draft campaign moves to planning, and spine events. Without campaign_id nothing is mirrored.
        Retrying with the same idempotency_key returns the first project (no duplicate). Never deletes.
        """
        tenant = call.principal.tenant_id
        backend = backend_for(tenant)
        fp = call_fingerprint(call, a)
        done = await in_thread(sync.replay, tenant, call.tool, call.idempotency_key, fp)
        if done is not None:
            summary = await wf(backend.get_project(done["obj_id"]))
            ids = set(done.get("task_ids") or [])
            tasks = [t for t in await project_tasks(backend, done["obj_id"]) if t.id in ids]
            return CreateProjectOut(project=ProjectOut.of(summary.project), tasks=[TaskOut.of(t) for t in tasks],
                                    spine=SpineLink.model_validate(done["spine"]))  # fmt: skip
        if a.campaign_id is not None:
            await in_thread(sync.check_new_project_link, tenant, a.campaign_id)
        project = await wf(
            backend.create_project(
                a.name,
                template_id=a.template_id,
                planned_start_date=a.planned_start_date,
                planned_completion_date=a.planned_completion_date,
                portfolio_id=a.portfolio_id,
                owner_id=a.owner_id,
                description=a.description,
                custom_fields={**(a.custom_fields or {}), **_budget_fields(a.budget)},
                idempotency_key=call.idempotency_key,
            )
        )
        try:
            tasks: list[Task] = await project_tasks(backend, project.id) if project.template_id else []
        except Exception as exc:  # the project exists: report it as pending, never as a plain failure
            raise await in_thread(sync.pending, call, "PROJ", project.id, exc) from None
        link = await in_thread(sync.after_create_project, call, call.idempotency_key, fp, a.campaign_id, project, tasks)
        return CreateProjectOut(project=ProjectOut.of(project), tasks=[TaskOut.of(t) for t in tasks], spine=link)

    async def get_project(call: CallContext, a: GetProjectArgs) -> ProjectSummaryOut:
        """One project by ID (32 hex): status code and label, percent complete (0-100, rolled up from tasks),
        planned dates (ISO), custom fields, task counts by status code (NEW INP CPL CPA CPI) and total, and the
        canonical campaign UUID linked to it in the spine (null when none). Read-only."""
        summary = await wf(backend_for(call.principal.tenant_id).get_project(a.project_id))
        campaign_id = await in_thread(sync.campaign_of_project, call.principal.tenant_id, a.project_id)
        return ProjectSummaryOut(project=ProjectOut.of(summary.project), task_counts=summary.task_counts,
                                 task_total=summary.task_total, campaign_id=campaign_id)  # fmt: skip

    async def update_status(call: CallContext, a: UpdateStatusArgs) -> StatusResult:
        """Set the Workfront status code of a task or a project (obj_id: 32-hex ID).

        Project codes: CUR current, PLN planning, ONH on hold, CPL complete, DED dead, REQ requested,
        APR approved, REJ rejected, IDA idea. Task codes: NEW, INP in progress, CPL complete (sets 100 %),
        CPA complete pending approval, CPI complete pending issues; NEW resets percent to 0.
        Spine: a linked project's status becomes its campaign's status (PLN planning, CUR in_progress,
        ONH on_hold, CPL completed, DED/REJ cancelled, APR approved, REQ/IDA draft; source workfront); a
        mirrored task's work item gets the task's status (NEW not_started, INP in_progress, CPL completed,
        CPA pending_review, CPI blocked), percent and dates. Setting the same code again changes nothing.
        """
        tenant = call.principal.tenant_id
        # Pre-check: the spine answers and the id is ours.
        if a.obj_type == "project":
            await in_thread(sync.campaign_of_project, tenant, a.obj_id)
        else:
            await in_thread(sync.campaign_of_task, tenant, a.obj_id)
        changed = await wf(backend_for(tenant).update_status(a.obj_type, a.obj_id, a.status))
        if isinstance(changed, Project):
            link = await in_thread(sync.after_project_status, call, changed)
            return StatusResult(obj_type="project", project=ProjectOut.of(changed), spine=link)
        link = await in_thread(sync.after_task_change, call, changed)
        return StatusResult(obj_type="task", task=TaskOut.of(changed), spine=link)

    async def search(call: CallContext, a: SearchArgs) -> SearchOut:
        """Search Workfront objects of one obj_code with Workfront filters and paging. Read-only.

        filters use Workfront syntax: {'name': 'Launch', 'name_Mod': 'cicontains'}, {'status': ['CUR', 'PLN'],
        'status_Mod': 'in'}, {'plannedStartDate': '2027-01-01', 'plannedStartDate_Mod': 'between',
        'plannedStartDate_Range': '2027-03-31'}. Fields per obj_code: PROJ ID name description status
        percentComplete plannedStartDate plannedCompletionDate portfolioID templateID ownerID (and 'DE:'
        custom fields); TASK ID name description projectID status assignedToID plannedStartDate
        plannedCompletionDate percentComplete parentID workRequired (minutes); OPTASK ID name description
        projectID status priority assignedToID; NOTE ID noteText noteObjCode objID entryDate; USER ID name
        emailAddr homeTeamID; TEAMOB/PORT/TMPL ID name. Results are ordered by ID; page with limit ($$LIMIT,
        max 2000) and first ($$FIRST = next_first of the previous page). IDs are 32 hex, dates ISO.
        """
        page = await wf(backend_for(call.principal.tenant_id).search(a.obj_code, a.filters, a.fields, a.limit, a.first))
        return SearchOut.model_validate(page.model_dump())

    async def get_capacity(call: CallContext, a: CapacityArgs) -> CapacityOut:
        """Availability of each member of a team (team_id: TEAMOB ID, 32 hex) between start_date and end_date
        (ISO dates, both inclusive, at most 366 days). Figures are in hours: capacity = Monday-Friday working
        days x 8 h; planned = open (not complete) assigned task work (workRequired minutes / 60) prorated over
        the task's working days inside the window; available = capacity - planned (negative: overbooked).
        Read-only."""
        cap = await wf(backend_for(call.principal.tenant_id).get_capacity(a.team_id, a.start_date, a.end_date))
        return CapacityOut.model_validate(cap.model_dump())

    def t(fn: Any, args: type[ToolInput], out: type[Any], read_only: bool, **kw: Any) -> ToolDef:
        return ToolDef(fn.__name__, args, out, fn, read_only=read_only, open_world=True, **kw)

    return [
        t(create_project, CreateProjectArgs, CreateProjectOut, False, idempotent=True),
        t(get_project, GetProjectArgs, ProjectSummaryOut, True, idempotent=True),
        t(search, SearchArgs, SearchOut, True, idempotent=True),
        t(update_status, UpdateStatusArgs, StatusResult, False, destructive=True, idempotent=True),
        t(get_capacity, CapacityArgs, CapacityOut, True, idempotent=True),
    ]
