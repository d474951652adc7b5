"""Lean JSON Schemas for a model: pydantic's ``title`` keys and ``anyOf [.., null]`` of optional fields removed.

A model reads every character of every tool schema on every step; titles repeat the property names and the null
branch of an optional field says nothing a model needs (it omits the field instead). Data inside a schema
(``enum``, ``const``, ``default``, ``examples``) is never touched, and neither is a property that is named ``title``.
"""

from __future__ import annotations

import re
from typing import Any, Final

TOOL_NAME_PATTERN: Final = r"^[a-zA-Z0-9_-]{1,64}$"  # the Messages API's rule for tool names
_TOOL_NAME_RE: Final = re.compile(TOOL_NAME_PATTERN)

_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties", "dependentSchemas")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else")
_NULL: Final = {"type": "null"}


def valid_tool_name(name: str) -> bool:
    """Whether the Messages API accepts ``name`` as a tool name."""
    return bool(_TOOL_NAME_RE.fullmatch(name))


def lean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` without title keywords, and with optional fields' null unions and null defaults dropped."""
    return _lean(schema)


def _lean(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _lean(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_lean(sub) for sub in value]
        elif key in _SCHEMA_ONE and isinstance(value, dict):
            out[key] = _lean(value)
        else:
            out[key] = value
    properties = out.get("properties")
    if isinstance(properties, dict):
        required = set(out.get("required") or [])
        out["properties"] = {name: sub if name in required else _without_null(sub) for name, sub in properties.items()}
    return out


def _without_null(schema: Any) -> Any:
    """An optional field's schema without its null alternative (the model omits the field instead)."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if "default" in out and out["default"] is None:
        del out["default"]
    branches = out.get("anyOf")
    if isinstance(branches, list) and _NULL in branches:
        rest = [b for b in branches if b != _NULL]
        del out["anyOf"]
        if len(rest) == 1 and isinstance(rest[0], dict):
            return {**rest[0], **out}
        if rest:
            out["anyOf"] = rest
        return out
    kinds = out.get("type")
    if isinstance(kinds, list) and "null" in kinds:
        rest_kinds = [k for k in kinds if k != "null"]
        if len(rest_kinds) == 1:
            out["type"] = rest_kinds[0]
        elif rest_kinds:
            out["type"] = rest_kinds
        else:
            del out["type"]
    return out
