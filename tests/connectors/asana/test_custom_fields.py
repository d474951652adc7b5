"""MCC's tier and budget as Asana project custom fields, on both backends (sandbox, REST client against the wire
server): found by name or explicit gid, attached to the project when needed, written only when they differ, and a
missing field refused naming the field and the fix."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from connectors.asana.client import AsanaRestClient
from connectors.asana.custom_fields import (
    BUDGET_FIELD,
    GIDS_SETTING,
    TIER_FIELD,
    MissingCustomField,
    sync_mcc_fields,
)
from connectors.asana.errors import Forbidden, InvalidArgument
from connectors.asana.sandbox import AsanaSandbox
from tests.connectors.asana.conftest import TOKEN
from tests.wire.asana_custom_fields import add_custom_field
from tests.wire.asana_server import AsanaWireServer

USD = {"amount": "62000", "currency": "USD"}


@dataclasses.dataclass
class Bare:
    """A workspace without custom fields on one backend, and a way to define some."""

    kind: str
    workspace: str
    tmp: Any
    server: AsanaWireServer | None = None
    backends: list[Any] = dataclasses.field(default_factory=list)

    def define(self, name: str, kind: str, **kw: Any) -> str:
        if self.server is not None:
            return add_custom_field(self.server.state, self.workspace, name, kind, **kw)
        return AsanaSandbox(self.tmp / "asana.db").create_custom_field(self.workspace, name, kind, **kw)

    def backend(self, gids: dict[str, str] | None = None) -> Any:
        if self.server is not None:
            b: Any = AsanaRestClient(self.server.base_url, token=TOKEN, workspace_gid=self.workspace,
                                     backoff_base=0.001, backoff_max=0.01, custom_field_gids=gids)  # fmt: skip
        else:
            b = AsanaSandbox(self.tmp / "asana.db", custom_field_gids=gids)
        self.backends.append(b)
        return b

    def writes(self) -> list[tuple[str, str]]:
        assert self.server is not None
        return [(r["method"], r["path"]) for r in self.server.requests if r["method"] in ("POST", "PUT")]


@pytest.fixture(params=["sandbox", "rest"])
async def bare(request: pytest.FixtureRequest, tmp_path: Any, asana_wire_server: Any) -> AsyncIterator[Bare]:
    if request.param == "rest":
        server: AsanaWireServer = asana_wire_server()
        ws = server.state.add_workspace("Acme")
        server.state.add_user("Alice Adams", "alice@example.com", ws, token=TOKEN)
        world = Bare("rest", ws, tmp_path, server)
    else:
        seed = AsanaSandbox(tmp_path / "asana.db").seed_demo(workspace_name="Acme", mcc_fields=False)
        world = Bare("sandbox", seed.workspace_gid, tmp_path)
    yield world
    for b in world.backends:
        await b.aclose()


async def _values(backend: Any, project: str) -> dict[str, Any]:
    return {e["name"]: e.get("display_value") for e in (await backend.project_fields().project_fields(project)).entries}


async def test_tier_and_budget_are_attached_and_set_once(bare: Bare) -> None:
    bare.define(TIER_FIELD, "number")
    bare.define(BUDGET_FIELD, "number", precision=2, currency_code="USD")
    backend = bare.backend()
    project = (await backend.create_project({"name": "Spring", "workspace": bare.workspace})).gid
    sent = await sync_mcc_fields(backend.project_fields(), project, {"tier": 2, "budget_planned": USD})
    assert sent == {TIER_FIELD: 2, BUDGET_FIELD: 62000.0}
    assert await _values(backend, project) == {TIER_FIELD: "2", BUDGET_FIELD: "62000.00"}
    if bare.server is not None:
        assert sorted(bare.writes()).count(("PUT", f"/api/1.0/projects/{project}")) == 1
        assert bare.writes().count(("POST", f"/api/1.0/projects/{project}/addCustomFieldSetting")) == 2
        before = len(bare.writes())
    # The same values again: nothing written, no field attached twice.
    assert await sync_mcc_fields(backend.project_fields(), project, {"tier": 2, "budget_planned": USD}) == {}
    if bare.server is not None:
        assert len(bare.writes()) == before
    # A changed tier writes the tier only; None clears the budget.
    assert await sync_mcc_fields(backend.project_fields(), project, {"tier": 1, "budget_planned": None}) == {
        TIER_FIELD: 1, BUDGET_FIELD: None}  # fmt: skip
    assert await _values(backend, project) == {TIER_FIELD: "1", BUDGET_FIELD: None}


async def test_text_and_single_select_fields_get_values_of_their_shape(bare: Bare) -> None:
    bare.define(TIER_FIELD, "enum", options=["Tier 1", "Tier 2", "Tier 3"])
    bare.define(BUDGET_FIELD, "text")
    backend = bare.backend()
    project = (await backend.create_project({"name": "Spring", "workspace": bare.workspace})).gid
    await sync_mcc_fields(backend.project_fields(), project, {"tier": 3, "budget_planned": USD})
    assert await _values(backend, project) == {TIER_FIELD: "Tier 3", BUDGET_FIELD: "62000.00 USD"}
    assert await sync_mcc_fields(backend.project_fields(), project, {"tier": 3, "budget_planned": USD}) == {}
    with pytest.raises(InvalidArgument) as no_option:
        await sync_mcc_fields(backend.project_fields(), project, {"tier": 4})
    assert no_option.value.field == TIER_FIELD and "Tier 4" in str(no_option.value)


async def test_a_missing_field_is_named_with_the_fix_and_nothing_is_written(bare: Bare) -> None:
    bare.define(TIER_FIELD, "number")
    backend = bare.backend()
    project = (await backend.create_project({"name": "Spring", "workspace": bare.workspace})).gid
    with pytest.raises(MissingCustomField) as missing:
        await sync_mcc_fields(backend.project_fields(), project, {"tier": 2, "budget_planned": USD})
    err = missing.value
    assert err.field == BUDGET_FIELD and err.code == "not_found" and bare.workspace in str(err)
    assert err.fix is not None and f"named {BUDGET_FIELD!r}" in err.fix and GIDS_SETTING in err.fix
    assert await _values(backend, project) == {}  # the tier, which exists, was not written either


async def test_an_explicit_gid_wins_over_the_name(bare: Bare) -> None:
    bare.define(TIER_FIELD, "number")  # a field of the expected name that must not be used
    chosen = bare.define("Campaign tier (MCC)", "text")
    backend = bare.backend({"tier": chosen})
    project = (await backend.create_project({"name": "Spring", "workspace": bare.workspace})).gid
    assert await sync_mcc_fields(backend.project_fields(), project, {"tier": 2}) == {"Campaign tier (MCC)": "2"}
    assert await _values(backend, project) == {"Campaign tier (MCC)": "2"}


async def test_a_budget_in_another_currency_is_refused(bare: Bare) -> None:
    bare.define(BUDGET_FIELD, "number", precision=2, currency_code="EUR")
    backend = bare.backend()
    project = (await backend.create_project({"name": "Spring", "workspace": bare.workspace})).gid
    with pytest.raises(InvalidArgument) as bad:
        await sync_mcc_fields(backend.project_fields(), project, {"budget_planned": USD})
    assert bad.value.field == BUDGET_FIELD and "EUR" in str(bad.value)
    assert await _values(backend, project) == {}


async def test_rest_waits_out_429_retry_after_on_the_write(asana_wire_server: Any) -> None:
    server: AsanaWireServer = asana_wire_server()
    ws = server.state.add_workspace("Acme")
    server.state.add_user("Alice Adams", "alice@example.com", ws, token=TOKEN)
    add_custom_field(server.state, ws, TIER_FIELD, "number")
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async with AsanaRestClient(server.base_url, token=TOKEN, workspace_gid=ws, sleep=sleep) as client:
        project = (await client.create_project({"name": "Spring", "workspace": ws})).gid
        await client.project_fields().add_setting(project, next(iter(server.state.custom_fields)))
        server.inject(429, times=1, retry_after="7")
        await client.project_fields().put_values(project, {next(iter(server.state.custom_fields)): 2})
    assert slept == [7.0]
    assert server.state.projects[project]["cf"] == {next(iter(server.state.custom_fields)): 2.0}


async def test_a_free_workspace_answering_402_is_a_typed_refusal(asana_wire_server: Any) -> None:
    server: AsanaWireServer = asana_wire_server()
    ws = server.state.add_workspace("Acme")
    server.state.add_user("Alice Adams", "alice@example.com", ws, token=TOKEN)
    async with AsanaRestClient(server.base_url, token=TOKEN, workspace_gid=ws) as client:
        server.inject(402)  # custom fields are a premium feature
        with pytest.raises(Forbidden) as refused:
            await client.project_fields().workspace_fields(ws)
    assert refused.value.code == "forbidden" and "paid plan" in str(refused.value)
