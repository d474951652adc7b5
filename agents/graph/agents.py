"""The agent node (one model step of the current part's agent) and the tools node (run its tool calls via MCP).

The tools node never interrupts: when a call answers ``approval_required`` it stores the call as ``pending`` and
hands over to the approval node, so the calls it already ran are checkpointed and never re-run on resume.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from langgraph.runtime import Runtime
from langgraph.types import Command, Overwrite

from agents.bridge import APPROVAL_ARG, ToolOutcome
from agents.graph.prompts import agent_system, step_metadata
from agents.graph.state import ChatEvent, GraphContext, TurnState, conversation_of, dump_message, load_messages
from agents.graph.steps import call_model
from agents.models.base import Message, ModelRequest, ModelResponse, ToolResultBlock, ToolUseBlock
from agents.protocol import CUT_NOTE, REFUSAL_NOTE, AgentName, cut_tool_results, max_tokens_for, split_tool_name

MAX_CALLS_PER_STEP = 8  # tool calls run from one model step; the rest get an error asking to split them


async def agent(state: TurnState, runtime: Runtime[GraphContext]) -> Command[Literal["agent", "tools", "finish"]]:
    """One model step of the current part's agent: tool calls go to the tools node, text ends the part."""
    ctx = runtime.context
    part = state["parts"][state["part"]]
    name = cast(AgentName, part["agent"])
    update: dict[str, Any] = {}
    if state["steps"] == 0:
        update["route"] = [name]
        ctx.emit(ChatEvent(kind="agent", agent=name, data={"request": part["request"]}))
    if state["steps"] >= ctx.max_steps:
        answer = (
            f"I stopped working on this after {ctx.max_steps} steps without a final answer: {part['request']}. "
            "Try asking for a smaller piece."
        )
        return _advance(state, answer, update)
    metadata = step_metadata(ctx, "agent", name, conversation_of(state))
    request = ModelRequest(
        system=agent_system(ctx, name, metadata),
        messages=load_messages(state["messages"]),
        tools=ctx.bridge.specs_for(name, read_only=ctx.user.read_only),
        max_tokens=max_tokens_for("agent", name),
        metadata=metadata,
    )
    final = len(state["parts"]) == 1
    response = await call_model(ctx, request, agent=name, final=final)
    update["messages"] = [dump_message(response.to_message())]
    update["steps"] = state["steps"] + 1
    if response.stop_reason == "refusal":  # none of its calls runs; the user hears what was said and why it ended
        return _advance(state, _with_note(response.text, REFUSAL_NOTE, ctx, name, final), update)
    if response.tool_uses and response.cut_off:  # a cut call's arguments may be incomplete: never run it
        cut = Message(role="user", content=list(cut_tool_results(response)))
        update["messages"] = [*update["messages"], dump_message(cut)]
        return Command(goto="agent", update=update)
    if response.tool_uses:
        return Command(goto="tools", update=update)
    if response.asks:
        update["asks"] = [{"agent": name, **a} for a in response.asks]
    return _advance(state, _answer(response, ctx, name, final), update)


def _answer(response: ModelResponse, ctx: GraphContext, agent: str, final: bool) -> str:
    """The part's answer; a text cut off at the output limit says so (also to a listening UI)."""
    if response.cut_off:
        return _with_note(response.text, CUT_NOTE, ctx, agent, final)
    return response.text.strip() or "(no answer)"


def _with_note(text: str, note: str, ctx: GraphContext, agent: str, final: bool) -> str:
    ctx.emit(ChatEvent(kind="text", agent=agent, text=f"\n\n{note}", final=final))
    return f"{text.strip()}\n\n{note}".strip()


def _advance(state: TurnState, answer: str, update: dict[str, Any]) -> Command[Literal["agent", "finish"]]:
    """Record the part's answer and start the next part (a conversation of its own), or finish the turn."""
    part = state["parts"][state["part"]]
    update["answers"] = [{"agent": part["agent"], "request": part["request"], "answer": answer}]
    nxt = state["part"] + 1
    if nxt < len(state["parts"]):
        first = Message(role="user", content=state["parts"][nxt]["request"])
        update.update(part=nxt, steps=0, messages=Overwrite([dump_message(first)]))
        return Command(goto="agent", update=update)
    return Command(goto="finish", update=update)


async def tools(state: TurnState, runtime: Runtime[GraphContext]) -> Command[Literal["agent", "approval"]]:
    """Run the last assistant message's tool calls in order; stop at the first that needs an approval."""
    ctx = runtime.context
    name = cast(AgentName, state["parts"][state["part"]]["agent"])
    uses = [b for b in load_messages(state["messages"][-1:])[0].blocks if isinstance(b, ToolUseBlock)]
    offered = {spec.name for spec in ctx.bridge.specs_for(name, read_only=ctx.user.read_only)}
    done = {r["tool_use_id"] for r in state["results"]}  # run before an approval interrupted this message's calls
    results: list[dict[str, Any]] = []
    tool_calls: list[dict[str, Any]] = []
    for index, use in enumerate(uses):
        if use.id in done:
            continue
        if index >= MAX_CALLS_PER_STEP:
            text = f"not run: at most {MAX_CALLS_PER_STEP} tool calls per step. Fix: send the rest in the next step."
            results.append(ToolResultBlock(tool_use_id=use.id, content=text, is_error=True).model_dump())
            continue
        # A control approval_id is the graph's to add (after a human approved); a model never chooses one. Where the
        # tool's own argument is named approval_id (the approval to read or resolve), the model's value stays.
        bridged = ctx.bridge.tools.get(use.name)
        names_it = bridged is not None and APPROVAL_ARG in (bridged.spec.input_schema.get("properties") or {})
        arguments = {k: v for k, v in use.input.items() if k != APPROVAL_ARG or names_it}
        if use.name in offered:
            outcome = await ctx.bridge.call(use.name, arguments)
        else:
            outcome = _not_offered(use.name, name, offered)
        tool_calls.append(_record(outcome, arguments, len(state["tool_calls"]) + len(tool_calls)))
        ctx.emit(ChatEvent(kind="tool", agent=name, data=tool_calls[-1]))
        if outcome.approval is not None:
            pending = _pending(use, outcome, arguments, name, tool_calls[-1]["index"])
            approval = {"approval_id": pending["approval_id"], "status": "pending",
                        "required_group": pending["required_group"], "tool": outcome.tool}  # fmt: skip
            ctx.emit(ChatEvent(kind="approval", agent=name, data=pending))
            return Command(
                goto="approval",
                update={"results": results, "tool_calls": tool_calls, "approvals": [approval], "pending": pending},
            )
        results.append(outcome.to_result_block(use.id).model_dump())
    order = {u.id: i for i, u in enumerate(uses)}
    gathered = (ToolResultBlock.model_validate(r) for r in [*state["results"], *results])
    blocks = sorted(gathered, key=lambda r: order.get(r.tool_use_id, 0))
    reply = Message(role="user", content=list(blocks))
    # The results are now in the message: the next assistant message gathers its own from empty.
    update = {"messages": [dump_message(reply)], "results": Overwrite([]), "tool_calls": tool_calls}
    return Command(goto="agent", update=update)


def record_of(
    server: str, tool: str, arguments: dict[str, Any], decision: str, status: str, index: int
) -> dict[str, Any]:
    """One entry of the turn's ``tool_calls``; ``index`` is its position there (what the reducer merges by)."""
    return {"server": server, "tool": tool, "arguments": arguments, "decision": decision, "result_status": status,
            "index": index}  # fmt: skip


def _record(outcome: ToolOutcome, arguments: dict[str, Any], index: int) -> dict[str, Any]:
    return record_of(outcome.server, outcome.tool, arguments, outcome.decision, outcome.result_status, index)


def _not_offered(model_name: str, agent: str, offered: set[str]) -> ToolOutcome:
    try:
        server, tool = split_tool_name(model_name)
    except ValueError:
        server, tool = "", model_name
    text = (
        f"tool {model_name!r} is not available to the {agent} agent for this user. "
        f"Fix: use one of: {', '.join(sorted(offered)) or 'no tools'}."
    )
    return ToolOutcome(server, tool, text, True, "error", "error")


def _pending(
    use: ToolUseBlock, outcome: ToolOutcome, arguments: dict[str, Any], agent: str, call_index: int
) -> dict[str, Any]:
    approval = outcome.approval or {}
    return {
        "tool_use_id": use.id, "name": use.name, "server": outcome.server, "tool": outcome.tool,
        "arguments": arguments, "approval_id": str(approval.get("approval_id", "")),
        "required_group": str(approval.get("required_group", "")), "reason": str(approval.get("reason", "")),
        "expires_at": approval.get("expires_at"), "agent": agent, "call_index": call_index,
    }  # fmt: skip
