"""Tool definitions: each tool is a strict pydantic input model, an output model and a handler.

A handler is ``async def`` when it awaits network calls; a handler that only does blocking work (database reads
and writes) is a plain ``def``, which the guard runs in a worker thread so it never blocks the event loop.

Registration on an ``MCPServer`` lives in ``mcp_servers.guard.sdk_adapter``, the one module that touches the SDK's
internals.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Protocol

from mcp.server.mcpserver import Context
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from policies.ratelimit import format_retry, retry_seconds
from spine.text_policy import MULTILINE, check_text

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# A canonical spine id, as every server's tools take it.
Uuid = Annotated[str, Field(min_length=36, max_length=36, pattern=UUID_PATTERN)]
MultilineText = Annotated[str, MULTILINE]  # free text that may hold newlines and tabs (descriptions, notes)


class ToolInput(BaseModel):
    """Base of every tool's arguments: unknown fields are rejected, strings are stripped and bounded, and every
    string (recursively, dict keys too) obeys the text policy of ``spine.text_policy``: no control characters,
    escape sequences or bidi overrides, no invisible-only text; newlines only in fields marked ``MULTILINE``
    (``MultilineText``) or named in ``multiline_fields``. A refusal is ``invalid`` and names the field path.

    Control arguments (``control_fields``: the approval presented, the idempotency key) steer how a call runs but
    are not part of what it does; only the tools that need one carry it (``ApprovableInput``, ``CreateInput``).
    ``business_arguments`` is the call without them: what the policy decides on, what an approval fingerprints
    and what a handler acts on.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, str_max_length=20_000)
    control_fields: ClassVar[frozenset[str]] = frozenset()
    multiline_fields: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _text_policy(self) -> ToolInput:
        check_text(self)
        return self

    def business_arguments(self, *, mode: Literal["json", "python"] = "json", **dump: Any) -> dict[str, Any]:
        """The call's own arguments, without control arguments (``None`` values dropped unless ``dump`` says
        otherwise, e.g. ``exclude_unset=True``)."""
        dump.setdefault("exclude_none", True)
        exclude = set(self.control_fields) | set(dump.pop("exclude", ()))
        return self.model_dump(mode=mode, exclude=exclude, **dump)

    def control_arguments(self) -> dict[str, Any]:
        """The control arguments that were given (name -> value)."""
        return {k: v for k in sorted(self.control_fields) if (v := getattr(self, k, None)) is not None}

    def control(self, name: str) -> str | None:
        """One control argument's value, or None when not given (or not a control argument of this tool)."""
        return self.control_arguments().get(name)


class ApprovableInput(ToolInput):
    """Arguments of a tool a policy can hold for approval (its catalog spec sets money): carries ``approval_id``."""

    control_fields: ClassVar[frozenset[str]] = frozenset({"approval_id"})

    approval_id: str | None = Field(
        default=None,
        min_length=36,
        max_length=36,
        pattern=UUID_PATTERN,
        description="Only to re-send an approved call: the approval_id of its approval_required answer.",
    )


class CreateInput(ToolInput):
    """Arguments of a tool that creates something: carries an idempotency key."""

    control_fields: ClassVar[frozenset[str]] = frozenset({"idempotency_key"})

    idempotency_key: str | None = Field(
        default=None,
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description=(
            "Makes a retry safe: the same key and arguments return the first result; default derived from them."
        ),
    )


class ApprovableCreateInput(ApprovableInput, CreateInput):
    """Arguments of a create a policy can hold for approval: both control arguments."""

    control_fields: ClassVar[frozenset[str]] = frozenset({"approval_id", "idempotency_key"})


class ApprovalRequired(BaseModel):
    """The structured, non-error answer to a call that waits for a human approval."""

    status: Literal["approval_required"] = "approval_required"
    approval_id: str
    required_group: str
    expires_at: AwareDatetime
    reason: str
    rule_ids: list[str] = Field(default_factory=list)
    next_step: str = Field(
        default="Ask a member of required_group to approve it; then re-send the identical call with approval_id.",
    )


class ToolFailure(Exception):
    """A tool error a model can act on: which argument, what is wrong, how to fix it."""

    def __init__(
        self, message: str, *, field: str | None = None, fix: str | None = None, code: str = "invalid",
        retry_after_s: float | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.field = field
        self.fix = fix
        self.code = code
        self.audit_code = code  # what the audit row records when the caller is told less (e.g. tenant.cross)
        # set on rate limits: seconds until a retry can succeed, as every message states it (0.1 s steps, up)
        self.retry_after_s = retry_seconds(retry_after_s) if retry_after_s is not None else None

    def render(self) -> str:
        """The text the caller sees: ``[code] field: message. Fix: ... retry_after_s=0.3``."""
        text = str(self)
        head = f"{self.field}: {text}" if self.field and not text.startswith(f"{self.field}:") else text
        tail = f" retry_after_s={format_retry(self.retry_after_s)}" if self.retry_after_s is not None else ""
        return f"[{self.code}] {head}" + (f" Fix: {self.fix}" if self.fix else "") + tail


@dataclass(frozen=True, slots=True)
class ToolDef:
    """One tool: name, strict input, output, handler and honest annotations (hints, never security)."""

    name: str
    input_model: type[ToolInput]
    output_model: type[BaseModel]
    handler: Callable[[Any, Any], Awaitable[BaseModel]] | Callable[[Any, Any], BaseModel]
    read_only: bool
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = False
    title: str | None = None

    @property
    def description(self) -> str:
        """The handler's docstring: what the model reads, so it states units, id formats and side effects."""
        return inspect.cleandoc(self.handler.__doc__ or "").strip()


class Dispatcher(Protocol):
    """What runs a call: the guard in production."""

    async def dispatch(self, tool: ToolDef, raw_arguments: dict[str, Any], ctx: Context) -> BaseModel: ...
