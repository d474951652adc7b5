"""A small world for the offline model's tests: the spine demo data, a Workfront and an Asana sandbox, the real
guard and policies, and a driver that runs one agent's turn the way the graph does (the model's tool calls go
through real in-process MCP clients; approvals are resolved by a real approver)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.server.mcpserver import MCPServer
from sqlalchemy.orm import Session, sessionmaker

from agents.models.base import Message, ModelRequest, TextBlock, ToolResultBlock, ToolSpec
from agents.offline import OfflineModel
from agents.protocol import AGENT_TOOLS, REJECTED_PREFIX, model_tool_name, split_tool_name, user_meta
from connectors.asana.sandbox import AsanaSandbox
from connectors.workfront.sandbox import WorkfrontSandbox
from connectors.workfront.seed import seed_demo
from knowledge.service import KnowledgeBase
from mcp_servers.asana.server import asana_resource_tenant, build_asana_server
from mcp_servers.guard.guard import Guard
from mcp_servers.guard.identity import FixedPrincipal
from mcp_servers.knowledge.server import build_knowledge_server
from mcp_servers.spine.server import build_spine_server
from mcp_servers.workfront.server import build_workfront_server, workfront_resource_tenant
from policies.engine import PolicyEngine
from policies.model import Principal
from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.demo import DEMO_TENANT, load_demo
from spine.demo_data import ACME_USERS

TODAY = dt.date(2026, 11, 2)  # a Monday
GROUPS = {u: frozenset(g) for u, _, g in ACME_USERS}


@dataclass
class Turn:
    """What one agent turn did: the final answer and every tool call with its outcome."""

    answer: str
    calls: list[tuple[str, dict[str, Any], bool, Any]] = field(default_factory=list)  # name, args, ok, data|text
    approvals: list[str] = field(default_factory=list)

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


@dataclass
class World:
    sessions: sessionmaker[Session]
    policy: PolicyEngine
    audit: AuditLog
    approvals: ApprovalStore
    workfront: WorkfrontSandbox
    asana: AsanaSandbox
    knowledge: KnowledgeBase | None = None
    _servers: dict[tuple[str, str], MCPServer] = field(default_factory=dict)

    def server(self, name: str, user: str) -> MCPServer:
        if (name, user) not in self._servers:
            principal = Principal(user, DEMO_TENANT, GROUPS[user])
            ident = FixedPrincipal(principal)
            if name == "spine":
                guard = Guard("spine", self.policy, self.approvals, self.audit, ident)
                self._servers[(name, user)] = build_spine_server(self.sessions, guard)
            elif name == "knowledge":
                assert self.knowledge is not None, "this world has no knowledge base"
                guard = Guard("knowledge", self.policy, self.approvals, self.audit, ident)
                self._servers[(name, user)] = build_knowledge_server(self.knowledge, guard)
            elif name == "workfront":
                guard = Guard("workfront", self.policy, self.approvals, self.audit, ident,
                              resource_tenant=workfront_resource_tenant(self.sessions))  # fmt: skip
                self._servers[(name, user)] = build_workfront_server(lambda _t: self.workfront, self.sessions, guard)
            else:
                guard = Guard("asana", self.policy, self.approvals, self.audit, ident,
                              resource_tenant=asana_resource_tenant(self.sessions))  # fmt: skip
                self._servers[(name, user)] = build_asana_server(lambda _t: self.asana, self.sessions, guard)
        return self._servers[(name, user)]

    async def specs(self, agent: str, user: str) -> list[ToolSpec]:
        """The agent's tools as the model sees them; a read-only user gets only read-only tools."""
        out: list[ToolSpec] = []
        for server, names in AGENT_TOOLS[agent].items():  # type: ignore[index]
            if server == "knowledge" and self.knowledge is None:
                continue  # no knowledge base in this world: the agent works without playbooks
            async with Client(self.server(server, user)) as client:
                listed = {t.name: t for t in (await client.list_tools()).tools}
            for n in names:
                tool = listed.get(n)
                if tool is None or ("readonly-users" in GROUPS[user] and not tool.annotations.read_only_hint):
                    continue
                out.append(ToolSpec(name=model_tool_name(server, n), description=tool.description or "",
                                    input_schema=tool.input_schema))  # fmt: skip
        return out

    async def call(self, user: str, name: str, args: dict[str, Any]) -> tuple[bool, Any, str]:
        server, tool = split_tool_name(name)
        async with Client(self.server(server, user)) as client:
            result = await client.call_tool(tool, args)
        if result.is_error:
            text = result.content[0].text
            return False, text, text
        data = result.structured_content
        if isinstance(data, dict) and set(data) == {"result"}:
            data = data["result"]
        return True, data, json.dumps(data, default=str)

    async def run(
        self,
        model: OfflineModel,
        agent: str,
        request: str,
        user: str = "maya.chen",
        approver: str | None = None,
        reject_note: str | None = None,
        max_steps: int = 12,
    ) -> Turn:
        """One agent turn to its final text. An approval_required answer is resolved by ``approver`` (rejected
        with ``reject_note`` when given) and handled like the graph: re-sent once, or answered REJECTED."""
        tools = await self.specs(agent, user)
        meta = {"role": "agent", "agent": agent, "user": user_meta(user, DEMO_TENANT, sorted(GROUPS[user])),
                "today": TODAY.isoformat(), "thread_id": "t-test"}  # fmt: skip
        messages = [Message(role="user", content=request)]
        turn = Turn("")
        for _ in range(max_steps):
            response = await model.complete(ModelRequest(messages=messages, tools=tools, metadata=meta))
            messages.append(response.to_message())
            if not response.tool_uses:
                turn.answer = response.text
                return turn
            blocks = []
            for use in response.tool_uses:
                ok, data, text = await self.call(user, use.name, use.input)
                if ok and isinstance(data, dict) and data.get("status") == "approval_required":
                    turn.approvals.append(data["approval_id"])
                    assert approver is not None, f"unexpected approval for {use.name}"
                    decision = "reject" if reject_note else "approve"
                    resolved, _, err = await self.call(approver, "spine__resolve_approval", {
                        "approval_id": data["approval_id"], "decision": decision,
                        **({"note": reject_note} if reject_note else {})})  # fmt: skip
                    assert resolved, err
                    if reject_note:
                        ok, text = False, f"{REJECTED_PREFIX} {use.name} was rejected by {approver}: {reject_note}."
                        data = text
                    else:
                        ok, data, text = await self.call(
                            user, use.name, {**use.input, "approval_id": data["approval_id"]}
                        )
                turn.calls.append((use.name, dict(use.input), ok, data))
                blocks.append(ToolResultBlock(tool_use_id=use.id, content=text, is_error=not ok))
            messages.append(Message(role="user", content=blocks))
        raise AssertionError(f"no final answer after {max_steps} steps: {[b for m in messages for b in m.blocks]}")

    async def close(self) -> None:
        await self.workfront.aclose()
        await self.asana.aclose()


async def open_world(sessions: sessionmaker[Session], tmp_path: Path, knowledge: KnowledgeBase | None = None) -> World:
    load_demo(sessions, today=TODAY)
    audit = AuditLog(sessions)
    policy = PolicyEngine.from_directory(fx_rates={"USD": Decimal(1), "EUR": Decimal("1.08")}, rate_rules=())
    workfront = WorkfrontSandbox(tmp_path / "workfront")
    await seed_demo(workfront)
    asana = AsanaSandbox(tmp_path / "asana.sqlite")
    people = [(name, f"{uid}@acme.example.com") for uid, name, _ in ACME_USERS]
    asana.seed_demo(workspace_name="Acme", users=people, projects=[])
    return World(sessions, policy, audit, ApprovalStore(sessions, audit=audit), workfront, asana, knowledge)


def text_of(message: Message) -> str:
    return "".join(b.text for b in message.blocks if isinstance(b, TextBlock))
