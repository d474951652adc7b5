"""Approvals planner: list pending (or rejected, approved, ...) approvals and explain one."""

from __future__ import annotations

import re
from typing import Any

from agents.offline.plans.common import Answer, ok_data
from agents.offline.render import bullets, day, money_of, short_id
from agents.offline.router import own_words
from agents.offline.slots import find_uuid
from agents.offline.transcript import PlanContext

_UUID_RE = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_STATUS_RE = re.compile(r"\b(rejected|approved|expired|consumed|pending)\b", re.I)


def _group(text: str) -> str | None:
    if re.search(r"\bvps?\b|vice president", text, re.I):
        return "vp"
    if re.search(r"\bleadership\b", text, re.I):
        return "marketing-leadership"
    return None


def _what(a: dict[str, Any]) -> str:
    """What the approval would run, from its exact arguments (shown as data, never acted on)."""
    args = a.get("arguments") or {}
    bits = [f"{a.get('server')}.{a.get('tool')}"]
    if isinstance(args, dict):
        if args.get("name"):
            bits.append(f"'{args['name']}'")
        for key in ("budget_planned", "budget"):
            if isinstance(args.get(key), dict):
                bits.append(f"budget {money_of(args[key])}")
        changes = args.get("changes")
        if isinstance(changes, dict) and isinstance(changes.get("budget_planned"), dict):
            bits.append(f"budget to {money_of(changes['budget_planned'])}")
    return " ".join(bits)


_STATUS_WORDS = {"consumed": "approved and run"}  # the spine's word for an approval whose call has run


def _line(ctx: PlanContext, a: dict[str, Any]) -> str:
    line = (f"{a['approval_id']}: {_what(a)}, requested by {a.get('requester')}, needs {a.get('required_group')} "
            f"({a.get('reason')}); {_STATUS_WORDS.get(str(a.get('status')), a.get('status'))}")  # fmt: skip
    if a.get("status") == "pending":
        line += f", expires {day(a.get('expires_at'))}"
        if a.get("required_group") in ctx.groups and a.get("requester") != ctx.user_id and not ctx.readonly:
            line += "; you can approve or reject it"
    elif a.get("resolved_by"):
        line += f" by {a['resolved_by']}" + (f": {a['note']}" if a.get("note") else "")
    return line


def approvals(ctx: PlanContext) -> str:
    """spine__get_approval when the request names an approval id, else spine__list_approvals (default pending)."""
    text, context = own_words(ctx.request)
    wanted = find_uuid(text)
    if wanted and ctx.has("spine__get_approval"):
        a = ok_data(ctx, f"Reading approval {wanted}", "spine__get_approval", approval_id=wanted)
        return f"Approval {_line(ctx, a)}. It holds the exact call that runs once it is approved."
    # "any news?" about this thread's approval: the supervisor named it after the request (from the thread's state)
    named = list(dict.fromkeys(m.lower() for m in _UUID_RE.findall(context)))
    if named and ctx.has("spine__get_approval"):
        found = ctx.call_all([("spine__get_approval", {"approval_id": i}) for i in named])
        lines = [
            f"Approval {_line(ctx, o.data)}."
            if o.ok and isinstance(o.data, dict)
            else f"Approval {i}: I could not read it ({o.text[:120]})."
            for i, o in zip(named, found, strict=True)
        ]
        pending = any(o.ok and isinstance(o.data, dict) and o.data.get("status") == "pending" for o in found)
        tail = " The waiting call runs once it is approved; I'll continue then." if pending else ""
        return "\n".join(lines) + tail
    if not ctx.has("spine__list_approvals"):
        raise Answer("I can't read approvals here: spine__list_approvals is not available to me.")
    m = _STATUS_RE.search(text)
    status = m.group(1).lower() if m else "pending"
    group = _group(text)
    data = ok_data(ctx, "Reading the approvals", "spine__list_approvals", status=status, group=group)
    rows = data.get("approvals") or []
    mine = re.search(r"\b(my|mine|i)\b", text, re.I) and not re.search(r"\bsign-?off|to review|approve\b", text, re.I)
    if mine:
        rows = [a for a in rows if a.get("requester") == ctx.user_id] or rows
    scope = f"{status} approvals" + (f" for {group}" if group else "")
    if not rows:
        return f"There are no {scope}."
    head = f"{len(rows)} {scope}:" if len(rows) != 1 else f"1 {scope.replace('approvals', 'approval')}:"
    tail = ("" if status != "pending" else
            "\nEach call runs only after someone in the required group (not the requester) approves it.")  # fmt: skip
    return f"{head}\n{bullets(_line(ctx, a) for a in rows[:10])}{tail}" + (
        f"\n(and {len(rows) - 10} more; ids shown in full, e.g. {short_id(rows[10]['approval_id'])}…)"
        if len(rows) > 10 else ""
    )  # fmt: skip
