"""Production planners for requests about existing things: change a campaign (budget, dates, tier), delete
requests (explained, never done), team capacity, and comments and notes (read-only)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from agents.offline.dates import find_dates, find_period
from agents.offline.plans.common import (
    SYSTEM_LABEL,
    Answer,
    campaign_system,
    clarify,
    failed,
    find_task,
    ok_data,
    project_id,
    require_tools,
    resolve_campaign,
)
from agents.offline.plans.confirm import declined, needs_confirmation, propose
from agents.offline.plans.production import campaign_status
from agents.offline.render import day, listing, money_of
from agents.offline.router import CONTEXT_MARK, own_words
from agents.offline.slots import Money, blank, find_currency, find_money, find_tier, meaningful_name, quoted
from agents.offline.transcript import PlanContext

_UP_RE = re.compile(r"\b(raise|increase|bump|add|up|more|grow|top up)\b", re.I)
_DOWN_RE = re.compile(r"\b(cut|reduce|lower|decrease|trim|less|shrink|drop)\b", re.I)
_BY_RE = re.compile(r"\bby\s+(?=[$€£¥]?\s?\d)", re.I)
_DOUBLE_RE = re.compile(r"\b(double|halve)\b", re.I)


def _new_budget(text: str, current: dict[str, Any] | None) -> Money | None:
    """The budget the user asks for: an absolute amount, or "by <amount>" / "double" relative to ``current``."""
    money = find_money(text)
    cur_amount = Decimal(str(current["amount"])) if current else None
    cur_currency = str(current["currency"]) if current else None
    m = _DOUBLE_RE.search(text)
    if money is None and m and cur_amount is not None and cur_currency:
        factor = Decimal(2) if m.group(1).lower() == "double" else Decimal("0.5")
        return Money(cur_amount * factor, cur_currency, m.group(0))
    if money is None:
        return None
    currency = money.currency if find_currency(text) else (cur_currency or money.currency)
    amount = money.amount
    if _BY_RE.search(text) and cur_amount is not None and currency == cur_currency:
        amount = cur_amount - amount if _DOWN_RE.search(text) else cur_amount + amount
    return Money(amount, currency, money.text)


_STATUS_CHANGE_RE = re.compile(
    r"\b(on hold|hold off|pause[sd]?|freez\w*|cancel\w*|complete[sd]?|finished|done|reopen\w*|resume[sd]?|"
    r"in progress|status)\b",
    re.I,
)
_FIELD_CHANGE_RE = re.compile(r"\b(budget|spend|money|funding|launch|start|end|tier|rename|name|description|"
                              r"channels?|owner)\b|[$€£¥]|\d+\s?k\b", re.I)  # fmt: skip


def update_campaign(ctx: PlanContext) -> str:
    """spine__update_campaign with the changes the user named (budget, launch/end date, tier), at the campaign's
    current version; a budget above the thresholds goes through the approval the server asks for."""
    text, _ = own_words(ctx.request)
    require_tools(ctx, "change campaigns", "spine__update_campaign")
    campaign, found = resolve_campaign(ctx, ctx.request, "should change")
    rest = blank(text, found.spans)
    changes: dict[str, Any] = {}
    said: list[str] = []
    if _STATUS_CHANGE_RE.search(rest) and not _FIELD_CHANGE_RE.search(rest):
        return campaign_status(ctx)  # the status is the execution system's: say where it is changed
    if re.search(r"\b(budget|spend|money|funding|\d+\s?k\b|[$€£¥])", rest, re.I):
        budget = _new_budget(rest, campaign.get("budget_planned"))
        if budget is None or budget.amount <= 0:
            raise clarify(ctx, f"What should the new budget of {campaign['name']} be (e.g. $25k)?")
        changes["budget_planned"] = budget.as_arg()
        said.append(f"budget {money_of(changes['budget_planned'])} (was {money_of(campaign.get('budget_planned'))})")
    dates = find_dates(blank(rest, [(m.start(), m.end()) for m in re.finditer(r"\btier\s*\d", rest, re.I)]),
                       ctx.today)  # fmt: skip
    if dates and re.search(r"\b(end|ends|ending|until|extend)\b", rest, re.I):
        changes["end_date"] = dates[0].date.isoformat()
        said.append(f"end date {day(changes['end_date'])}")
    elif dates and re.search(r"\b(launch|start|go live|reschedule|move|push)\w*", rest, re.I):
        changes["launch_date"] = dates[0].date.isoformat()
        said.append(f"launch date {day(changes['launch_date'])}")
    tier = find_tier(rest)
    if tier is not None and tier != campaign.get("tier"):
        changes["tier"] = tier
        said.append(f"tier {tier}")
    if not changes:
        raise clarify(ctx, f"What should change on {campaign['name']}: the budget, the launch or end date, or the "
                           "tier? Say the new value.")  # fmt: skip
    if declined(text):
        return f"OK, I left {campaign['name']} unchanged."
    summary = f"update {campaign['name']}: {listing(said)}"
    if needs_confirmation(ctx, [], text):
        raise propose(ctx, f"I'll {summary}.")
    version = campaign.get("version")
    if not isinstance(version, int):
        version = ok_data(ctx, "Reading the campaign", "spine__get_campaign", campaign_id=campaign["id"])["version"]
    outcome = ctx.call("spine__update_campaign", campaign_id=campaign["id"], expected_version=version,
                       changes=changes)  # fmt: skip
    if not outcome.ok:
        raise failed(f"Changing {campaign['name']}", outcome)
    c = outcome.data or {}
    return (f"Updated **{c.get('name', campaign['name'])}**: {listing(said)}; now version {c.get('version')}, "
            f"id {campaign['id']}.")  # fmt: skip


_WHAT_RE = re.compile(r"\b(campaigns?|tasks?|projects?|strateg(?:y|ies)|notes?|comments?)\b", re.I)


def delete_request(ctx: PlanContext) -> str:
    """Deletion is not done through MCC: say so, and where it is done (no tool is called)."""
    text, _ = own_words(ctx.request)
    m = _WHAT_RE.search(text)
    what = m.group(1).lower().rstrip("s") if m else "item"
    # worded so no sentence reads as a deletion that happened ("deleted", "removed")
    where = {
        "campaign": "A campaign stays in MCC for audit; deletion is not something MCC does. If it should not go "
        "ahead, ask its owner or marketing leadership to cancel it; its Workfront or Asana project is then closed "
        "there.",
        "task": "Deleting a task is done in the system that owns it — Workfront or Asana itself — by the project's "
        "owner; the spine's mirror follows by sync. I can mark the task complete or reassign it instead.",
        "project": "MCC never deletes a Workfront project: it is the record of the work. To close one, set its "
        "status to Complete (CPL), or Dead (DED) if the work was abandoned — I can do that for you. An Asana "
        "project is archived by its administrators in Asana.",
        "strategy": "Strategies are kept with every version for review; a draft nobody wants is rejected or "
        "superseded by a new version instead.",
    }.get(what, "Deleting Workfront or Asana items is done in those systems by their owners; the spine keeps its "
          "records for audit.")  # fmt: skip
    return f"I can't delete anything through MCC, and I made no changes. {where}"


def capacity(ctx: PlanContext) -> str:
    """workfront__get_capacity per team over the period the request names (default: the next two weeks)."""
    text, _ = own_words(ctx.request)
    if not ctx.has("workfront__get_capacity", "workfront__search"):
        raise Answer("I can't read capacity here: workfront__get_capacity is not available to me.")
    period = find_period(text, ctx.today) or _next(text, ctx.today)
    start, end = period
    teams = ok_data(ctx, "Reading Workfront teams", "workfront__search", obj_code="TEAMOB", fields=["ID", "name"],
                    limit=50).get("items") or []  # fmt: skip
    if not teams:
        return "Workfront has no teams, so there is no capacity to report."
    window = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    outcomes = ctx.call_all([("workfront__get_capacity", {"team_id": t["ID"], **window}) for t in teams[:5]])
    people: dict[str, dict[str, Any]] = {}
    for outcome in outcomes:
        for u in (outcome.data or {}).get("users") or [] if outcome.ok else []:
            people.setdefault(u["user_id"], u)
    if not people:
        return f"No Workfront users have capacity data for {day(start)} to {day(end)}."
    rows = sorted(people.values(), key=lambda u: float(u.get("available_hours") or 0))
    asked = [u for u in rows if _named(u["name"], text)]
    shown = asked or rows
    lines = [f"{u['name']}: {float(u['planned_hours']):.0f} h planned of {float(u['capacity_hours']):.0f} h, "
             f"{_free(float(u['available_hours']))}" for u in shown[:12]]  # fmt: skip
    over = [u["name"] for u in rows if float(u.get("available_hours") or 0) < 0]
    tail = f"\nOverbooked: {listing(over)}." if over and not asked else ""
    return f"Workload in Workfront, {day(start)} to {day(end)}:\n- " + "\n- ".join(lines) + tail


def _named(name: str, text: str) -> bool:
    return any(re.search(rf"\b{re.escape(part)}\b", text, re.I) for part in name.split()[:1] if len(part) > 2)


def _free(hours: float) -> str:
    return f"{hours:.0f} h free" if hours >= 0 else f"overbooked by {-hours:.0f} h"


def _next(text: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if re.search(r"\bnext week\b", text, re.I):
        monday = today + dt.timedelta(days=7 - today.weekday())
        return monday, monday + dt.timedelta(days=4)
    if re.search(r"\b(this|current) week\b|\bright now\b|\btoday\b", text, re.I):
        return today, today + dt.timedelta(days=4 - min(today.weekday(), 4))
    return today, today + dt.timedelta(days=13)


_TASK_WORD_RE = re.compile(r"\b(task|to-?do|subtask|work item)s?\b", re.I)
NOTES_SHOWN = 5  # the newest notes a reply quotes


def comments(ctx: PlanContext) -> str:
    """Read comments and notes (read-only): a named task's (Workfront notes through workfront__search on NOTE; an
    Asana task's notes through asana__get_task), else the campaign's project notes in Workfront."""
    own, _ = own_words(ctx.request)
    if quoted(own) or _TASK_WORD_RE.search(own):
        task = find_task(ctx, ctx.request, "do you mean")
        where = f" ({task.campaign})" if task.campaign else ""
        if task.system == "asana":
            data = ok_data(ctx, f"Reading '{task.name}'", "asana__get_task", task_gid=task.id)
            notes = str((data.get("data") or {}).get("notes") or "").strip()
            body = f"its notes say: “{notes}”" if notes else "it has no notes"
            return (f"'{task.name}'{where} in Asana: {body}. Comments posted on the task are read in Asana itself; "
                    "I made no changes.")  # fmt: skip
        return _workfront_notes(ctx, task.id, "TASK", f"'{task.name}'{where}")
    campaign, _ = resolve_campaign(ctx, ctx.request, "do you mean")
    system = campaign_system(campaign, ctx.routing)
    pid = project_id(ctx, campaign, system)
    if pid is None:
        return f"{campaign['name']} has no {SYSTEM_LABEL[system]} project yet, so there are no notes to read."
    if system == "asana":
        return (f"{campaign['name']}'s discussion lives in its Asana project {pid}; name a task in quotes and I'll "
                "read its notes. I made no changes.")  # fmt: skip
    return _workfront_notes(ctx, pid, "PROJ", f"{campaign['name']}'s Workfront project")


def _workfront_notes(ctx: PlanContext, obj_id: str, obj_code: str, label: str) -> str:
    require_tools(ctx, "read notes", "workfront__search")
    data = ok_data(ctx, f"Reading the notes on {label}", "workfront__search", obj_code="NOTE",
                   filters={"objID": obj_id, "noteObjCode": obj_code},
                   fields=["ID", "noteText", "entryDate"], limit=200)  # fmt: skip
    notes = sorted(data.get("items") or [], key=lambda n: str(n.get("entryDate") or ""), reverse=True)
    if not notes:
        return f"There are no notes on {label} in Workfront yet."
    lines = [f"- {day(str(n['entryDate'])[:10]) if n.get('entryDate') else 'undated'}: {n.get('noteText', '')}"
             for n in notes[:NOTES_SHOWN]]  # fmt: skip
    more = f" (the newest {NOTES_SHOWN} of {len(notes)})" if len(notes) > NOTES_SHOWN else ""
    return f"Notes on {label} in Workfront, newest first{more}:\n" + "\n".join(lines)


# the comment's own words: after "saying", "that", "asking", a colon or a dash that follows the task
_SAYS_RE = re.compile(
    r"(?:\s(?:saying|that says|which says|to say|with the text|reading|asking|that|[—–-])|:)\s+(?P<t>.+)$", re.I
)


def comment_text(text: str) -> tuple[str | None, str]:
    """(the comment the user dictated, the rest of the request that names the task), or (None, text)."""
    spans = quoted(text)
    m = _SAYS_RE.search(blank(text, spans))
    if m is not None:
        said = text[m.start("t") :].strip().strip("\"'“”‘’ ")
        if meaningful_name(said):
            return said, text[: m.start()]
    # "comment 'looks good' on the 'Copy review' task": the quote before "on"/"to" is the comment
    if len(spans) >= 2:
        return spans[0].text, blank(text, [spans[0]])
    if len(spans) == 1 and re.search(r"\b(comment|note|say|post|write)\w*\s+$", text[: spans[0].start], re.I):
        return spans[0].text, blank(text, [spans[0]])
    return None, text


def add_comment(ctx: PlanContext) -> str:
    """asana__add_comment or workfront__add_note on the named task, with the words the user dictated (nothing else:
    a comment is never a status change)."""
    text, context = own_words(ctx.request)
    require_tools(ctx, "add comments")
    said, about = comment_text(text)
    if not said:
        raise clarify(ctx, "What should the comment say? Give the words after “saying”, or in quotes.")
    task = find_task(ctx, about + (CONTEXT_MARK + context if context else ""), "should get the comment")
    if task.system == "workfront":
        require_tools(ctx, "add comments", "workfront__add_note")
        outcome = ctx.call("workfront__add_note", obj_code="TASK", obj_id=task.id, text=said)
    else:
        require_tools(ctx, "add comments", "asana__add_comment")
        outcome = ctx.call("asana__add_comment", task_gid=task.id, text=said)
    if not outcome.ok:
        raise failed(f"Commenting on '{task.name}'", outcome)
    where = f" ({task.campaign})" if task.campaign else ""
    return (f"Added a comment to '{task.name}'{where} in {SYSTEM_LABEL[task.system]}: “{said}”. Its status is "
            "unchanged.")  # fmt: skip
