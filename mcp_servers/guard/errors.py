"""Turn whatever a handler or validator raised into a ``ToolFailure`` a model can act on."""

from __future__ import annotations

import logging
from typing import Any

import pydantic

from connectors.errors import ConnectorError
from mcp_servers.guard.toolkit import ToolFailure
from spine.errors import SpineError

log = logging.getLogger("mcc.guard")


def _problem(err: Any, model: type[pydantic.BaseModel]) -> tuple[str, str, str]:
    """(field, message, fix) of one pydantic error; unknown arguments list the valid ones."""
    field = ".".join(str(p) for p in err["loc"]) or "arguments"
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


def from_exception(exc: BaseException, tool: str) -> ToolFailure:
    """Typed domain errors keep their field and fix; anything else is an internal error with no details."""
    if isinstance(exc, ToolFailure):
        return exc
    if isinstance(exc, pydantic.ValidationError):
        return from_validation(exc, pydantic.BaseModel)
    if isinstance(exc, SpineError):
        return ToolFailure(exc.message, field=exc.field, fix=exc.fix or None, code=exc.code)
    if isinstance(exc, ConnectorError):  # every external system's errors, by kind: no system is named here
        return ToolFailure(exc.message, field=exc.field, fix=exc.fix, code=exc.code)
    log.exception("tool %s failed unexpectedly", tool)
    return ToolFailure(
        "internal error; nothing was changed by this call",
        code="internal",
        fix="retry later or report it with the time of the call",
    )
