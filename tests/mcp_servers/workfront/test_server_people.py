"""People in the Workfront server: search_users labels Workfront users with their MCC user, and assign_resource
takes an MCC user id, translated through the tenant's identity map (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from policies.engine import PolicyEngine
from spine.db import transaction
from spine.repositories import SpineStore
from tests.mcp_servers.workfront.server_world import ACME, GLOBEX, WfWorld, call, make_policy_engine, open_world


@pytest.fixture(scope="module")
def wf_policy() -> PolicyEngine:
    return make_policy_engine()


@pytest.fixture
async def wf_world(engine: Engine, tmp_path: Path, wf_policy: PolicyEngine) -> AsyncIterator[WfWorld]:
    async with open_world(engine, tmp_path, wf_policy) as world:
        with transaction(world.sessions) as session:
            SpineStore(session, ACME).directory.update_user("priya.natarajan", workfront_user_id=world.user("Bea Chen"))
            # Globex links its own user to the same Workfront person: Acme must never see that link.
            SpineStore(session, GLOBEX).directory.update_user("frank.grimes", workfront_user_id=world.user())
        yield world


async def _task(w: WfWorld) -> str:
    maya = w.server("maya.chen")
    ok, made = await call(maya, "create_project", {"name": "People", "template_id": w.template,
                                                   "planned_start_date": "2027-02-01"})  # fmt: skip
    assert ok, made
    return str(made["tasks"][0]["id"])


async def test_search_users_finds_by_name_or_email_and_shows_the_linked_mcc_user(wf_world: WfWorld) -> None:
    w, maya = wf_world, wf_world.server("maya.chen")
    ok, found = await call(maya, "search_users", {"text": "chen"})
    assert ok, found
    assert found["users"] == [{"user_id": w.user("Bea Chen"), "name": "Bea Chen", "email_addr": "bea.chen@example.com",
                               "home_team_id": w.creative, "mcc_user_id": "priya.natarajan"}]  # fmt: skip
    ok, everyone = await call(maya, "search_users", {})
    assert ok and len(everyone["users"]) == len(w.directory.users)
    links = {u["name"]: u["mcc_user_id"] for u in everyone["users"]}
    assert links["Bea Chen"] == "priya.natarajan" and links["Alex Rivera"] is None  # Globex's link stays Globex's
    ok, by_mail = await call(maya, "search_users", {"text": "alex.rivera@"})
    assert ok and [u["name"] for u in by_mail["users"]] == ["Alex Rivera"]


async def test_assign_resource_translates_an_mcc_user(wf_world: WfWorld) -> None:
    w, maya = wf_world, wf_world.server("maya.chen")
    task_id = await _task(w)
    ok, assigned = await call(maya, "assign_resource", {"task_id": task_id, "user_id": "priya.natarajan"})
    assert ok, assigned
    assert assigned["task"]["assigned_to_id"] == w.user("Bea Chen")
    ok, direct = await call(maya, "assign_resource", {"task_id": task_id, "user_id": w.user()})
    assert ok and direct["task"]["assigned_to_id"] == w.user()


@pytest.mark.parametrize(
    ("who", "says"),
    [
        ("dana.reyes", "mcc users set-identity dana.reyes --workfront-id"),  # a user of Acme, not linked
        ("frank.grimes", "not a user of your tenant"),  # linked, but in another tenant
        ("nobody.here", "not a user of your tenant"),
    ],
)
async def test_assign_resource_refuses_an_unmapped_person_and_names_the_fix(
    wf_world: WfWorld, who: str, says: str
) -> None:
    w, maya = wf_world, wf_world.server("maya.chen")
    task_id = await _task(w)
    before = (await w.workfront_state(), w.spine_state())
    ok, err = await call(maya, "assign_resource", {"task_id": task_id, "user_id": who})
    assert not ok and "[invalid] user_id:" in err and says in err, err
    assert (await w.workfront_state(), w.spine_state()) == before
