"""Turn whatever a handler or validator raised into a ``ToolFailure`` a model can act on."""

from __future__ import annotations

import logging

import pydantic

from connectors.errors import ConnectorError
from mcp_servers.guard.toolkit import ToolFailure
from spine.errors import SpineError

log = logging.getLogger("mcc.guard")


def from_validation(exc: pydantic.ValidationError, model: type[pydantic.BaseModel]) -> ToolFailure:
    """The first validation error, naming the argument; unknown arguments list the valid ones."""
    err = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(p) for p in err["loc"]) or "arguments"
    if err["type"] == "extra_forbidden":
        valid = ", ".join(sorted(model.model_fields))
        return ToolFailure("unknown argument", field=field, fix=f"remove it; valid arguments are: {valid}")
    if err["type"] == "missing":
        return ToolFailure("required argument missing", field=field, fix="pass it")
    more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    return ToolFailure(err["msg"] + more, field=field, fix="correct the value and call again")


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
