"""Strategy and knowledge planners: list strategies, submit / approve / reject one, answer playbook questions with
citations (drafting lives in ``agents.offline.plans.messaging``)."""

from __future__ import annotations

import re

from agents.offline.plans.common import (
    Answer,
    campaigns,
    clarify,
    failed,
    mentioned_campaigns,
    ok_data,
    require_tools,
    resolve_campaign,
)
from agents.offline.render import bullets, day, listing, short_id
from agents.offline.router import own_words
from agents.offline.slots import find_tier
from agents.offline.transcript import PlanContext

ANSWER = "knowledge__answer_question"


_STRATEGY_STATUS = [("pending_review", r"pending|review|waiting"), ("approved", r"\bapproved\b"),
                    ("rejected", r"\brejected\b"), ("draft", r"\bdrafts?\b"),
                    ("superseded", r"superseded")]  # fmt: skip


def list_strategies(ctx: PlanContext) -> str:
    """spine__list_strategies for the named campaign (or all), filtered by a status the request names."""
    text, _ = own_words(ctx.request)
    if not ctx.has("spine__list_strategies"):
        raise Answer("I can't read strategies here: spine__list_strategies is not available to me.")
    items = campaigns(ctx)
    found = mentioned_campaigns(ctx.request, items)
    campaign = found.items[0] if found.items and found.matches[0].score >= 0.6 else None
    status = next((s for s, p in _STRATEGY_STATUS if re.search(p, text, re.I)), None)
    if campaign and status == "draft" and re.search(r"\bmessaging strategy\b", text, re.I):
        status = None
    data = ok_data(ctx, "Reading strategies", "spine__list_strategies",
                   campaign_id=campaign["id"] if campaign else None, status=status)  # fmt: skip
    rows = data.get("strategies") or []
    names = {c["id"]: c["name"] for c in items}
    scope = (f" for {campaign['name']}" if campaign else "") + (f" ({status.replace('_', ' ')})" if status else "")
    if not rows:
        return f"There are no strategies{scope}."
    lines = [f"{s['title']} — {s['type']}, v{s['version']}, {s['status'].replace('_', ' ')}, campaign "
             f"{names.get(s['campaign_id'], short_id(s['campaign_id']))}, updated {day(s.get('updated_at'))}, "
             f"id {s['id']}" for s in rows[:15]]  # fmt: skip
    out = f"{len(rows)} strateg{'y' if len(rows) == 1 else 'ies'}{scope}:\n{bullets(lines)}"
    if campaign:
        latest = max(rows, key=lambda s: s.get("version", 0))
        heads = [sec.get("heading", "") for sec in (latest.get("content") or {}).get("sections") or []]
        if heads:
            out += f"\nLatest version's sections: {listing(heads)}."
    return out


def playbook_question(ctx: PlanContext) -> str:
    """knowledge__answer_question: the grounded answer with its citations, or plainly that the playbooks do not
    cover it."""
    text, _ = own_words(ctx.request)
    if not ctx.has(ANSWER):
        raise Answer("I can't search the playbooks here: knowledge__answer_question is not available to me.")
    tier = find_tier(text)
    question = text.strip()
    if len(question) < 3:
        question = f"{question} playbook"
    outcome = ctx.call(ANSWER, question=question[:1000], k=5, tier=str(tier) if tier else None)
    if not outcome.ok:
        raise Answer(f"Searching the playbooks failed: {outcome.error}")
    data = outcome.data or {}
    if not data.get("answered"):
        return "The playbooks do not cover that, so I won't guess. Ask the owning team, or rephrase the question."
    # numbered in the tool's order: the answer's [n] markers refer to these
    cites = [c.get("citation") or f"{c.get('doc_id')} § {' > '.join(c.get('heading_path') or [])}"
             for c in data.get("citations") or []]  # fmt: skip
    sources = "\n".join(f"[{i}] {c}" for i, c in enumerate(cites, 1))
    return f"{data.get('answer', '').strip()}\n\nSources:\n{sources}" if cites else data.get("answer", "").strip()


_APPROVE_RE = re.compile(
    r"\b(approve|accept|sign off|signoff|sign-off|looks good|mark\w* (?:it |the \w+ )?as approved)\b", re.I
)
_REJECT_RE = re.compile(r"\b(reject|decline|turn down|send back)\b", re.I)
# asking for a review is a submit, however pleased the user sounds ("nice, pass it to leadership to review")
_SUBMIT_RE = re.compile(
    r"\b(submit\w*|(?:for|to) (?:a )?(?:review|sign[- ]?off|approval)|to review|up for review|request (?:a )?review)\b",
    re.I,
)


def strategy_action(text: str) -> str:
    """What the user wants done with a strategy: reject, submit (a review asked for) or approve; submit by default."""
    if _REJECT_RE.search(text):
        return "reject"
    if _SUBMIT_RE.search(text):
        return "submit"
    return "approve" if _APPROVE_RE.search(text) else "submit"


def submit_strategy(ctx: PlanContext) -> str:
    """Submit a campaign's draft strategy for review, or approve / reject the one in review (the server decides
    who may; the reason for a rejection comes from the user's words)."""
    text, _ = own_words(ctx.request)
    action = strategy_action(text)
    tool = f"spine__{action}_strategy"
    require_tools(ctx, f"{action} strategies", "spine__list_strategies", tool)
    campaign, _ = resolve_campaign(ctx, ctx.request, f"has the strategy to {action}")
    wanted = "draft" if action == "submit" else "pending_review"
    data = ok_data(ctx, "Reading strategies", "spine__list_strategies", campaign_id=campaign["id"], status=wanted)
    rows = sorted(data.get("strategies") or [], key=lambda s: s.get("version", 0), reverse=True)
    if not rows:
        state = "a draft" if action == "submit" else "a strategy in review"
        return f"{campaign['name']} has no {state}, so there is nothing to {action}. I made no changes."
    s = rows[0]
    args: dict[str, str] = {"strategy_id": s["id"]}
    if action == "reject":
        m = re.search(r"\b(?:because|as|since|:|reason:?)\s+(.{3,})$", text, re.I) or re.search(
            r",\s*(.{3,})$", text)  # fmt: skip
        if m is None:
            raise clarify(ctx, f"Why should “{s['title']}” be rejected? Your reason goes to its author.")
        args["reason"] = m.group(1).strip()[:2000]
    outcome = ctx.call(tool, **args)
    if not outcome.ok:
        raise failed(f"{action.title()} of “{s['title']}”", outcome)
    new = (outcome.data or {}).get("status", "").replace("_", " ")
    done = {"submit": "Submitted", "approve": "Approved", "reject": "Rejected"}[action]
    return f"{done} “{s['title']}” (v{s.get('version')}) for {campaign['name']}; it is now {new or 'updated'}."
