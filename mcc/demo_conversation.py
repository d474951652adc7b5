"""The short scripted conversation ``mcc demo`` ends with: routing, tool calls, a cited playbook answer and a
pending approval that a leader approves, after which the waiting conversation finishes the job.

It runs the real stack (agent graph, chat model, in-process MCP servers, guard, approvals) exactly as
``mcc ask`` and ``mcc approvals approve`` do; nothing here is canned except the user's words.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console
from rich.markup import escape

from mcc.wiring import App

REQUESTER, APPROVER = "maya.chen", "dana.reyes"


def script(today: dt.date, with_knowledge: bool) -> list[str]:
    """The user's lines; the launch date is relative to today so the campaign is always in the future."""
    launch = (today + dt.timedelta(days=75)).isoformat()
    lines = ["How is the Q1 Cloud Platform Launch performing?"]
    if with_knowledge:
        lines.append("What lead time does a Tier 1 campaign need before launch?")
    lines.append(
        f"Create a tier 2 standard campaign called Holiday Retargeting launching {launch} with a budget of $25,000"
    )
    return lines


async def run_demo_conversation(app: App, console: Console, *, with_knowledge: bool = True) -> list[dict[str, Any]]:
    """Play the script as the requester, approve what waits as the approver; the turns as JSON-able dicts."""
    from mcc.commands.chat import open_assistant, resume_after_resolution
    from mcc.commands.governance import spine_call

    turns: list[dict[str, Any]] = []
    thread: str | None = None
    async with open_assistant(app, REQUESTER, None) as assistant:
        for line in script(dt.date.today(), with_knowledge):
            turn = await assistant.send(line, thread)
            thread = turn.thread_id
            _show(console, REQUESTER, line, turn)
            turns.append({"user": REQUESTER, "said": line, **turn.model_dump(mode="json")})
    for approval in [a for a in turns[-1]["approvals"] if a["status"] == "pending"]:
        args = {"approval_id": approval["approval_id"], "decision": "approve",
                "note": "Within the Q4 plan."}  # fmt: skip
        row = await spine_call(app, APPROVER, None, "resolve_approval", args)
        console.print(f"\n[bold]{APPROVER}[/bold] (marketing-leadership) approves {approval['approval_id']} "
                      f"[dim]({escape(row['server'])}.{escape(row['tool'])})[/dim]")  # fmt: skip
        resumed = await resume_after_resolution(app, row)
        if resumed is not None:
            _show(console, REQUESTER, "(conversation resumes)", resumed)
            turns.append({"user": REQUESTER, "said": None, **resumed.model_dump(mode="json")})
    return turns


def _show(console: Console, user: str, line: str, turn: Any) -> None:
    console.print(f"\n[bold]{user}[/bold] › {escape(line)}")
    if turn.route:
        console.print(f"  [dim]route:[/dim] {' → '.join(turn.route)}")
    for call in turn.tool_calls:
        outcome = f"{call.decision}, {call.result_status}"
        console.print(f"  [dim]tool:[/dim] {call.server}.{call.tool} [dim]→ {outcome}[/dim]")
    console.print(turn.reply, markup=False, highlight=False, soft_wrap=True)
    for a in turn.approvals:
        if a.status == "pending":
            console.print(f"  [yellow]pending approval[/yellow] {a.approval_id} for {a.tool}: needs {a.required_group}")
