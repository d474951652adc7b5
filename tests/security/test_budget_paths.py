"""Attack: a budget written through another field (a Workfront custom field, a nested change) must still meet the
budget rules; and every write tool's money-like argument must be in its tool's money table (schema walk)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from pydantic import BaseModel
from typer.testing import CliRunner

from mcc.cli import app as cli
from mcc.settings import load_settings
from mcc.wiring import SERVER_NAMES, App, open_app
from mcp_servers.guard.identity import FixedPrincipal
from mcp_servers.workfront.project_tools import CreateProjectArgs
from policies.catalog import DEFAULT_CATALOG
from policies.engine import WRITE_KINDS
from policies.model import ToolSpec
from policies.money import ANY, MoneyArg, is_money_name
from spine.demo import load_demo
from spine.repositories import open_store
from spine.schemas import Money
from tests.security.conftest import audit_rows, call

MONEY_IN_CUSTOM_FIELD = {"DE:Budget": "900000", "DE:Budget Currency": "USD"}


async def projects(app: App, name: str) -> int:
    page = await app.workfront_backend("acme").search("PROJ", {"name": name}, limit=500)
    return len(page.items)


async def test_budget_in_a_custom_field_needs_vp_approval_and_creates_nothing(app: App) -> None:
    args = {"name": "Side door launch", "custom_fields": MONEY_IN_CUSTOM_FIELD}
    ok, answer = await call(app, "maya.chen", "workfront", "create_project", args)
    assert ok and answer["status"] == "approval_required" and answer["required_group"] == "vp"
    assert "900,000.00 USD" in answer["reason"]
    assert await projects(app, "Side door launch") == 0
    assert [r.decision for r in audit_rows(app, "create_project")][-1] == "require_approval"


# (custom fields, approver group the call must wait for)
SEEN: list[tuple[dict[str, Any], str]] = [
    ({"DE:Media Spend": "$900,000"}, "vp"),  # another money name, currency in the value
    ({"DE:Notes": "EUR 42.000,50"}, "marketing-leadership"),  # no money name: the value carries a currency
    ({"DE:MediaBudget": 20000, "DE:Currency": "EUR"}, "marketing-leadership"),  # glued name, number, currency
    ({"DE:Budget": ["6000 USD", "6000 USD"]}, "marketing-leadership"),  # items of one field add up
    ({"DE:Budget": "９００，０００ USD"}, "vp"),  # fullwidth digits and comma
    ({"DE:Total Cost": "1.2m USD", "DE:Budget": "5000 USD"}, "vp"),  # the largest amount decides
]
# (custom fields, what the refusal says): money that cannot be read is refused, never ignored
UNREADABLE: list[tuple[dict[str, Any], str]] = [
    ({"DE:Budget": "900000"}, "no currency"),
    ({"DE:Budget": "TBD", "DE:Budget Currency": "USD"}, "not an amount"),
    ({"DE:Budget": "¥900000"}, "ambiguous"),
    ({"DE:Budget": "900000", "DE:Budget Currency": "dollars"}, "ISO 4217"),
]


async def test_money_in_any_custom_field_is_seen_and_unreadable_money_fails_closed(app: App) -> None:
    for fields, group in SEEN:
        args = {"name": "Quiet money", "custom_fields": fields}
        ok, answer = await call(app, "maya.chen", "workfront", "create_project", args)
        assert ok and answer["status"] == "approval_required" and answer["required_group"] == group, fields
    for fields, problem in UNREADABLE:
        args = {"name": "Quiet money", "custom_fields": fields}
        ok, text = await call(app, "dana.reyes", "workfront", "create_project", args)
        assert not ok and "[denied]" in text and problem in text and "custom_fields['DE:Budget" in text, fields
    assert await projects(app, "Quiet money") == 0


async def test_fields_that_only_describe_money_are_not_amounts(app: App) -> None:
    fields = {"DE:Cost Center": "4410", "DE:Budget Owner": "Dana Reyes", "DE:Launch": "Sep 2027"}
    ok, created = await call(app, "maya.chen", "workfront", "create_project", {"name": "Plain fields",
                                                                               "custom_fields": fields})  # fmt: skip
    assert ok and created["project"]["custom_fields"]["DE:Cost Center"] == "4410"


async def test_budget_in_nested_changes_needs_approval_and_a_bare_number_is_refused(app: App) -> None:
    with open_store(app.sessions, "acme") as store:
        camp = next(c for c in store.campaigns.list(limit=100) if c.owner_id == "maya.chen")
    base = {"campaign_id": camp.id, "expected_version": camp.version}
    big = {**base, "changes": {"budget_planned": {"amount": "900000", "currency": "USD"}}}
    ok, answer = await call(app, "maya.chen", "spine", "update_campaign", big)
    assert ok and answer["status"] == "approval_required" and answer["required_group"] == "vp"
    ok, text = await call(app, "maya.chen", "spine", "update_campaign", {**base, "changes": {"budget_planned": 900000}})
    assert not ok and "budget_planned has no currency" in text
    with open_store(app.sessions, "acme") as store:
        assert store.campaigns.get(camp.id).version == camp.version


# ------------------------------------------------------------------ mcc policy check sees the same money
@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("MCC_DATABASE_URL", "MCC_POLICY_MODE", "MCC_USER", "MCC_TENANT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MCC_HOME", str(tmp_path))
    with open_app(load_settings()) as world:
        load_demo(world.sessions)
    return tmp_path


def test_policy_check_says_approval_for_a_budget_in_a_custom_field(home: Path) -> None:
    args = json.dumps({"name": "Side door launch", "custom_fields": MONEY_IN_CUSTOM_FIELD})
    result = CliRunner().invoke(cli, ["policy", "check", "workfront.create_project", args, "--as", "maya.chen",
                                      "--json"])  # fmt: skip
    assert result.exit_code == 10, result.output
    decision = json.loads(result.output)
    assert decision["effect"] == "require_approval" and decision["required_group"] == "vp"


# ------------------------------------------------------------------ the schema walk
def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.removeprefix("#/$defs/")
        return defs[name], name
    return schema, None


def money_like(schema: dict[str, Any], defs: dict[str, Any], path: tuple[str, ...] = (),
               seen: frozenset[str] = frozenset()) -> Iterator[tuple[tuple[str, ...], str]]:  # fmt: skip
    """(path, why) of every property that looks like money, and of every object whose keys are free."""
    schema, ref = _resolve(schema, defs)
    if ref is not None:
        if ref in seen:
            return  # a recursive model (strategy subsections) was walked once on this path
        seen = seen | {ref}
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []):
            yield from money_like(branch, defs, path, seen)
    props: dict[str, Any] = schema.get("properties", {})
    if {"amount", "currency"} <= set(props):
        yield path, "an {amount, currency} object"
    for name, sub in props.items():
        if is_money_name(name):
            yield (*path, name), f"its name {name!r} says money"
        yield from money_like(sub, defs, (*path, name), seen)
    extra = schema.get("additionalProperties")
    free = [extra] if extra is True or isinstance(extra, dict) else []
    free += list(schema.get("patternProperties", {}).values())
    if free:
        yield (*path, ANY), "an object whose keys are free"
    for sub in free:
        if isinstance(sub, dict):
            yield from money_like(sub, defs, (*path, ANY), seen)
    if isinstance(schema.get("items"), dict):
        yield from money_like(schema["items"], defs, (*path, ANY), seen)


def _covers(row: MoneyArg, path: tuple[str, ...], why: str) -> bool:
    if row.form == "none" and "free" not in why:
        return False  # "sets no money" may excuse an open object, never a money field
    return len(row.path) <= len(path) and all(r in (p, ANY) for r, p in zip(row.path, path, strict=False))


def unmapped(spec: ToolSpec, schema: dict[str, Any]) -> list[str]:
    """Money-like paths of the schema that the tool's money table does not cover, and rows that match nothing."""
    found = list(money_like(schema, schema.get("$defs", {})))
    missing = [f"{spec.name}: {'.'.join(p)} ({why})" for p, why in found if not any(_covers(r, p, why)
                                                                                    for r in spec.money)]  # fmt: skip
    stale = [f"{spec.name}: table row {'.'.join(r.path)} matches no argument" for r in spec.money
             if not any(len(p) >= len(r.path) and _covers(MoneyArg(r.path), p, "free") for p, _ in found)]  # fmt: skip
    return missing + stale


def _served_schemas(home: Path) -> dict[tuple[str, str], dict[str, Any]]:
    async def go(world: App) -> dict[tuple[str, str], dict[str, Any]]:
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for server in SERVER_NAMES:
            async with Client(world.server(server, FixedPrincipal(world.principal("maya.chen")))) as client:
                for tool in (await client.list_tools()).tools:
                    out[(server, tool.name)] = tool.input_schema
        await world.aclose_backends()
        return out

    with open_app(load_settings(home=home)) as world:
        load_demo(world.sessions)
        return asyncio.run(go(world))


def test_every_money_like_argument_of_every_write_tool_is_in_its_money_table(tmp_path: Path) -> None:
    schemas = _served_schemas(tmp_path)
    writes = []
    problems: list[str] = []
    for (server, tool), schema in sorted(schemas.items()):
        spec = DEFAULT_CATALOG.get(server, tool)
        assert spec is not None, f"{server}.{tool} is served but not in the tool catalog"
        if spec.kind in WRITE_KINDS:
            writes.append(spec.name)
            problems.extend(unmapped(spec, schema))
    assert {"workfront.create_project", "spine.update_campaign", "asana.create_task"} <= set(writes)
    assert problems == [], "map these in policies/catalog.py (policies.money.MoneyArg):\n" + "\n".join(problems)


class _Leaky(BaseModel):
    name: str
    price_table: dict[str, int]
    reserve: Money
    extras: dict[str, Any]
    lines: list[dict[str, str]]


def _paths(flagged: list[str]) -> set[str]:
    return {f.split(": ")[1].split(" (")[0] for f in flagged}


def test_the_schema_walk_flags_what_a_table_forgets() -> None:
    schema = _Leaky.model_json_schema()
    bare = ToolSpec("x", "leaky", "write", "x", "thing", external=False)
    assert _paths(unmapped(bare, schema)) == {"price_table", "price_table.*", "reserve", "reserve.amount", "extras.*",
                                              "lines.*.*"}  # fmt: skip
    mapped = ToolSpec("x", "leaky", "write", "x", "thing", external=False, money=(
        MoneyArg(("price_table",), "fields"), MoneyArg(("reserve",)), MoneyArg(("extras",), "fields"),
        MoneyArg(("lines",), "none", note="labels"),
    ))  # fmt: skip
    assert unmapped(mapped, schema) == []
    excuse = ToolSpec("x", "leaky", "write", "x", "thing", external=False,
                      money=(MoneyArg((), "none", note="everything is fine"),))  # fmt: skip
    assert _paths(unmapped(excuse, schema)) == {"price_table", "reserve", "reserve.amount"}  # never a money field
    stale = ToolSpec("x", "leaky", "write", "x", "thing", external=False, money=(*mapped.money, MoneyArg(("tip",))))
    assert unmapped(stale, schema) == ["x.leaky: table row tip matches no argument"]


def test_the_real_project_tool_without_its_table_is_flagged() -> None:
    real = DEFAULT_CATALOG.get("workfront", "create_project")
    assert real is not None
    stripped = ToolSpec(real.server, real.tool, real.kind, real.system, real.object_type, real.external)
    schema = CreateProjectArgs.model_json_schema()
    assert {"budget", "custom_fields.*"} <= _paths(unmapped(stripped, schema))
    assert unmapped(real, schema) == []
