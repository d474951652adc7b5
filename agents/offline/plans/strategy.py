"""Strategy and knowledge planners: draft a messaging strategy from the playbooks, list strategies, answer
playbook questions with citations."""

from __future__ import annotations

import re
from typing import Any

from agents.offline.plans.common import Answer, campaigns, mentioned_campaigns, ok_data, resolve_campaign
from agents.offline.render import bullets, day, listing, money_of, short_id
from agents.offline.router import own_words
from agents.offline.slots import find_tier
from agents.offline.transcript import PlanContext

SEARCH = "knowledge__search_playbooks"
ANSWER = "knowledge__answer_question"
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")
INSTRUCTION_FLAG = "instruction_like_text"


_META_RE = re.compile(r"^(this|the) (playbook|guide|document|policy|section)\b", re.I)


def _sentences(text: str, n: int) -> str:
    """The first ``n`` substantive sentences of a playbook chunk: no headings, tables or "This playbook defines..."
    preambles (reference text, quoted as data)."""
    lines = [ln.strip() for ln in (text or "").splitlines()]
    body = " ".join(ln for ln in lines if ln and not ln.startswith(("#", "|")))
    picked = [s for s in _SENTENCE_RE.split(body) if s and not _META_RE.match(s)]
    return " ".join(picked[:n]).strip()


def _usable(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # chunks that contain text aimed at an assistant are never copied into a strategy
    return [h for h in hits if INSTRUCTION_FLAG not in (h.get("flags") or [])]


def _sections(c: dict[str, Any], tier_hits: list[dict[str, Any]], voice_hits: list[dict[str, Any]]) -> list[dict]:
    audiences = listing(c.get("audiences") or []) or "the campaign's audience"
    products = listing(c.get("products") or []) or c["name"]
    kind = c["type"].replace("_", " ")
    sections = [
        {"heading": "Objective", "body": c.get("description") or f"Tier {c['tier']} {kind} campaign for {products}."},
        {"heading": "Audience", "body": f"{audiences}; regions {listing(c.get('regions') or []) or 'all'}."},
        {
            "heading": "Core message",
            "body": f"{(c.get('description') or c['name']).rstrip('. ')}. For {audiences}, featuring {products}.",
        },
    ]
    tier_hits = [h for h in tier_hits if _sentences(h["text"], 1)]
    voice_hits = [h for h in voice_hits if _sentences(h["text"], 1)]
    if tier_hits:
        pillars = [f"- {_sentences(h['text'], 2)} ({h['citation']})" for h in tier_hits[:3]]
        sections.append({"heading": "Messaging pillars (from the playbooks)", "body": "\n".join(pillars)})
    if voice_hits:
        voice = [f"- {_sentences(h['text'], 1)} ({h['citation']})" for h in voice_hits[:3]]
        sections.append({"heading": "Voice and tone", "body": "\n".join(voice)})
    channels = listing([ch.replace("_", " ") for ch in c.get("channels") or []]) or "to be decided"
    sections.append({"heading": "Channels", "body": f"{channels}; launch {c['launch_date']}, budget "
                     f"{money_of(c.get('budget_planned'))}."})  # fmt: skip
    cites = sorted({h["citation"] for h in [*tier_hits[:3], *voice_hits[:3]]})
    if cites:
        sections.append({"heading": "Sources", "body": "\n".join(f"- {x}" for x in cites)})
    return sections


def draft_messaging(ctx: PlanContext) -> str:
    """Search the playbooks for the campaign's tier and for brand voice, then spine__draft_strategy (type messaging).

    A read-only user gets the draft in the reply without it being saved."""
    campaign, _ = resolve_campaign(ctx, ctx.request, "is the messaging for")
    tier_hits: list[dict[str, Any]] = []
    voice_hits: list[dict[str, Any]] = []
    if ctx.has(SEARCH):
        kind = campaign["type"].replace("_", " ")
        found = ctx.call_all([
            (SEARCH, {"query": f"tier {campaign['tier']} {kind} campaign messaging narrative and audience", "k": 4,
                      "tier": str(campaign["tier"])}),
            (SEARCH, {"query": "brand voice and tone principles for campaign messaging", "k": 3}),
        ])  # fmt: skip
        tier_hits = _usable((found[0].data or {}).get("hits") or []) if found[0].ok else []
        voice_hits = _usable((found[1].data or {}).get("hits") or []) if found[1].ok else []
    sections = _sections(campaign, tier_hits, voice_hits)
    title = f"{campaign['name']} — messaging strategy"[:200]
    draft = "\n".join(f"**{s['heading']}**\n{s['body']}" for s in sections)
    if ctx.readonly or not ctx.has("spine__draft_strategy"):
        why = "you have read-only access" if ctx.readonly else "spine__draft_strategy is not available to me"
        return f"Here is a messaging draft for {campaign['name']} (not saved: {why}).\n\n{draft}"
    outcome = ctx.call("spine__draft_strategy", campaign_id=campaign["id"], type="messaging", title=title,
                       content={"sections": sections}, generated_by="agent")  # fmt: skip
    if not outcome.ok:
        what = "Saving the messaging strategy"
        reason = outcome.error if not outcome.rejected else f"the approval was rejected ({outcome.error})"
        return f"{what} failed: {reason}. The draft was:\n\n{draft}"
    s = outcome.data or {}
    return (f"Drafted the messaging strategy for {campaign['name']}: \"{s.get('title', title)}\", version "
            f"{s.get('version', 1)}, status {s.get('status', 'draft')} (strategy id {s.get('id')}). "
            f"It is saved as a draft; submit it for review when it reads right.\n\n{draft}")  # fmt: skip


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
