"""The tool catalog as data: every tool the MCP servers expose, with what the policies need to know of it.

The servers register exactly these names; a tool missing here is denied (fail closed). A few hypothetical
tools (Salesforce and analytics writes, Workfront project deletion, a spend commitment) are listed so that the
read-only, never-delete and budget rules are tested and hold if such a tool is ever added.

Each tool's ``money`` table lists every argument path where it sets money (``policies.money``); the budget rules
see the largest amount among them. ``tests/security/test_budget_paths.py`` walks every served write tool's input
schema and fails when a money-like argument or an object with free keys is missing from its tool's table.
Personal data: external systems refuse it in arguments (``pii="redact"`` masks emails and phones in notes and
comments); our own servers mask emails and phones and refuse card numbers and SSNs in every write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from policies.model import ActionKind, PiiMode, ToolSpec
from policies.money import ANY, MoneyArg

SERVERS: tuple[str, ...] = ("workfront", "asana", "spine", "knowledge")
EXTERNAL_SYSTEMS: frozenset[str] = frozenset({"workfront", "asana", "salesforce", "analytics"})
READ_ONLY_SYSTEMS: frozenset[str] = frozenset({"salesforce", "analytics"})


def _spec(
    server: str,
    tool: str,
    kind: ActionKind,
    obj: str,
    *,
    money: tuple[MoneyArg, ...] = (),
    fields: tuple[str, str] | None = None,
    pii: PiiMode | None = None,
    hypothetical: bool = False,
) -> ToolSpec:
    # Personal data bound for another system is refused outright; our own store masks emails and phones.
    external = server in EXTERNAL_SYSTEMS
    return ToolSpec(
        server=server,
        tool=tool,
        kind=kind,
        system=server,
        object_type=obj,
        external=external,
        money=money,
        fields_entity=fields[0] if fields else None,
        fields_from=fields[1] if fields else None,  # type: ignore[arg-type]
        pii_mode=pii or ("deny" if external else "redact"),
        hypothetical=hypothetical,
    )


_W, _A, _S, _K = "workfront", "asana", "spine", "knowledge"

# Money tables (policies.money): every argument path where a tool sets money, and how to read it.
_WF_PROJECT_MONEY = (MoneyArg(("budget",)), MoneyArg(("custom_fields",), "fields"))
_CAMPAIGN_MONEY = (MoneyArg(("budget_planned",)), MoneyArg(("budget_committed",)))
_CAMPAIGN_CHANGES_MONEY = (MoneyArg(("changes",), "fields"),)
_STRATEGY_MONEY = (
    MoneyArg(("content", "attachments", ANY), "none", note="file references of a strategy draft; they set no money"),
)

_SPECS: tuple[ToolSpec, ...] = (
    # Workfront (external execution system).
    _spec(_W, "create_project", "write", "project", money=_WF_PROJECT_MONEY),
    _spec(_W, "get_project", "read", "project"),
    _spec(_W, "search", "read", "any"),
    _spec(_W, "create_task", "write", "task"),
    _spec(_W, "update_task", "write", "task"),
    _spec(_W, "update_status", "write", "any"),
    _spec(_W, "assign_resource", "write", "task"),
    _spec(_W, "get_capacity", "read", "user"),
    _spec(_W, "search_users", "read", "user"),
    _spec(_W, "create_issue", "write", "issue"),
    _spec(_W, "add_note", "write", "note", pii="redact"),
    _spec(_W, "delete_project", "delete", "project", hypothetical=True),
    _spec(_W, "create_expense", "commit_spend", "expense", money=(MoneyArg(("amount",)),), hypothetical=True),
    # Asana (external execution system).
    _spec(_A, "create_project", "write", "project"),
    _spec(_A, "get_project", "read", "project"),
    _spec(_A, "search_tasks", "read", "task"),
    _spec(_A, "get_task", "read", "task"),
    _spec(_A, "create_task", "write", "task"),
    _spec(_A, "create_subtask", "write", "task"),
    _spec(_A, "update_task", "write", "task"),
    _spec(_A, "add_comment", "write", "story", pii="redact"),
    _spec(_A, "get_user_tasks", "read", "task"),
    _spec(_A, "list_sections", "read", "section"),
    _spec(_A, "list_users", "read", "user"),
    _spec(_A, "add_task_to_section", "write", "section"),
    # Campaign spine (internal canonical store).
    _spec(_S, "create_campaign", "write", "campaign", money=_CAMPAIGN_MONEY, fields=("campaign", "arguments")),
    # A new campaign's fields and money as create_campaign; an existing one (campaign_id, project_id: references,
    # not fields) sets no money, so it needs no approval.
    _spec(_S, "start_campaign_setup", "write", "campaign", money=_CAMPAIGN_MONEY, fields=("campaign", "arguments")),
    _spec(_S, "get_campaign", "read", "campaign"),
    _spec(_S, "list_campaigns", "read", "campaign"),
    _spec(_S, "update_campaign", "write", "campaign", money=_CAMPAIGN_CHANGES_MONEY, fields=("campaign", "changes")),
    _spec(_S, "draft_strategy", "write", "strategy", money=_STRATEGY_MONEY),
    _spec(_S, "submit_strategy", "write", "strategy"),
    _spec(_S, "approve_strategy", "approve", "strategy"),
    _spec(_S, "reject_strategy", "approve", "strategy"),
    _spec(_S, "list_strategies", "read", "strategy"),
    _spec(_S, "get_strategy", "read", "strategy"),
    _spec(_S, "list_work_items", "read", "work_item"),
    _spec(_S, "get_work_item", "read", "work_item"),
    _spec(_S, "lookup_external_id", "read", "system_ref"),
    _spec(_S, "lookup_canonical_id", "read", "system_ref"),
    _spec(_S, "get_tracking_keys", "read", "tracking_key"),
    _spec(_S, "performance_summary", "read", "measurement"),
    _spec(_S, "list_approvals", "read", "approval"),
    _spec(_S, "get_approval", "read", "approval"),
    _spec(_S, "resolve_approval", "approve", "approval"),
    _spec(_S, "audit_tail", "audit", "audit_log"),
    # Knowledge (internal playbook retrieval).
    _spec(_K, "search_playbooks", "read", "document"),
    _spec(_K, "answer_question", "read", "document"),
    _spec(_K, "get_document", "read", "document"),
    # Read-only production systems: no server today.
    _spec("salesforce", "get_campaign", "read", "campaign", hypothetical=True),
    _spec("salesforce", "update_campaign", "write", "campaign", hypothetical=True),
    _spec("analytics", "get_measurements", "read", "measurement", hypothetical=True),
    _spec("analytics", "write_measurement", "write", "measurement", hypothetical=True),
)


class ToolCatalog:
    """Lookup of ``ToolSpec`` by server and tool name."""

    def __init__(self, specs: Iterable[ToolSpec]) -> None:
        by_name: dict[tuple[str, str], ToolSpec] = {}
        for spec in specs:
            key = (spec.server, spec.tool)
            if key in by_name:
                raise ValueError(f"tool catalog: {spec.name} is listed twice")
            by_name[key] = spec
        self._by_name: Mapping[tuple[str, str], ToolSpec] = MappingProxyType(by_name)

    def get(self, server: str, tool: str) -> ToolSpec | None:
        """The spec of ``server.tool``, or ``None`` when the tool is unknown."""
        return self._by_name.get((server, tool))

    def for_server(self, server: str, *, include_hypothetical: bool = False) -> tuple[ToolSpec, ...]:
        """Every tool of one server, in catalog order (what a server should register)."""
        return tuple(
            s for s in self._by_name.values() if s.server == server and (include_hypothetical or not s.hypothetical)
        )

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)


DEFAULT_CATALOG = ToolCatalog(_SPECS)
