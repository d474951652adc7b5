"""Turn whatever a handler or validator raised into a ``ToolFailure`` a model can act on.

Tenant rule: an id of another tenant is answered exactly like an id that does not exist (same code, message
shape and field), whether the guard's cross-tenant rule caught it or a repository did; only the audit row
(``audit_code``) keeps the real reason. Otherwise the error would confirm that the guessed id exists elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pydantic

from connectors.errors import ConnectorError, RateLimitedError
from mcp_servers.guard.toolkit import ToolFailure
from policies.model import Decision
from policies.ratelimit import format_retry
from spine.errors import NotFoundError, SpineError, TenantIsolationError

NOT_FOUND_FIX = "search for the object first to get its ID"

log = logging.getLogger("mcc.guard")


def _problem(err: Any, model: type[pydantic.BaseModel]) -> tuple[str, str, str]:
    """(field, message, fix) of one pydantic error; unknown arguments list the valid ones."""
    field = ".".join(str(p) for p in err["loc"]) or "arguments"
    ctx = err.get("ctx") or {}
    if err["type"] == "text_policy":  # the text policy names the path inside the argument itself
        field = ".".join(str(p) for p in [*err["loc"], ctx["field"]])
        return field, str(ctx["problem"]), str(ctx["fix"])
    if err["type"] == "extra_forbidden":
        return field, "unknown argument", f"remove it; valid arguments are: {', '.join(sorted(model.model_fields))}"
    if err["type"] == "missing":
        return field, "required argument missing", "pass it"
    return field, str(err["msg"]), "correct the value and call again"


def from_validation(exc: pydantic.ValidationError, model: type[pydantic.BaseModel]) -> ToolFailure:
    """Every validation error, each naming its argument (the first one is the failure's field)."""
    problems = [_problem(e, model) for e in exc.errors(include_url=False, include_input=False)]
    field, message, fix = problems[0]
    if len(problems) == 1:
        return ToolFailure(message, field=field, fix=fix)
    listed = "; ".join(f"{f}: {m}" for f, m, _ in problems)
    fixes = "; ".join(dict.fromkeys(f"{f}: {x}" for f, _, x in problems))
    return ToolFailure(f"{len(problems)} problems: {listed}", field=field, fix=fixes)


def not_found(field: str | None, arguments: Mapping[str, Any]) -> ToolFailure:
    """The one answer to an external id that names nothing the caller may see (unknown or another tenant's)."""
    value = arguments.get(field) if field else None
    if field == "campaign_id" and isinstance(value, str):  # the spine's own not_found, as its repositories say it
        spine = NotFoundError("campaign", value)
        return ToolFailure(spine.message, field=spine.field, fix=spine.fix, code=spine.code)
    what = f"ID {value!r}" if isinstance(value, str) else "that ID"
    return ToolFailure(f"no object with {what} exists", field=field, fix=NOT_FOUND_FIX, code="not_found")


def from_decision(decision: Decision, arguments: Mapping[str, Any], foreign_field: str | None) -> ToolFailure:
    """A denial as the caller sees it; a cross-tenant denial looks exactly like ``not_found`` of an unknown id."""
    if "tenant.cross" in decision.rule_ids:
        failure = not_found(foreign_field, arguments)
        failure.audit_code = "tenant.cross"
        return failure
    return ToolFailure(decision.message(), code="denied", fix=deny_fix(decision), retry_after_s=decision.retry_after_s)


def deny_fix(decision: Decision) -> str:
    """How to get past a denial, by the rules that decided it."""
    ids = set(decision.rule_ids)
    if ids & {"role.readonly_no_write", "default.deny"}:
        return "this principal may not make this call; ask someone in a group that may"
    if any(i.startswith("authority.") for i in ids):
        return "change the field in the system that owns it"
    if "ratelimit.exceeded" in ids:
        return f"retry in {format_retry(decision.retry_after_s or 60)} s"
    if ids & {"pii.external_arguments", "pii.stored_arguments"}:
        return "remove personal data (emails, phone numbers, card numbers, SSNs) from the arguments"
    return "do not retry this call unchanged"


def first_id_argument(arguments: Mapping[str, Any]) -> str | None:
    """The first argument whose name says it holds an id (the field a not_found names when nothing better is known)."""
    return next((k for k in arguments if k.endswith(("_id", "_gid", "_ids", "_gids"))), None)


def from_exception(exc: BaseException, tool: str, arguments: Mapping[str, Any] | None = None) -> ToolFailure:
    """Typed domain errors keep their field and fix; anything else is an internal error with no details.

    ``arguments`` (the validated call) lets a connector's not_found use the one not_found shape."""
    if isinstance(exc, ToolFailure):
        named = arguments is not None and isinstance(arguments.get(exc.field or ""), str)
        return not_found(exc.field, arguments) if exc.code == "not_found" and named else exc  # type: ignore[arg-type]
    if isinstance(exc, pydantic.ValidationError):
        return from_validation(exc, pydantic.BaseModel)
    if isinstance(exc, TenantIsolationError):  # another tenant's id: answered as an unknown one
        spine = NotFoundError(exc.entity, str(exc.entity_id), exc.id_field)
        failure = ToolFailure(spine.message, field=spine.field, fix=spine.fix, code=spine.code)
        failure.audit_code = exc.code
        return failure
    if isinstance(exc, ConnectorError) and exc.code == "not_found" and arguments is not None:
        return not_found(exc.field, arguments)
    if isinstance(exc, SpineError):
        return ToolFailure(exc.message, field=exc.field, fix=exc.fix or None, code=exc.code)
    if isinstance(exc, ConnectorError):  # every external system's errors, by kind: no system is named here
        retry = exc.retry_after if isinstance(exc, RateLimitedError) else None
        return ToolFailure(exc.message, field=exc.field, fix=exc.fix, code=exc.code, retry_after_s=retry)
    log.exception("tool %s failed unexpectedly", tool)
    return ToolFailure(
        "internal error; nothing was changed by this call",
        code="internal",
        fix="retry later or report it with the time of the call",
    )
