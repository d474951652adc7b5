"""Value types of the policy engine: who calls, what they call, what each tool is, and the decision.

Plain frozen dataclasses: the engine is on every tool call's hot path, and the guard that wraps it owns the
pydantic boundary models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from policies.money import MoneyArg

Effect = Literal["allow", "deny", "require_approval"]
Mode = Literal["enforce", "log_only"]
ActionKind = Literal["read", "write", "delete", "commit_spend", "approve", "audit"]
PiiKind = Literal["email", "phone", "card", "ssn"]
PiiMode = Literal["deny", "redact"]

ALLOW: Effect = "allow"
DENY: Effect = "deny"
REQUIRE_APPROVAL: Effect = "require_approval"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: a user of one tenant with its directory groups (e.g. ``campaign-managers``)."""

    user_id: str
    tenant_id: str
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call as a server receives it.

    ``resource_tenant_id`` is the tenant of the target resource when the guard knows it (looked up from the
    canonical id); ``None`` means "not known", and then only a ``tenant_id`` argument is checked.
    """

    server: str
    tool: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    resource_tenant_id: str | None = None

    @property
    def name(self) -> str:
        return f"{self.server}.{self.tool}"


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """What a tool does, as the policies need to know it.

    - ``kind``: read | write | delete | commit_spend | approve | audit.
    - ``system``: the system the call acts on (salesforce and analytics are read-only).
    - ``external``: arguments leave our boundary (Workfront, Asana, Salesforce, analytics): scanned for PII.
    - ``money``: every place the arguments set money (``policies.money``): the budget rules see the largest
      amount in USD. A write tool's table must cover each money-like argument (a test walks the schemas).
    - ``fields_entity`` / ``fields_from``: canonical fields written, taken from the keys of the ``changes``
      argument (``"changes"``) or of all arguments (``"arguments"``), checked against field authority.
    - ``pii_mode``: ``redact`` lets emails and phone numbers in free text through masked; cards and SSNs
      are always denied. The arguments of every write (and of every call to an external system) are scanned.
    - ``hypothetical``: not exposed by any server today; catalogued so that the rules hold if it ever is.
    """

    server: str
    tool: str
    kind: ActionKind
    system: str
    object_type: str
    external: bool
    money: tuple[MoneyArg, ...] = ()
    fields_entity: str | None = None
    fields_from: Literal["changes", "arguments"] | None = None
    pii_mode: PiiMode = "deny"
    hypothetical: bool = False

    @property
    def name(self) -> str:
        return f"{self.server}.{self.tool}"


@dataclass(frozen=True, slots=True)
class PiiHit:
    """One PII finding: its kind and where (JSON path, character span within that string).

    The raw value is deliberately not kept: hits end up in audit rows.
    """

    kind: PiiKind
    path: str
    start: int = 0
    end: int = 0
    in_key: bool = False


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that decided, with its human message and, for approval rules, the approver group."""

    rule_id: str
    message: str
    approval_group: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer for one call.

    ``effect`` is what the guard must do. ``reasons`` are the rules that decided (forbid rules for a deny,
    approval rules for ``require_approval``, the permit rules for an allow). ``required_group`` is the approver
    group for ``require_approval``. When PII was redacted rather than denied, ``redactions`` lists the hits and
    ``redacted_arguments`` holds the arguments to forward instead of the originals. In ``log_only`` mode the
    effect is always ``allow`` (except engine errors) and ``would_have`` is the enforce-mode decision.
    ``retry_after_s`` is set when a rate limit decided.
    """

    effect: Effect
    reasons: tuple[RuleHit, ...] = ()
    required_group: str | None = None
    tool: str = ""
    mode: Mode = "enforce"
    redactions: tuple[PiiHit, ...] = ()
    redacted_arguments: Mapping[str, Any] | None = None
    would_have: Decision | None = None
    retry_after_s: float | None = None

    @property
    def allowed(self) -> bool:
        return self.effect == ALLOW

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r.rule_id for r in self.reasons)

    def message(self) -> str:
        """All reason messages joined, for an error returned to the caller."""
        return "; ".join(r.message for r in self.reasons)


@dataclass(frozen=True, slots=True)
class ResponseCheck:
    """What may be shown of a tool's answer.

    ``rule_id`` is empty for a clean answer, ``pii.response_redacted`` when ``value`` is a copy with card numbers
    and SSNs masked (``hits`` says where), ``pii.response_unscannable`` when nothing may be shown. In ``log_only``
    mode the caller shows ``original`` and only records what enforcement would have done.
    """

    value: Any
    hits: tuple[PiiHit, ...] = ()
    rule_id: str = ""
    message: str = ""
    mode: Mode = "enforce"
    original: Any = None

    @property
    def shown(self) -> Any:
        """The answer to return: the checked value, or the original in ``log_only`` mode."""
        return self.original if self.mode == "log_only" and self.rule_id else self.value

    @property
    def withheld(self) -> bool:
        """True when nothing of the answer may be shown."""
        return self.rule_id == "pii.response_unscannable" and self.mode == "enforce"
