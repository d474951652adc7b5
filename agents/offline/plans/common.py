"""What several planners share: finishing early with an answer or a clarifying question, finding the campaign,
task or person a request means in real tool results, and which system runs a campaign's work."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agents.offline.matching import NameMatch, Person, best_match, match_person, suggestions
from agents.offline.render import listing
from agents.offline.router import own_words
from agents.offline.slots import blank, quoted
from agents.offline.transcript import Outcome, PlanContext, WorkRouting

SPINE_LIST = "spine__list_campaigns"
_IT_RE = re.compile(r"\b(it|its|that task|this task|the new task|the task|this campaign|that campaign)\b", re.I)
LIST_LIMIT = 500


class Answer(Exception):
    """Stop planning: ``text`` is the agent's final answer; ``asks`` the request a question in it is about."""

    def __init__(self, text: str, asks: str | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.asks = asks


def clarify(ctx: PlanContext, question: str) -> Answer:
    """A clarifying question; the request it belongs to travels beside it (``ModelResponse.asks``, kept in the
    thread's state), so the user's short reply can complete it without the reply repeating the request."""
    own, _ = own_words(ctx.request)
    return Answer(question, asks=own.strip())


def failed(what: str, outcome: Outcome) -> Answer:
    """A plain explanation of a failed or rejected call (the error text names the field and the fix)."""
    if outcome.rejected:
        return Answer(f"{what} was not done: the approval was rejected. {outcome.error} I did not retry it.")
    return Answer(f"{what} failed: {error_text(outcome) or 'the tool gave no reason'}")


_MCP_PREFIX_RE = re.compile(r"^Error executing tool \w+:\s*")


def error_text(outcome: Outcome) -> str:
    """A tool's error text without the MCP client's "Error executing tool x:" prefix."""
    return _MCP_PREFIX_RE.sub("", outcome.error.strip())


def read_only_answer(action: str) -> Answer:
    """The answer for a read-only user who asked for a change: no tool is called."""
    return Answer(
        f"You have read-only access, so I can't {action}. I can still show you campaigns, project status, "
        "performance and playbook answers."
    )


def require_tools(ctx: PlanContext, action: str, *names: str) -> None:
    """Stop with a plain explanation when a needed tool is not offered (read-only users get no write tools)."""
    if ctx.readonly:
        raise read_only_answer(action)
    missing = [n for n in names if not ctx.has(n)]
    if missing:
        raise Answer(f"I can't {action} here: the tool {listing(missing)} is not available to me for your account.")


def ok_data(ctx: PlanContext, what: str, tool: str, /, **args: Any) -> Any:
    """Call a tool and return its data, or stop with the failure explained."""
    outcome = ctx.call(tool, **args)
    if not outcome.ok:
        raise failed(what, outcome)
    if not isinstance(outcome.data, dict):
        raise Answer(f"{what} gave an answer I can't read: {outcome.text[:200]!r}")
    return outcome.data


# --- campaigns ---------------------------------------------------------------------------------------------------


def campaigns(ctx: PlanContext) -> list[dict[str, Any]]:
    """Every campaign the user can see (one spine__list_campaigns call, replayed afterwards)."""
    if not ctx.has(SPINE_LIST):
        raise Answer("I can't look up campaigns here: spine__list_campaigns is not available to me.")
    data = ok_data(ctx, "Reading the campaigns", SPINE_LIST, limit=LIST_LIMIT)
    return list((data or {}).get("campaigns") or [])


@dataclass(frozen=True, slots=True)
class Found:
    """Campaigns a text names, with the character spans that named them (to blank before reading other slots)."""

    items: list[dict[str, Any]]
    matches: list[NameMatch]

    @property
    def spans(self) -> list[tuple[int, int]]:
        return [s for m in self.matches for s in m.spans]


def match_campaigns(text: str, items: list[dict[str, Any]]) -> Found:
    """Every campaign ``text`` names (best first), without quoted new names ('Design banner')."""
    names = [c["name"] for c in items]
    bare = blank(text, quoted(text)) if not _quoted_is_campaign(text, names) else text
    found = best_match(bare, names)[1]
    return Found([items[m.index] for m in found], found)


def mentioned_campaigns(request: str, items: list[dict[str, Any]]) -> Found:
    """Campaigns the request's own words name, else those its context names ("how is it doing?"); spans always
    refer to the own words."""
    own, context = own_words(request)
    found = match_campaigns(own, items)
    if found.items or not context:
        return found
    again = match_campaigns(context, items)
    return Found(again.items[:1], [NameMatch(m.index, m.name, m.score, ()) for m in again.matches[:1]])


def _quoted_is_campaign(text: str, names: list[str]) -> bool:
    lowered = {n.lower() for n in names}
    return any(q.text.lower() in lowered for q in quoted(text))


def resolve_campaign(ctx: PlanContext, text: str, purpose: str) -> tuple[dict[str, Any], Found]:
    """The one campaign ``text`` (or, failing that, the request's context) names, or a clarifying question."""
    items = campaigns(ctx)
    own, context = own_words(text)
    last = ctx.memory.get("last_campaign")
    if last is not None and _IT_RE.search(own) and not match_campaigns(own, items).items:
        return last, Found([last], [])  # created earlier in this request, so not in the campaign list read before
    names = [c["name"] for c in items]
    for source in (own, context):
        if not source:
            continue
        bare = blank(source, quoted(source)) if not _quoted_is_campaign(source, names) else source
        one, every = best_match(bare, names)
        if one is not None:
            return items[one.index], Found([items[one.index]], [one] if source is own else [])
        if every:
            options = listing([m.name for m in every[:4]], "or")
            raise clarify(ctx, f"Which campaign {purpose}: {options}?")
    hint = suggestions(own, names) or names[:5]
    raise clarify(ctx, f"Which campaign {purpose}? For example: {listing(hint, 'or')}.")


def campaign_system(campaign: dict[str, Any], routing: WorkRouting) -> str:
    """Where the campaign's work runs: its linked system, else the work-routing rule for its type."""
    refs = campaign.get("external_refs") or {}
    for system in ("workfront", "asana"):
        if system in refs:
            return system
    return routing.system_for(campaign.get("type"))


def project_id(ctx: PlanContext, campaign: dict[str, Any], system: str) -> str | None:
    """The campaign's project id in ``system`` (from external_refs, else spine__lookup_external_id)."""
    refs = campaign.get("external_refs") or {}
    if refs.get(system):
        return str(refs[system])
    if not ctx.has("spine__lookup_external_id"):
        return None
    data = ok_data(ctx, "Looking up the campaign's project", "spine__lookup_external_id",
                   canonical_id=campaign["id"], entity_type="campaign")  # fmt: skip
    for ref in (data or {}).get("refs") or []:
        if ref.get("system") == system:
            return str(ref.get("external_id"))
    return None


SYSTEM_LABEL = {"workfront": "Workfront", "asana": "Asana"}


# --- tasks --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskRef:
    """A task in Workfront or Asana: its id there, name, campaign (when known) and current status."""

    system: str
    id: str
    name: str
    campaign: str | None = None
    status: str | None = None
    assignee: str | None = None


def find_task(ctx: PlanContext, text: str, purpose: str) -> TaskRef:
    """The task ``text`` names: the task an earlier step of this request created ("it"), else a spine work item
    (mirrored from Workfront/Asana) matched by name, narrowed to a named campaign; else a clarifying question."""
    own, context = own_words(text)
    names_q = [q.text for q in quoted(own)]
    last = ctx.memory.get("last_task")
    if last is not None and not names_q and _IT_RE.search(own):
        return last
    if not names_q and context and _IT_RE.search(own):
        names_q = [q.text for q in quoted(context)]  # "mark it done" right after "add a task 'X' ..."
        own = f"{own} {context}" if names_q else own
    if not ctx.has("spine__list_work_items"):
        raise Answer("I can't look up tasks here: spine__list_work_items is not available to me.")
    items = campaigns(ctx)
    camp = match_campaigns(blank(own, quoted(own)), items)
    campaign = camp.items[0] if camp.items and camp.matches[0].score >= 0.6 else None
    args = {"campaign_id": campaign["id"]} if campaign else {}
    # One page of the largest size: a task is looked up by name among all of them.
    data = ok_data(ctx, "Reading the work items", "spine__list_work_items", limit=500, **args)
    work = [w for w in (data or {}).get("work_items") or [] if w.get("external_id") and w.get("source_system")
            in ("workfront", "asana")]  # fmt: skip
    by_campaign = {c["id"]: c["name"] for c in items}
    candidates = [w["name"] for w in work]
    probe = names_q[0] if names_q else blank(own, camp.spans)
    exact = [i for i, w in enumerate(work) if names_q and w["name"].lower() == names_q[0].lower()]
    if exact:
        hits, ambiguous = exact, len(exact) > 1
    else:
        one, every = best_match(probe, candidates, cutoff=0.5)
        hits = [m.index for m in every]
        # the same task name in several campaigns (every template has a "Landing page build") needs a choice
        twins = [i for i in hits if work[i]["name"].lower() == work[hits[0]]["name"].lower()] if hits else []
        ambiguous = one is None or len(twins) > 1
    if not hits:
        where = f" in {campaign['name']}" if campaign else ""
        raise clarify(
            ctx, f"Which task {purpose}? I found no task matching that{where}; give its exact name in quotes."
        )
    if ambiguous:
        options = [f"'{work[i]['name']}' ({by_campaign.get(work[i]['campaign_id'], '?')})" for i in hits[:4]]
        raise clarify(ctx, f"Which task {purpose}: {listing(options, 'or')}?")
    w = work[hits[0]]
    return TaskRef(w["source_system"], w["external_id"], w["name"], by_campaign.get(w["campaign_id"]), w.get("status"),
                   w.get("assignee_id") or w.get("assignee_email"))  # fmt: skip


# --- people -------------------------------------------------------------------------------------------------------


def people(ctx: PlanContext, system: str, project: str | None) -> list[Person]:
    """Who can be assigned in ``system``: Workfront users, or the assignees seen on Asana tasks."""
    if system == "workfront" and ctx.has("workfront__search"):
        data = ok_data(ctx, "Reading Workfront users", "workfront__search", obj_code="USER",
                       fields=["ID", "name", "emailAddr"], limit=500)  # fmt: skip
        return [Person(str(u["ID"]), str(u.get("name") or ""), u.get("emailAddr")) for u in data.get("items") or []]
    if system == "asana" and ctx.has("asana__search_tasks"):
        args: dict[str, Any] = {"limit": 100}
        data = ok_data(ctx, "Reading Asana tasks", "asana__search_tasks", **args)
        seen: dict[str, Person] = {}
        for t in data.get("data") or []:
            a = t.get("assignee") or {}
            if a.get("gid") and a.get("name"):
                seen[a["gid"]] = Person(str(a["gid"]), str(a["name"]), a.get("email"))
        return list(seen.values())
    return []


def resolve_person(ctx: PlanContext, written: str, system: str, project: str | None) -> Person:
    """The person ``written`` names in ``system``, or a clarifying question listing who is there."""
    if system == "asana" and re.fullmatch(r"\d{1,20}", written.strip()):
        return Person(written.strip(), written.strip())
    everyone = people(ctx, system, project)
    one, some = match_person(written, everyone)
    if one is not None:
        return one
    label = SYSTEM_LABEL.get(system, system)
    if some:
        raise clarify(ctx, f"Which {written} do you mean: {listing([p.name for p in some[:4]], 'or')}?")
    known = listing([p.name for p in everyone[:6]]) or "nobody I can see"
    raise clarify(ctx, f"I couldn't find {written} among the {label} users ({known}). Who should it be?")
