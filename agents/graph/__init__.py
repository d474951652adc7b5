"""The LangGraph supervisor graph: route -> agents (with MCP tools and approval interrupts) -> synthesis."""

from agents.graph.approval import ApprovalOutcome, approval_notice, interrupt_payload
from agents.graph.build import GraphApp, build_graph, recursion_limit
from agents.graph.state import ChatEvent, EventSink, GraphContext, TurnState, UserContext, fresh_turn

__all__ = [
    "ApprovalOutcome",
    "ChatEvent",
    "EventSink",
    "GraphApp",
    "GraphContext",
    "TurnState",
    "UserContext",
    "approval_notice",
    "build_graph",
    "fresh_turn",
    "interrupt_payload",
    "recursion_limit",
]
