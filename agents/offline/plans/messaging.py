"""Messaging strategy planner: the campaign's facts plus what the playbooks require for its tier, the brand voice
and its channels, saved as a draft strategy with the citations it drew from."""

from __future__ import annotations

import re
from typing import Any

from agents.offline.plans.common import resolve_campaign
from agents.offline.render import day, listing, money_of
from agents.offline.transcript import Outcome, PlanContext

SEARCH = "knowledge__search_playbooks"
INSTRUCTION_FLAG = "instruction_like_text"
# what to look up for each channel the campaign uses (the playbooks' channel specs)
CHANNEL_QUERY = {
    "email": "email copy specifications subject lines and preheaders",
    "paid_media": "paid media ad copy specifications",
    "social": "organic social post copy and tone",
    "web": "website headlines and landing page copy",
    "events": "event invitations booth messaging and staff training",
    "partner": "partner co-marketing logo and brand usage",
}
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")
_META_RE = re.compile(r"^(this|the) (playbook|guide|document|policy|section)\b", re.I)


def sentences(text: str, n: int) -> str:
    """The first ``n`` substantive sentences of a playbook chunk: no headings, tables or "This playbook defines..."
    preambles; list items become clauses (reference text, quoted as data)."""
    parts: list[str] = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "|")):
            continue
        parts.append(line[2:].rstrip(".") + ";" if line.startswith(("- ", "* ")) else line)
    body = " ".join(parts)
    picked = [s.rstrip(";") for s in _SENTENCE_RE.split(body) if s and not _META_RE.match(s)]
    return " ".join(picked[:n]).strip()


def _hits(outcome: Outcome) -> list[dict[str, Any]]:
    """Usable hits of one search: chunks with text aimed at an assistant are never copied into a strategy."""
    data = outcome.data if outcome.ok and isinstance(outcome.data, dict) else {}
    return [
        h
        for h in data.get("hits") or []
        if INSTRUCTION_FLAG not in (h.get("flags") or []) and sentences(h.get("text", ""), 1)
    ]


def _quote(hits: list[dict[str, Any]], n_hits: int, n_sentences: int) -> list[str]:
    return [f"- {sentences(h['text'], n_sentences)} ({h['citation']})" for h in hits[:n_hits]]


def sections(c: dict[str, Any], tier_hits: list, voice_hits: list, channel_hits: list) -> list[dict[str, str]]:
    """The strategy's sections: facts from the campaign, requirements and guidance quoted from the playbooks."""
    audiences = listing(c.get("audiences") or [])
    products = listing(c.get("products") or [])
    kind = c["type"].replace("_", " ")
    regions = listing(c.get("regions") or []) or "all regions"
    out = [
        {"heading": "Objective", "body": c.get("description") or f"Tier {c['tier']} {kind} campaign {c['name']}."},
        {"heading": "Audience", "body": f"{audiences}; {regions}." if audiences else
         f"Not set on the campaign yet ({regions}); add audiences to sharpen the messaging."},
        {"heading": "Core message", "body": (
            f"{c['description'].rstrip('. ')}" + (f", for {audiences}" if audiences else "")
            + (f", featuring {products}" if products else "") + "."
        ) if c.get("description") else "To be written: the campaign has no description yet."},
    ]  # fmt: skip
    if tier_hits:
        out.append({"heading": f"Tier {c['tier']} playbook requirements", "body": "\n".join(_quote(tier_hits, 3, 2))})
    if voice_hits:
        out.append({"heading": "Voice and tone", "body": "\n".join(_quote(voice_hits, 3, 1))})
    channels = [ch.replace("_", " ") for ch in c.get("channels") or []]
    body = f"Channels: {listing(channels) or 'to be decided'}."
    if channel_hits:
        body += "\n" + "\n".join(_quote(channel_hits, 4, 1))
    out.append({"heading": "Channel guidance", "body": body})
    out.append({"heading": "Timeline and budget", "body": f"Launch {day(c['launch_date'])}, end "
                f"{day(c.get('end_date'))}; budget {money_of(c.get('budget_planned'))}."})  # fmt: skip
    cites = sorted({h["citation"] for h in [*tier_hits[:3], *voice_hits[:3], *channel_hits[:4]]})
    if cites:
        out.append({"heading": "Sources", "body": "\n".join(f"- {x}" for x in cites)})
    return out


def draft_messaging(ctx: PlanContext) -> str:
    """Search the playbooks (tier requirements, brand voice, the campaign's channels) in one step, then
    spine__draft_strategy (type messaging). A read-only user gets the draft in the reply, not saved."""
    campaign, _ = resolve_campaign(ctx, ctx.request, "is the messaging for")
    tier_hits: list[dict[str, Any]] = []
    voice_hits: list[dict[str, Any]] = []
    channel_hits: list[dict[str, Any]] = []
    if ctx.has(SEARCH):
        tier = str(campaign["tier"])
        queries = [
            {"query": f"tier {tier} campaign messaging framework, owner and required channels", "k": 3, "tier": tier},
            {"query": "brand voice principles and tone by context", "k": 3},
            *({"query": CHANNEL_QUERY[ch], "k": 2} for ch in (campaign.get("channels") or [])[:2]
              if ch in CHANNEL_QUERY),
        ]  # fmt: skip
        found = ctx.call_all([(SEARCH, q) for q in queries])
        tier_hits, voice_hits = _hits(found[0]), _hits(found[1])
        seen = {h["citation"] for h in [*tier_hits, *voice_hits]}
        channel_hits = [h for o in found[2:] for h in _hits(o)[:2] if h["citation"] not in seen]
    parts = sections(campaign, tier_hits, voice_hits, channel_hits)
    title = f"{campaign['name']} — messaging strategy"[:200]
    draft = "\n".join(f"**{s['heading']}**\n{s['body']}" for s in parts)
    if ctx.readonly or not ctx.has("spine__draft_strategy"):
        why = "you have read-only access" if ctx.readonly else "spine__draft_strategy is not available to me"
        return f"Here is a messaging draft for {campaign['name']} (not saved: {why}).\n\n{draft}"
    outcome = ctx.call("spine__draft_strategy", campaign_id=campaign["id"], type="messaging", title=title,
                       content={"sections": parts}, generated_by="agent")  # fmt: skip
    if not outcome.ok:
        reason = outcome.error if not outcome.rejected else f"the approval was rejected ({outcome.error})"
        return f"Saving the messaging strategy failed: {reason}. The draft was:\n\n{draft}"
    s = outcome.data if isinstance(outcome.data, dict) else {}
    return (f"Drafted the messaging strategy for {campaign['name']}: \"{s.get('title', title)}\", version "
            f"{s.get('version', 1)}, status {s.get('status', 'draft')} (strategy id {s.get('id')}). "
            f"It is saved as a draft; submit it for review when it reads right.\n\n{draft}")  # fmt: skip
