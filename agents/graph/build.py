"""``build_graph``: supervisor -> agent <-> tools <-> approval -> finish, compiled with a checkpointer."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agents.graph.agents import agent, tools
from agents.graph.approval import approval
from agents.graph.state import GraphContext, TurnState
from agents.graph.supervisor import ROUTE_ATTEMPTS, supervisor
from agents.graph.synthesis import finish
from agents.protocol import MAX_PARTS

GraphApp = CompiledStateGraph[Any, Any, Any, Any]


def build_graph(checkpointer: BaseCheckpointSaver[Any] | None) -> GraphApp:
    """The supervisor graph. Nodes route with ``Command``; run it with ``context=GraphContext(...)``."""
    graph = StateGraph(TurnState, context_schema=GraphContext)
    graph.add_node("supervisor", supervisor, destinations=("agent", "finish"))
    graph.add_node("agent", agent, destinations=("agent", "tools", "finish"))
    graph.add_node("tools", tools, destinations=("agent", "approval"))
    graph.add_node("approval", approval, destinations=("tools", "supervisor", "approval", "finish"))
    graph.add_node("finish", finish, destinations=("approval", END))
    graph.add_edge(START, "supervisor")
    return graph.compile(checkpointer=checkpointer)


def recursion_limit(max_steps: int) -> int:
    """Supersteps one run may take: every part's steps with a tool round and an approval each, plus margin.

    The per-part step limit ends a turn first; this is the backstop against a loop the graph does not foresee.
    """
    per_part = max_steps * 3 + 2
    return ROUTE_ATTEMPTS + MAX_PARTS * per_part + 4
