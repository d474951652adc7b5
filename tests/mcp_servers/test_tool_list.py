"""The tool list every client puts into a model's context: what it costs, and that every argument says what it
takes. Control arguments appear only where they can matter: ``approval_id`` on the tools a policy can hold for
approval (the catalog says they set money), ``idempotency_key`` on creates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from mcc.settings import load_settings
from mcc.wiring import SERVER_NAMES, open_app
from mcp_servers.guard.identity import FixedPrincipal
from mcp_servers.guard.sdk_adapter import served_tool
from mcp_servers.guard.toolkit import ApprovableInput, CreateInput
from policies.catalog import DEFAULT_CATALOG
from policies.model import Principal

# Characters of name + description + input schema (json.dumps), a little above the figures measured when they were
# set (spine 28,659, workfront 17,018, asana 16,187, knowledge 3,841: 65,705, ~16k tokens at 4 characters a token;
# 85,041 before approval_id and idempotency_key went only where they apply). Workfront and Asana keep room for one
# small read tool (people look-ups are being added). Raise a budget only for a tool that earns it: the spine's
# start_campaign_setup (campaign fields + the workflow's steps, 3,874) raised spine and total by 4,000.
SERVER_BUDGETS = {"spine": 33_200, "workfront": 19_000, "asana": 18_500, "knowledge": 4_000}  # people tools included
TOTAL_BUDGET = 74_500
TOOL_BUDGET = 4_600  # the largest single tool: create_project (custom fields, money rules) at 4,443


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    """Every server's published tools and the ToolDef behind each: (server, tool, ToolDef)."""
    home: Path = tmp_path_factory.mktemp("home")
    nobody = FixedPrincipal(Principal(user_id="-", tenant_id="-", groups=frozenset()))
    out: dict[str, list[Any]] = {}
    with open_app(load_settings(home=home)) as app:
        for name in SERVER_NAMES:
            server = app.server(name, nobody)
            out[name] = [(t, served_tool(server, t.name)) for t in anyio.run(server.list_tools)]
    return out


def _size(tool: Any) -> int:
    return len(json.dumps({"name": tool.name, "description": tool.description, "inputSchema": tool.input_schema}))


def test_the_tool_list_stays_within_its_budget(served: dict[str, list[Any]]) -> None:
    sizes = {name: {t.name: _size(t) for t, _ in tools} for name, tools in served.items()}
    over = [f"{s}.{t}: {n}" for s, tools in sizes.items() for t, n in tools.items() if n > TOOL_BUDGET]
    assert over == [], f"tools over {TOOL_BUDGET} characters"
    for name, tools in sizes.items():
        assert sum(tools.values()) <= SERVER_BUDGETS[name], (name, sum(tools.values()))
    assert sum(sum(t.values()) for t in sizes.values()) <= TOTAL_BUDGET


def test_approval_id_is_on_exactly_the_tools_whose_catalog_spec_sets_money(served: dict[str, list[Any]]) -> None:
    for server, tools in served.items():
        for tool, defn in tools:
            spec = DEFAULT_CATALOG.get(server, tool.name)
            assert spec is not None, f"{server}.{tool.name} is not in the catalog"
            sets_money = any(row.form != "none" for row in spec.money)
            assert issubclass(defn.input_model, ApprovableInput) == sets_money, spec.name
            assert ("approval_id" in defn.input_model.control_fields) == sets_money, spec.name
    held = {
        f"{s}.{t.name}"
        for s, tools in served.items()
        for t, d in tools
        if "approval_id" in d.input_model.control_fields
    }
    assert held == {"workfront.create_project", "spine.create_campaign", "spine.update_campaign",
                    "spine.start_campaign_setup"}  # fmt: skip


def test_idempotency_keys_are_only_on_creates(served: dict[str, list[Any]]) -> None:
    for server, tools in served.items():
        for tool, defn in tools:
            keyed = "idempotency_key" in tool.input_schema["properties"]
            assert keyed == issubclass(defn.input_model, CreateInput), f"{server}.{tool.name}"
            if keyed:
                assert not defn.read_only and tool.name.split("_")[0] in {"create", "add", "draft", "start"}, tool.name


def _strings(schema: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(schema, dict):
        if schema.get("type") == "string":
            yield path, schema
        for key, value in schema.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for i, item in enumerate(schema):
            yield from _strings(item, f"{path}[{i}]")


def test_ids_have_their_real_length_and_pattern(served: dict[str, list[Any]]) -> None:
    loose = []
    for server, tools in served.items():
        for tool, _ in tools:
            for path, schema in _strings(tool.input_schema):
                name = path.split(".properties.")[-1].split(".")[0]
                # directory ids (users, teams) are names like maya.chen: bounded, not patterned
                if (
                    name.endswith(("_id", "_gid", "_ids"))
                    and "pattern" not in schema
                    and schema.get("maxLength", 0) > 200
                ):
                    loose.append(f"{server}.{tool.name}{path}: neither a pattern nor a short bound")
                if schema.get("maxLength", 0) > 100_000 or schema.get("maxLength") == 20_000:
                    loose.append(f"{server}.{tool.name}{path}: maxLength {schema.get('maxLength')}")
    assert loose == [], "\n".join(loose)


def test_custom_field_values_are_typed_and_money_is_never_a_float(served: dict[str, list[Any]]) -> None:
    create = next(t for t, _ in served["workfront"] if t.name == "create_project").input_schema
    fields = create["properties"]["custom_fields"]["anyOf"][0]
    assert fields["additionalProperties"] is False and list(fields["patternProperties"]) == ["^DE:.{1,100}$"]
    kinds = {branch.get("type") for branch in fields["patternProperties"]["^DE:.{1,100}$"]["anyOf"]}
    assert kinds == {"string", "number", "boolean", "null", "array"}
    amount = create["$defs"]["Money"]["properties"]["amount"]
    assert {b["type"] for b in amount["anyOf"]} == {"string", "integer"} and "never a float" in amount["description"]


def _open_values(schema: Any, path: str = "") -> Iterator[str]:
    if isinstance(schema, dict):
        if schema.get("additionalProperties") is True or (schema.get("type") == "object" and not any(
                k in schema for k in ("properties", "additionalProperties", "patternProperties"))):  # fmt: skip
            yield path
        for key, value in schema.items():
            yield from _open_values(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for i, item in enumerate(schema):
            yield from _open_values(item, f"{path}[{i}]")


def test_every_object_says_what_its_values_are(served: dict[str, list[Any]]) -> None:
    untyped = [
        f"{s}.{t.name}{p}" for s, tools in served.items() for t, _ in tools for p in _open_values(t.input_schema)
    ]
    # draft_strategy's attachments are free-form file references the spine stores as given (they set no money)
    assert untyped == ["spine.draft_strategy.$defs.StrategyContent.properties.attachments.items"]
