"""Production planners: create a campaign (and its Workfront or Asana project), add a task, change a task's
status, assign someone, report a project's status."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from agents.offline.dates import find_dates, find_day_range
from agents.offline.plans.common import (
    SYSTEM_LABEL,
    TaskRef,
    campaign_system,
    campaigns,
    clarify,
    error_text,
    failed,
    find_task,
    match_campaigns,
    ok_data,
    people,
    project_id,
    require_tools,
    resolve_campaign,
    resolve_person,
)
from agents.offline.plans.confirm import declined, needs_confirmation, propose
from agents.offline.render import day, listing, money_of, pct, plural, short_id
from agents.offline.router import own_words
from agents.offline.slots import (
    Span,
    asana_completed,
    blank,
    find_campaign_type,
    find_channels,
    find_money,
    find_new_name,
    find_person,
    find_system,
    find_task_state,
    find_tier,
    meaningful_name,
    quoted,
    workfront_status,
)
from agents.offline.transcript import PlanContext

_NO_BUDGET_RE = re.compile(
    r"\b(no|without(?: a)?|skip(?: the)?|leave(?: out)?(?: the)?|no need for(?: a)?)\s+budget\b|"
    r"\bbudget\s+(?:out|later|tbd|to follow)\b|\bleave (?:the )?budget (?:out|off|empty)\b",
    re.I,
)
TYPE_LABEL = {"standard": "standard", "event": "event", "partner": "partner", "product_launch": "product launch"}
STATE_LABEL = {"new": "New", "in_progress": "In progress", "complete": "Complete"}


def _name_span(text: str, name: str | None) -> list[Span]:
    if not name:
        return []
    start = text.find(name)
    return [Span(name, max(start - 1, 0), start + len(name) + 1)] if start >= 0 else []


def create_campaign(ctx: PlanContext) -> str:
    """spine__create_campaign, then the project in Workfront or Asana (by type), linked to the campaign."""
    text, _ = own_words(ctx.request)
    require_tools(ctx, "create campaigns", "spine__create_campaign")
    name = find_new_name(text)
    if name is not None and not meaningful_name(name):
        name = None  # "called for" is no name: ask rather than create a campaign named after a function word
    rest = blank(text, _name_span(text, name))
    kind = find_campaign_type(rest, name)
    tier, budget = find_tier(rest), find_money(rest)
    no_budget = bool(_NO_BUDGET_RE.search(rest))
    if no_budget:
        budget = None  # the user said to leave it out: an optional field stays out
    dates = [d.date for d in find_dates(rest, ctx.today)]
    missing = [label for label, value in (("a name (in quotes)", name), ("the tier (1, 2 or 3)", tier),
               ("the launch date", dates)) if not value]  # fmt: skip
    if missing:
        raise clarify(ctx, f"To create the campaign I still need {listing(missing)}.")
    assert name is not None and tier is not None  # narrowed by the check above
    inferred: list[str] = []  # the type defaults to standard (the playbook's default type); the reply names it
    kind = kind or "standard"
    launch = dates[0]
    end = next((d for d in dates[1:] if d >= launch), None)
    span = find_day_range(rest, ctx.today)
    if span is not None and span[0] == launch and end is None:
        end = span[1]  # "for feb 1-7": the campaign runs to the range's last day
    system = ctx.routing.system_for(kind)
    if declined(text):
        return f"OK, I did not create the campaign {name}."
    if needs_confirmation(ctx, inferred, text):
        spent = f", budget {budget.as_arg()['amount']} {budget.currency}" if budget else ", no budget"
        raise propose(ctx, f"I'll create the {TYPE_LABEL[kind]} campaign '{name}' (tier {tier}, launch "
                           f"{day(launch.isoformat())}{spent}) with its project in {SYSTEM_LABEL[system]}"
                           f"{' — I assumed the ' + listing(inferred) if inferred else ''}.")  # fmt: skip
    existing = [c for c in campaigns(ctx) if c["name"].lower() == name.lower()]
    if existing:
        c = existing[0]
        return (f"A campaign named {c['name']} already exists (id {c['id']}, status {c['status']}); I did not create "
                "another.")  # fmt: skip
    args: dict[str, Any] = {"name": name, "type": kind, "tier": tier, "launch_date": launch.isoformat(),
                            "end_date": end.isoformat() if end else None, "owner_id": ctx.user_id,
                            "budget_planned": budget.as_arg() if budget else None,
                            "channels": find_channels(rest) or None}  # fmt: skip
    outcome = ctx.call("spine__create_campaign", **args)
    if not outcome.ok:
        raise failed(f"Creating the campaign {name}", outcome)
    c = outcome.data
    wanted = find_system(rest)
    head = (
        f"Created the campaign **{c['name']}** ({TYPE_LABEL[kind]}, tier {tier}, launch {day(c['launch_date'])}"
        f"{', end ' + day(c['end_date']) if c.get('end_date') else ''}, budget {money_of(c.get('budget_planned'))}), "
        f"id {c['id']}, status {c['status']}."
    )
    note = (f" You asked for {SYSTEM_LABEL[wanted]}, but {TYPE_LABEL[kind]} campaigns run in {SYSTEM_LABEL[system]}."
            if wanted and wanted != system else "")  # fmt: skip
    ctx.memory["last_campaign"] = c  # "... and add a task to it" later in the same request
    return head + note + " " + _create_project(ctx, c, system, launch, end)


def _create_project(ctx: PlanContext, c: dict[str, Any], system: str, launch: dt.date, end: dt.date | None) -> str:
    tool = f"{system}__create_project"
    label = SYSTEM_LABEL[system]
    if not ctx.has(tool):
        return f"I could not create its {label} project: {tool} is not available to me."
    if system == "workfront":
        args = {
            "name": c["name"],
            "campaign_id": c["id"],
            "planned_start_date": launch.isoformat(),
            "planned_completion_date": end.isoformat() if end else None,
            "description": c.get("description"),
        }
    else:
        args = {"name": c["name"], "campaign_id": c["id"], "due_on": end.isoformat() if end else None,
                "start_on": launch.isoformat() if end else None, "notes": c.get("description") or ""}  # fmt: skip
    outcome = ctx.call(tool, **args)
    if not outcome.ok:
        return str(failed(f"Creating its {label} project", outcome).text)
    data = outcome.data or {}
    project = data.get("project") or data.get("data") or {}
    pid = project.get("id") or project.get("gid")
    ready = f'Its {label} project "{project.get("name", c["name"])}" is ready (id {pid}), linked to the campaign.'
    return ready + _set_up(ctx, c, pid)


SETUP_TOOL = "spine__start_campaign_setup"


def _set_up(ctx: PlanContext, c: dict[str, Any], pid: Any) -> str:
    """The durable setup of the new campaign (task template, people) in its project; the reply says what it did or
    where to follow it. Without the tool the campaign and its empty project stay as they are."""
    if not ctx.has(SETUP_TOOL) or not pid:
        return ""
    outcome = ctx.call(SETUP_TOOL, campaign_id=c["id"], project_id=str(pid))
    if not outcome.ok:
        return " " + str(failed("Setting up its tasks", outcome).text)
    run = outcome.data or {}
    wid = run.get("workflow_id") or "?"
    show = f"`mcc workflows show {wid}`"
    status = run.get("status")
    if status == "SUCCESS":
        people = listing(list(run.get("assigned") or [])) or "nobody (no directory identities)"
        return (f" Setup workflow {wid} added the {run.get('template')} template: "
                f"{plural(int(run.get('work_items') or 0), 'task')}, assigned to {people}.")  # fmt: skip
    if status in ("ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"):
        return f" Setting up its tasks failed (workflow {wid}): {run.get('error') or status}. See {show}."
    return f" Its task setup is still running (workflow {wid}, {status}); follow it with {show}."


_TASK_WORD_RE = re.compile(r"\b(?:task|to-?do|subtask|work item|item)\b\s*(?:called|named|titled)?\s*:?\s*(?:to\s+)?",
                           re.I)  # fmt: skip
_ADD_RE = re.compile(r"^\s*(?:please\s+|can you\s+)?(?:add|create|log|put|schedule)\s+(?:a\s+|an\s+)?", re.I)
_CUT_RE = re.compile(r"\s+(?:due|by|before|until|assigned|and assign|and give|for the|in the|on the|to the|against|"
                     r"in workfront|in asana|for|to|on|in)\b|[,;]", re.I)  # fmt: skip


def find_task_name(text: str, taken: list[tuple[int, int]]) -> str | None:
    """The new task's name: a quoted name, else the words after "task"/"add" up to the campaign, a date or "due"."""
    q = quoted(text)
    if q:
        return q[0].text
    bare = blank(text, taken)
    m = _TASK_WORD_RE.search(bare) or _ADD_RE.search(bare)
    if m is None:
        return None
    rest = " " + bare[m.end() :]  # a leading space: "task for the summit" is cut right at "for"
    cut = _CUT_RE.search(rest)
    name = (rest[: cut.start()] if cut else rest).strip(" .:-")
    name = re.sub(r"^(?:new\s+|a\s+|an\s+|the\s+)", "", name, flags=re.I).strip()
    if not meaningful_name(name):
        return None  # never a task named "For" or "?": ask for the name instead
    return name[:1].upper() + name[1:]


def add_task(ctx: PlanContext) -> str:
    """Find the campaign's project, then workfront__create_task or asana__create_task."""
    text, _ = own_words(ctx.request)
    if ctx.readonly:
        require_tools(ctx, "add tasks")
    campaign, found = resolve_campaign(ctx, ctx.request, "should the task go to")
    taken = found.spans
    dates = find_dates(blank(text, [*taken, *quoted(text)]), ctx.today)
    name = find_task_name(text, [*taken, *((d.start, d.end) for d in dates)])
    if not name:
        raise clarify(ctx, f"What should the new task in {campaign['name']} be called? Give the name in quotes.")
    system = campaign_system(campaign, ctx.routing)
    tool = f"{system}__create_task"
    require_tools(ctx, "add tasks", tool)
    pid = project_id(ctx, campaign, system)
    label = SYSTEM_LABEL[system]
    if pid is None:
        return f"{campaign['name']} has no {label} project yet, so there is nowhere to add the task."
    due = dates[0].date if dates else None
    person = find_person(blank(text, quoted(text)))
    assignee = resolve_person(ctx, person, system, pid) if person else None
    if system == "workfront":
        start = ctx.today if due and due >= ctx.today else None
        args = {"project_id": pid, "name": name, "planned_start_date": start.isoformat() if start else None,
                "planned_completion_date": due.isoformat() if due else None,
                "assigned_to_id": assignee.id if assignee else None}  # fmt: skip
    else:
        args = {"name": name, "projects": [pid], "due_on": due.isoformat() if due else None,
                "assignee": assignee.id if assignee else None}  # fmt: skip
    outcome = ctx.call(tool, **args)
    if not outcome.ok:
        raise failed(f"Adding the task '{name}' to {campaign['name']}", outcome)
    data = outcome.data or {}
    task = data.get("task") or data.get("data") or {}
    tid = str(task.get("id") or task.get("gid") or "")
    ctx.memory["last_task"] = TaskRef(system, tid, name, campaign["name"])
    extras = [f"due {day(due)}" if due else "", f"assigned to {assignee.name}" if assignee else ""]
    extra = ", ".join(e for e in extras if e)
    return f"Added the task '{name}' to {campaign['name']} in {label} (task {tid}{', ' + extra if extra else ''})."


def update_task_status(ctx: PlanContext) -> str:
    """Find the task, then workfront__update_status (NEW/INP/CPL) or asana__update_task(completed)."""
    text, _ = own_words(ctx.request)
    require_tools(ctx, "change task statuses")
    state = find_task_state(blank(text, quoted(text)))
    if (
        not quoted(text)
        and not re.search(r"\btasks?\b", text, re.I)
        and (_CAMPAIGN_STATUS_RE.search(text) or _only_a_campaign(ctx, text))
    ):
        return campaign_status(ctx)
    if state is None:
        raise clarify(ctx, "Which status should the task get: new, in progress or complete?")
    task = find_task(ctx, ctx.request, "should change status")
    where = f" ({task.campaign})" if task.campaign else ""
    if task.system == "workfront":
        require_tools(ctx, "change task statuses", "workfront__update_status")
        outcome = ctx.call("workfront__update_status", obj_type="task", obj_id=task.id, status=workfront_status(state))
        if not outcome.ok:
            raise failed(f"Changing the status of '{task.name}'", outcome)
        new = ((outcome.data or {}).get("task") or {}).get("status_label") or STATE_LABEL[state]
        return f"Set '{task.name}'{where} to {new} in Workfront (task {task.id})."
    require_tools(ctx, "change task statuses", "asana__update_task")
    outcome = ctx.call("asana__update_task", task_gid=task.id, completed=asana_completed(state))
    if not outcome.ok:
        raise failed(f"Changing the status of '{task.name}'", outcome)
    done = bool(((outcome.data or {}).get("data") or {}).get("completed"))
    if state == "in_progress":
        return (f"Asana has no 'in progress' state, so '{task.name}'{where} is now open (not complete) in Asana "
                f"(task {task.id}).")  # fmt: skip
    return f"Marked '{task.name}'{where} as {'complete' if done else 'not complete'} in Asana (task {task.id})."


_CAMPAIGN_STATUS_RE = re.compile(r"\bcampaign\b", re.I)


# what may stand around a campaign's name in "put <campaign> on hold": nothing left over names a task
_STATUS_FILLER_RE = re.compile(
    r"\b(please|pls|can|could|you|we|i|put|set|mark|move|switch|flip|change|make|update|it|its|as|to|on|off|in|into|"
    r"the|a|an|now|back|for|of|status|state|hold|pause[sd]?|paused|complete[sd]?|done|finished|cancel\w*|"
    r"progress|active|closed?|reopen\w*|resume[sd]?|not|started|new)\b|[^\w\s]",
    re.I,
)


def _only_a_campaign(ctx: PlanContext, text: str) -> bool:
    """Whether ``text`` names a campaign and nothing else that could be a task ("put <campaign> on hold")."""
    found = match_campaigns(text, campaigns(ctx))
    if not found.items or found.matches[0].score < 0.9:
        return False
    rest = _STATUS_FILLER_RE.sub(" ", blank(text, found.spans[:1]))
    return not rest.strip()


def campaign_status(ctx: PlanContext) -> str:
    """A campaign's status belongs to its execution system and arrives by sync: say where to change it."""
    campaign, _ = resolve_campaign(ctx, ctx.request, "should change status")
    system = campaign_system(campaign, ctx.routing)
    label = SYSTEM_LABEL[system]
    pid = project_id(ctx, campaign, system)
    where = f"its {label} project {pid}" if pid else f"its {label} project (none is linked yet)"
    return (f"{campaign['name']} is {campaign['status']}. A campaign's status is owned by {label}: it comes from "
            f"{where} by sync, so MCC does not set it directly. Change the project's status in {label} and the "
            f"spine follows.")  # fmt: skip


def assign_task(ctx: PlanContext) -> str:
    """Find the task and the person in its system, then workfront__assign_resource or asana__update_task."""
    text, _ = own_words(ctx.request)
    require_tools(ctx, "assign tasks")
    person = find_person(blank(text, quoted(text)))
    if not person and " — " in text:
        # The answer to our own clarifying question arrives joined after a dash: "Assign X — Priya Natarajan".
        tail = text.rsplit(" — ", 1)[1].strip(" .!")
        person = tail if tail and len(tail.split()) <= 4 else None
    if not person:
        raise clarify(ctx, "Who should the task be assigned to?")
    task = find_task(ctx, ctx.request, "should be assigned")
    who = resolve_person(ctx, person, task.system, None)
    where = f" ({task.campaign})" if task.campaign else ""
    if task.system == "workfront":
        require_tools(ctx, "assign tasks", "workfront__assign_resource")
        outcome = ctx.call("workfront__assign_resource", task_id=task.id, user_id=who.id)
    else:
        require_tools(ctx, "assign tasks", "asana__update_task")
        outcome = ctx.call("asana__update_task", task_gid=task.id, assignee=who.id)
    if not outcome.ok:
        raise failed(f"Assigning '{task.name}' to {who.name}", outcome)
    return f"Assigned '{task.name}'{where} to {who.name} in {SYSTEM_LABEL[task.system]} (task {task.id})."


WF_TASK_LABEL = {"NEW": "new", "INP": "in progress", "CPL": "complete", "CPA": "complete pending approval",
                 "CPI": "complete pending issues"}  # fmt: skip


# a question about one task: who has it, or whether it is done
_TASK_RE = re.compile(r"\btasks?\b|\bto-?dos?\b", re.I)
_DONE_RE = re.compile(r"\b(done|complete[d]?|finished|status|state)\b", re.I)


def _task_question(text: str) -> bool:
    if not (quoted(text) or re.search(r"\b(the|that|this)\s+[\w' -]{2,40}?\s+task\b", text, re.I)):
        return False
    return bool(re.search(r"\bwho\b|assignee|assigned", text, re.I) or (_DONE_RE.search(text) and _TASK_RE.search(text))
                or (quoted(text) and _DONE_RE.search(text)))  # fmt: skip


def task_status(ctx: PlanContext) -> str:
    """One task's assignee and status, from the spine's mirror of Workfront or Asana (read-only)."""
    task = find_task(ctx, ctx.request, "do you mean")
    where = f" ({task.campaign})" if task.campaign else ""
    name = task.assignee
    if name and not re.search(r"[a-z]\.[a-z]", name):  # a Workfront or Asana id: their directory has the name
        name = next((p.name for p in people(ctx, task.system, None) if p.id == name and p.name), name)
    who = f"assigned to {name}" if name else "not assigned to anyone"
    status = (task.status or "unknown").replace("_", " ")
    return (f"'{task.name}'{where} is {who}; status {status} in {SYSTEM_LABEL.get(task.system, task.system)} "
            f"(task {task.id}).")  # fmt: skip


def project_status(ctx: PlanContext) -> str:
    """The campaign's project (Workfront summary or Asana tasks) plus its overdue spine work items; a question
    about one task (who has it, is it done) is answered for that task."""
    text, _ = own_words(ctx.request)
    if _task_question(text) and ctx.has("spine__list_work_items"):
        return task_status(ctx)
    campaign, _ = resolve_campaign(ctx, ctx.request, "do you mean")
    system = campaign_system(campaign, ctx.routing)
    label = SYSTEM_LABEL[system]
    pid = project_id(ctx, campaign, system)
    # the campaign's status is owned by its execution system: say which, with the current value
    head = f"{campaign['name']} (campaign status {campaign['status']}, owned by {label} and synced from its project)"
    if pid is None:
        return f"{head} has no {label} project yet."
    tool = "workfront__get_project" if system == "workfront" else "asana__search_tasks"
    if not ctx.has(tool):
        return f"{head}: I can't read {label} here ({tool} is not available)." + _overdue(ctx, campaign)
    args = {"project_id": pid} if system == "workfront" else {"project": pid, "limit": 100}
    outcome = ctx.call(tool, **args)
    if not outcome.ok:
        text = f"{head}: I couldn't read its {label} project {pid} ({error_text(outcome)}). From the spine:"
    elif system == "workfront":
        summary = outcome.data or {}
        p = summary.get("project") or {}
        counts = {k: v for k, v in (summary.get("task_counts") or {}).items() if v}
        spread = listing([f"{v} {WF_TASK_LABEL.get(k, k)}" for k, v in counts.items()]) or "no tasks"
        text = (f"{head}: Workfront project \"{p.get('name')}\" is {p.get('status_label') or p.get('status')}, "
                f"{float(p.get('percent_complete') or 0):.0f}% complete; "
                f"{plural(int(summary.get('task_total') or 0), 'task')} ({spread}).")  # fmt: skip
    else:
        tasks = (outcome.data or {}).get("data") or []
        done = sum(1 for t in tasks if t.get("completed"))
        share = pct(done / len(tasks), 0) if tasks else "n/a"
        text = f"{head}: Asana project {pid} has {plural(len(tasks), 'task')}, {done} complete ({share})."
    return text + _overdue(ctx, campaign)


def _overdue(ctx: PlanContext, campaign: dict[str, Any]) -> str:
    if not ctx.has("spine__list_work_items"):
        return ""
    data = ok_data(ctx, "Reading the work items", "spine__list_work_items", campaign_id=campaign["id"], limit=500)
    open_items = [w for w in data.get("work_items") or [] if w.get("status") not in ("completed", "cancelled")]
    late = [w for w in open_items if w.get("planned_end_date") and w["planned_end_date"] < ctx.today.isoformat()]
    lines = [f" Open: {listing([w['name'] + ' (' + w['status'].replace('_', ' ') + ')' for w in open_items[:6]])}."
             if open_items else " Nothing is open."]  # fmt: skip
    if late:
        lines.append(
            f" Overdue: {listing([w['name'] + ' (due ' + day(w['planned_end_date']) + ')' for w in late[:5]])}."
        )
    return "".join(lines) + f" Campaign id {short_id(campaign['id'])}."
