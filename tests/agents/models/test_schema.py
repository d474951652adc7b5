"""Lean tool schemas: what pydantic emits for a model, minus titles and the null branch of optional fields."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from agents.models import ToolSpec
from agents.models.schema import lean_schema, valid_tool_name


class Money(BaseModel):
    amount: str
    currency: str = Field(min_length=3, max_length=3)


class Args(BaseModel):
    title: str = Field(description="The task's title")  # a property named "title" must survive
    due: str | None = None
    budget: Money | None = Field(default=None, description="Planned budget")
    note: str | None  # required but nullable: the model must be able to send null
    kind: str = Field(default="task", json_schema_extra={"examples": ["task", "milestone"]})


def test_titles_and_optional_null_unions_are_dropped_data_is_kept() -> None:
    raw = Args.model_json_schema()
    lean = lean_schema(raw)
    text = json.dumps(lean)
    assert '"title": "' not in text  # no title keyword anywhere, nested $defs included
    assert set(lean["properties"]) == {"title", "due", "budget", "note", "kind"}
    assert lean["properties"]["title"] == {"description": "The task's title", "type": "string"}
    assert lean["properties"]["due"] == {"type": "string"}  # no anyOf, no default null
    assert lean["properties"]["budget"] == {"$ref": "#/$defs/Money", "description": "Planned budget"}
    assert lean["properties"]["note"]["anyOf"] == [{"type": "string"}, {"type": "null"}]  # required: untouched
    assert lean["properties"]["kind"]["examples"] == ["task", "milestone"] and lean["properties"]["kind"]["default"]
    assert lean["$defs"]["Money"]["properties"]["currency"] == {"maxLength": 3, "minLength": 3, "type": "string"}
    assert lean["required"] == raw["required"]
    assert len(text) < len(json.dumps(raw)) * 0.75
    assert raw["properties"]["due"]["anyOf"]  # the input is not modified


def test_type_list_with_null_and_enum_data_named_title() -> None:
    schema = {
        "type": "object",
        "properties": {
            "mode": {"type": ["string", "null"], "enum": ["title", "body"], "title": "Mode"},
            "meta": {"type": "object", "properties": {"title": {"type": "string", "title": "Title"}}},
        },
    }
    lean = lean_schema(schema)
    assert lean["properties"]["mode"] == {"type": "string", "enum": ["title", "body"]}
    assert lean["properties"]["meta"]["properties"] == {"title": {"type": "string"}}


def test_tool_names_follow_the_api_pattern() -> None:
    assert valid_tool_name("workfront__create_project") and valid_tool_name("a" * 64)
    assert not valid_tool_name("a" * 65) and not valid_tool_name("spine.create") and not valid_tool_name("")
    ToolSpec(name="x" * 64)
    for bad in ("x" * 65, "has space", "dotted.name"):
        try:
            ToolSpec(name=bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
