"""What the chat templates get: turns, activity lines and approval cards, built from thread state or a turn's events."""

from __future__ import annotations

from typing import Any

from mcc.web.chat_render import decision_label, is_proposal, reply_html, tool_label
from mcc.web.chat_service import ThreadView
from mcc.web.chat_stream import TurnStream


def activity_item(kind: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """One line of "what acted": routing, an agent starting, a tool call with its policy decision, an approval."""
    if kind == "route":
        agents = ", ".join(str(p.get("agent", "")) for p in data.get("parts", []))
        return {"kind": "route", "agents": agents}
    if kind == "agent":
        return {"kind": "agent", "agent": data.get("agent") or "", "request": data.get("request", "")}
    if kind == "tool":
        decision = str(data.get("decision", ""))
        return {"kind": "tool", "tool": tool_label(data), "decision": decision,
                "decision_label": decision_label(decision), "status": data.get("result_status")}  # fmt: skip
    if kind == "approval":
        return {"kind": "approval", "group": data.get("required_group", "")}
    return None


def approval_card(record: dict[str, Any], thread_id: str) -> dict[str, Any]:
    """An approval as its card shows it (``record``: the graph's approval entry or the spine's approval)."""
    keys = ("approval_id", "status", "required_group", "tool", "reason", "resolved_by", "note", "edits")
    return {"thread_id": thread_id, **{k: record.get(k) for k in keys}}


def _turn(thread_id: str, turn_id: str, request: str, reply: str, **extra: Any) -> dict[str, Any]:
    return {"thread_id": thread_id, "turn_id": turn_id, "request": request, "reply_html": reply_html(reply),
            "proposal": is_proposal(reply), "last": True, "activity": [], "approvals": [], "error": None,
            **extra}  # fmt: skip


def finished_turn(stream: TurnStream) -> dict[str, Any]:
    """A turn rendered from its events once it has finished (what the "final" event swaps in)."""
    activity = [a for a in (activity_item(i.kind, i.data) for i in stream.items) if a is not None]
    reply_item = next((i for i in stream.items if i.kind == "reply"), None)
    error_item = next((i for i in stream.items if i.kind == "error"), None)
    reply = str(reply_item.data.get("reply", "")) if reply_item else ""
    approvals = []
    if reply_item is not None:
        # only the approvals this turn asked for (a resumed turn's approval has its card in the turn before)
        asked = {i.data.get("approval_id"): i.data for i in stream.items if i.kind == "approval"}
        for a in reply_item.data.get("approvals", []):
            if a["approval_id"] in asked:
                approvals.append(approval_card({**asked[a["approval_id"]], **a}, stream.thread_id))
    error = f"{error_item.data['message']}. {error_item.data.get('fix', '')}".strip() if error_item else None
    return _turn(stream.thread_id, stream.turn_id, stream.request, reply, activity=activity, approvals=approvals,
                 error=error)  # fmt: skip


def thread_turns(view: ThreadView) -> list[dict[str, Any]]:
    """A thread's page: each earlier question and answer, then the current turn when it waits on an approval."""
    turns: list[dict[str, Any]] = []
    history = view.history
    for n in range(0, len(history) - 1, 2):
        asked, answered = history[n], history[n + 1]
        turns.append(_turn(view.thread_id, f"h{n}", str(asked.get("content", "")), str(answered.get("content", ""))))
    if view.waiting is not None:
        waiting = view.waiting
        activity = [a for a in (activity_item("tool", c) for c in view.tool_calls) if a is not None]
        approvals = [approval_card({**waiting, **a}, view.thread_id) if a.get("approval_id") == waiting.get(
            "approval_id") else approval_card(a, view.thread_id) for a in view.approvals]  # fmt: skip
        if not any(a.get("approval_id") == waiting.get("approval_id") for a in view.approvals):
            # a message answered while an older call waits: that call's approval still shows, still pending
            approvals.append(approval_card({**waiting, "status": "pending"}, view.thread_id))
        turns.append(_turn(view.thread_id, "waiting", view.request, view.reply, activity=activity,
                           approvals=approvals))  # fmt: skip
    elif turns and view.tool_calls:  # the last answer's tool calls and their policy decisions
        turns[-1]["activity"] = [a for a in (activity_item("tool", c) for c in view.tool_calls) if a is not None]
        turns[-1]["approvals"] = [approval_card(a, view.thread_id) for a in view.approvals]
    for t in turns[:-1]:
        t["last"] = False
    return turns


def live_turn(stream: TurnStream) -> dict[str, Any]:
    """A running turn: the template follows its events."""
    return {"thread_id": stream.thread_id, "turn_id": stream.turn_id, "request": stream.request}
