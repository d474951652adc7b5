"""Shared test parts for the agent graph: a scripted ChatModel (the test double of the external LLM) and a
demo world of real guarded in-process MCP servers over a real database (``make_world``).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mcp import Client
from mcp.server.mcpserver import MCPServer

from agents.assistant import UserInfo
from agents.models.base import (
    MessageDone,
    ModelRequest,
    ModelResponse,
    StreamEvent,
    TextBlock,
    TextDelta,
    ToolResultBlock,
    ToolUseBlock,
    ToolUseDone,
    ToolUseStart,
)
from agents.protocol import AGENT_KEY, ROLE_KEY, ROUTE_TOOL_NAME
from mcp_servers.guard.guard import Guard
from mcp_servers.guard.identity import FixedPrincipal
from mcp_servers.spine.server import build_spine_server
from policies.engine import PolicyEngine
from policies.model import Principal
from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.db import make_session_factory
from spine.demo import DEMO_TENANT, load_demo

TODAY = dt.date(2026, 11, 1)
GROUPS = {
    "maya.chen": ["campaign-managers"],
    "dana.reyes": ["marketing-leadership"],
    "sam.taylor": ["readonly-users"],
}

# --- scripted model ----------------------------------------------------------------------------------------------

Step = ModelResponse | Callable[[ModelRequest], ModelResponse]
_ids = itertools.count(1)


def route(*parts: tuple[str, str]) -> ModelResponse:
    """A supervisor answer routing to ``(agent, request)`` parts."""
    payload = {"parts": [{"agent": a, "request": r} for a, r in parts]}
    return ModelResponse(
        content=[ToolUseBlock(id=f"toolu_route_{next(_ids)}", name=ROUTE_TOOL_NAME, input=payload)],
        stop_reason="tool_use",
    )


def call(name: str, /, **arguments: Any) -> ModelResponse:
    """An agent step calling one tool."""
    return calls((name, arguments))


def calls(*uses: tuple[str, dict[str, Any]]) -> ModelResponse:
    """An agent step calling several tools at once."""
    blocks = [ToolUseBlock(id=f"toolu_{next(_ids)}", name=n, input=a) for n, a in uses]
    return ModelResponse(content=list(blocks), stop_reason="tool_use")


def say(text: str) -> ModelResponse:
    """A final text answer."""
    return ModelResponse(content=[TextBlock(text=text)], stop_reason="end_turn")


def last_tool_results(request: ModelRequest) -> list[ToolResultBlock]:
    """The tool_result blocks of the request's last user message."""
    return [b for b in request.messages[-1].blocks if isinstance(b, ToolResultBlock)]


def result_text(block: ToolResultBlock) -> str:
    return block.content if isinstance(block.content, str) else "".join(t.text for t in block.content)


@dataclass
class ScriptedModel:
    """Answers each step from a script keyed by role (``supervisor``, ``synthesiser``) or agent name.

    A step is a ``ModelResponse`` or a function of the request. Every request is recorded. Running out of
    script for a key fails the test loudly (the graph asked for a step nobody expected).
    """

    script: dict[str, list[Step]]
    name: str = "scripted"
    requests: list[ModelRequest] = field(default_factory=list)

    def key(self, request: ModelRequest) -> str:
        role = request.metadata[ROLE_KEY]
        return request.metadata[AGENT_KEY] if role == "agent" else role

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        key = self.key(request)
        queue = self.script.get(key)
        if not queue:
            raise AssertionError(f"scripted model has no step left for {key!r}; request: {request.messages[-1]}")
        step = queue.pop(0)
        return step(request) if callable(step) else step

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        response = await self.complete(request)
        for block in response.content:
            if isinstance(block, TextBlock):
                for word in block.text.split(" "):
                    yield TextDelta(text=word + " ")
            else:
                yield ToolUseStart(id=block.id, name=block.name)
                yield ToolUseDone(block=block)
        yield MessageDone(response=response)

    def requests_for(self, key: str) -> list[ModelRequest]:
        return [r for r in self.requests if self.key(r) == key]


# --- the world -----------------------------------------------------------------------------------------------------


@dataclass
class World:
    """A demo tenant in a real database with the policy engine, approvals and audit log the guards share."""

    sessions: Any
    engine: PolicyEngine
    approvals: ApprovalStore
    audit: AuditLog

    def principal(self, user: str) -> Principal:
        return Principal(user, DEMO_TENANT, frozenset(GROUPS[user]))

    def user(self, user: str) -> UserInfo:
        return UserInfo(user_id=user, tenant_id=DEMO_TENANT, groups=GROUPS[user])

    def spine(self, user: str) -> MCPServer:
        guard = Guard("spine", self.engine, self.approvals, self.audit, FixedPrincipal(self.principal(user)))
        return build_spine_server(self.sessions, guard)

    def servers(self, user: str) -> dict[str, Any]:
        return {"spine": self.spine(user)}

    async def spine_call(self, user: str, tool: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
        async with Client(self.spine(user)) as client:
            result = await client.call_tool(tool, arguments)
        if result.is_error:
            return False, result.content[0].text
        return True, result.structured_content

    async def resolve(self, approval_id: str, decision: str, *, by: str = "dana.reyes", note: str | None = None) -> Any:
        args: dict[str, Any] = {"approval_id": approval_id, "decision": decision}
        if note is not None:
            args["note"] = note
        ok, answer = await self.spine_call(by, "resolve_approval", args)
        assert ok, answer
        return answer

    async def campaigns_named(self, name: str) -> list[dict[str, Any]]:
        ok, answer = await self.spine_call("maya.chen", "list_campaigns", {"name_contains": name})
        assert ok, answer
        return answer["campaigns"]

    def executed(self, tool: str) -> int:
        """How many times the spine audit log saw ``tool`` execute (writes only)."""
        return sum(1 for r in self.audit.tail(DEMO_TENANT, limit=1000) if r.tool == tool and r.decision == "executed")


@functools.cache
def shared_policy_engine() -> PolicyEngine:
    """Parsed once per test process (Cedar parsing is the slow part)."""
    return PolicyEngine.from_directory(fx_rates={"USD": Decimal(1), "EUR": Decimal("1.08")})


def make_world(engine: Any) -> World:
    """The demo tenant loaded into ``engine`` (a migrated database from tests/conftest.py)."""
    sessions = make_session_factory(engine)
    load_demo(sessions, today=TODAY)
    audit = AuditLog(sessions)
    return World(sessions, shared_policy_engine(), ApprovalStore(sessions, audit=audit), audit)


def campaign_args(name: str, amount: str) -> dict[str, Any]:
    """Arguments of spine create_campaign (as a model would send them)."""
    return {"name": name, "type": "standard", "tier": 2, "launch_date": "2027-02-01", "end_date": "2027-03-31",
            "owner_id": "maya.chen", "budget_planned": {"amount": amount, "currency": "USD"},
            "channels": ["email", "web"]}  # fmt: skip
