"""Turning pydantic failures into spine errors that name the field; id-format checks."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel

from spine.errors import ValidationError

WORKFRONT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
ASANA_GID_RE = re.compile(r"^\d{1,20}$")

_FIXES = {
    "enum": "use one of the listed values",
    "literal_error": "use one of the listed values",
    "string_too_short": "make it longer",
    "string_too_long": "shorten it",
    "greater_than": "use a larger value",
    "greater_than_equal": "use a larger value",
    "less_than_equal": "use a smaller value",
    "missing": "provide this field",
    "extra_forbidden": "remove this field (it is not part of the model)",
    "int_type": "send an integer",
    "decimal_parsing": "send a decimal number as a string, e.g. '1500.00'",
}


def check_external_id(system: str | None, external_id: str | None, field: str = "external_id") -> None:
    """Workfront ids are 32-hex GUIDs, Asana gids numeric strings; anything else is a typo."""
    if external_id is None:
        return
    if system == "workfront" and not WORKFRONT_ID_RE.match(external_id):
        raise pydantic_error(field, f"{external_id!r} is not a Workfront id (32 lowercase hex characters)")
    if system == "asana" and not ASANA_GID_RE.match(external_id):
        raise pydantic_error(field, f"{external_id!r} is not an Asana gid (a numeric string)")


class _FieldValueError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def pydantic_error(field: str, message: str) -> ValueError:
    """A ValueError that ``parse`` will report against ``field``."""
    return _FieldValueError(field, message)


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any) -> M:
    """Validate ``data`` into ``model``; the first failure becomes a spine ValidationError naming the field."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise to_spine_error(exc) from None


def to_spine_error(exc: pydantic.ValidationError, prefix: str = "") -> ValidationError:
    """Convert a pydantic error into ``spine.errors.ValidationError`` (field, message, fix)."""
    err = exc.errors()[0]
    ctx = err.get("ctx") or {}
    inner = ctx.get("error")
    loc = [str(p) for p in err["loc"]]
    if isinstance(inner, _FieldValueError):
        loc = [*loc, inner.field] if loc else [inner.field]
        message = str(inner)
    elif err["type"] == "text_policy":  # the text policy names the path inside the model
        loc = [*loc, str(ctx["field"])]
        message = str(ctx["problem"])
    else:
        message = err["msg"].removeprefix("Value error, ")
    field = ".".join(loc) or "input"
    if prefix:
        field = f"{prefix}.{field}"
    fix = str(ctx["fix"]) if err["type"] == "text_policy" else _FIXES.get(err["type"], "correct the value")
    if err["type"] == "enum" and "expected" in ctx:
        fix = f"use one of {ctx['expected']}"
    out = ValidationError(field, message, fix)
    out.errors = exc.errors(include_url=False)  # type: ignore[attr-defined]
    return out
