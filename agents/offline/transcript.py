"""Reading an agent's conversation back: the request, every tool call and its outcome, and deterministic replay.

The offline model keeps no state between calls. A planner is straight-line code that asks ``PlanContext.call``
for each tool result it needs; when that exact call is already in the transcript its recorded outcome is
returned, otherwise ``NeedCalls`` stops the planner and the model answers with that tool_use. Re-running the
planner on the longer transcript continues where it stopped, and a call is never sent twice: a rejected call's
recorded "REJECTED:" outcome is what the planner sees on every later run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import jsonschema

from agents.models.base import Message, TextBlock, ToolResultBlock, ToolSpec, ToolUseBlock
from agents.protocol import CONTROL_ARGUMENTS, REJECTED_PREFIX

MAX_CALLS = 16  # a planner that needs more calls than this is stopped with an explanation
ConfirmWrites = Literal["always", "ambiguous", "never"]


@dataclass(frozen=True, slots=True)
class WorkRouting:
    """The one rule for where a campaign type's work runs: ``by_type`` overrides, else ``default``.

    The default is the playbook's "Which work goes where": events in Asana, standard campaigns, product launches
    and everything else (partner work included) in Workfront."""

    by_type: tuple[tuple[str, str], ...] = (("event", "asana"),)
    default: str = "workfront"

    @classmethod
    def of(cls, mapping: dict[str, str] | None, default: str = "workfront") -> WorkRouting:
        """From a settings mapping such as ``{"event": "asana"}`` (systems: workfront or asana)."""
        for kind, system in (mapping or {}).items():
            if system not in ("workfront", "asana"):
                raise ValueError(f"work routing for {kind!r}: {system!r} is not workfront or asana")
        if default not in ("workfront", "asana"):
            raise ValueError(f"work routing default: {default!r} is not workfront or asana")
        return cls(tuple(sorted((mapping if mapping is not None else {"event": "asana"}).items())), default)

    def system_for(self, campaign_type: str | None) -> str:
        """'workfront' or 'asana' for a campaign type."""
        return dict(self.by_type).get(str(campaign_type or ""), self.default)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a tool call returned: parsed JSON ``data`` on success, else the error text (``rejected`` when a human
    rejected the approval)."""

    ok: bool
    data: Any = None
    text: str = ""
    rejected: bool = False

    @property
    def error(self) -> str:
        """The error text without the rejection prefix."""
        return self.text.removeprefix(REJECTED_PREFIX).strip() if self.rejected else self.text


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    input: dict[str, Any]


def call_key(name: str, args: dict[str, Any]) -> str:
    """Identity of a call: tool name plus canonical JSON of its arguments without control fields."""
    clean = {k: v for k, v in args.items() if k not in CONTROL_ARGUMENTS and v is not None}
    return name + " " + json.dumps(clean, sort_keys=True, default=str)


def _text_of(content: str | list[TextBlock]) -> str:
    return content if isinstance(content, str) else "".join(b.text for b in content)


def parse_result(block: ToolResultBlock) -> Outcome:
    """A tool_result block as an Outcome; JSON content is parsed (a ``{"result": ...}`` wrapper is unwrapped)."""
    text = _text_of(block.content)
    if block.is_error:
        return Outcome(False, None, text, rejected=text.lstrip().startswith(REJECTED_PREFIX))
    try:
        data = json.loads(text)
    except ValueError:
        return Outcome(True, None, text)
    if isinstance(data, dict) and set(data) == {"result"}:
        data = data["result"]
    return Outcome(True, data, text)


@dataclass
class Transcript:
    """The first user text of an agent's conversation and its tool calls with outcomes, in order."""

    request: str
    calls: list[tuple[Call, Outcome | None]] = field(default_factory=list)

    @classmethod
    def of(cls, messages: list[Message]) -> Transcript:
        request = ""
        pending: dict[str, Call] = {}
        order: list[str] = []
        outcomes: dict[str, Outcome] = {}
        for message in messages:
            for block in message.blocks:
                if isinstance(block, TextBlock) and message.role == "user" and not request:
                    request = block.text
                elif isinstance(block, ToolUseBlock):
                    pending[block.id] = Call(block.name, dict(block.input))
                    order.append(block.id)
                elif isinstance(block, ToolResultBlock):
                    outcomes[block.tool_use_id] = parse_result(block)
        return cls(request.strip(), [(pending[i], outcomes.get(i)) for i in order])

    def lookup(self, name: str, args: dict[str, Any]) -> Outcome | None:
        """The recorded outcome of this exact call (ignoring control fields), or None when it was never made."""
        key = call_key(name, args)
        for call, outcome in self.calls:
            if outcome is not None and call_key(call.name, call.input) == key:
                return outcome
        return None


class NeedCalls(Exception):
    """Raised inside a planner: these calls must run before it can go on."""

    def __init__(self, calls: list[Call]) -> None:
        super().__init__(", ".join(c.name for c in calls))
        self.calls = calls


class InvalidCall(Exception):
    """The planner built arguments that do not validate against the tool's schema (a bug, reported plainly)."""


@dataclass
class PlanContext:
    """Everything a planner may use: the request, who asks, today, the offered tools and the transcript."""

    request: str
    today: dt.date
    user: dict[str, Any]
    tools: dict[str, ToolSpec]
    transcript: Transcript
    memory: dict[str, Any] = field(default_factory=dict)  # facts one sub-plan leaves for the next ("it")
    confirm_writes: ConfirmWrites = "ambiguous"
    routing: WorkRouting = field(default_factory=WorkRouting)
    conversation: dict[str, Any] = field(default_factory=dict)  # the thread's state (focus, waiting approvals)

    @property
    def user_id(self) -> str:
        return str(self.user.get("user_id") or "")

    @property
    def groups(self) -> set[str]:
        return set(self.user.get("groups") or [])

    @property
    def readonly(self) -> bool:
        return "readonly-users" in self.groups

    def has(self, *names: str) -> bool:
        """Whether every named tool is offered to this agent for this user."""
        return all(n in self.tools for n in names)

    def call(self, tool: str, /, **args: Any) -> Outcome:
        """The outcome of ``tool(**args)``: replayed from the transcript, or NeedCalls to make it now."""
        return self.call_all([(tool, args)])[0]

    def call_all(self, calls: list[tuple[str, dict[str, Any]]]) -> list[Outcome]:
        """Outcomes of independent calls; every missing one is requested at once (they run in one step)."""
        args_list = [(name, {k: v for k, v in args.items() if v is not None}) for name, args in calls]
        found = [self.transcript.lookup(name, args) for name, args in args_list]
        missing = [Call(name, args) for (name, args), got in zip(args_list, found, strict=True) if got is None]
        if missing:
            for c in missing:
                self._validate(c)
            raise NeedCalls(missing)
        return [o for o in found if o is not None]

    def _validate(self, c: Call) -> None:
        spec = self.tools.get(c.name)
        if spec is None:
            raise InvalidCall(f"tool {c.name} is not offered to this agent")
        try:
            jsonschema.validate(c.input, spec.input_schema)
        except jsonschema.ValidationError as exc:
            where = ".".join(str(p) for p in exc.absolute_path) or "(arguments)"
            raise InvalidCall(f"{c.name} {where}: {exc.message}") from None
        except jsonschema.SchemaError:
            return  # a schema we cannot read is the server's to enforce


def tool_use_id(position: int, c: Call, scope: str = "") -> str:
    """A deterministic tool_use id, unique within ``scope`` (thread and request) by the call's position."""
    digest = hashlib.sha256(f"{scope}|{position}|{call_key(c.name, c.input)}".encode()).hexdigest()[:24]
    return f"toolu_off_{digest}"
