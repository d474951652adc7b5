"""People in the Asana server: list_users labels workspace users with their MCC user, and assignee arguments take
an MCC user id, translated through the tenant's identity map (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from spine.db import transaction
from spine.repositories import SpineStore, open_store
from tests.mcp_servers.asana.server_world import ACME, GLOBEX, AsanaWorld, make_world


@pytest.fixture
async def w(engine, tmp_path) -> AsyncIterator[AsanaWorld]:  # type: ignore[no-untyped-def]
    world = make_world(engine, tmp_path)
    with transaction(world.sessions) as session:
        SpineStore(session, ACME).directory.update_user("jordan.lee", asana_user_gid=_gid(world, ACME, "jordan.lee"))
        frank = _gid(world, GLOBEX, "frank.grimes")
        SpineStore(session, GLOBEX).directory.update_user("frank.grimes", asana_user_gid=frank)
    yield world
    await world.close()


def _gid(w: AsanaWorld, tenant: str, user: str) -> str:
    return w.seeds[tenant].users[f"{user}@{tenant}.example.com"]


async def test_list_users_pages_and_shows_the_linked_mcc_user(w: AsanaWorld) -> None:
    seen: list[dict[str, str | None]] = []
    args: dict[str, object] = {"limit": 3}
    while True:
        ok, page = await w.call("jordan.lee", "list_users", args)
        assert ok, page
        seen += page["data"]
        if page["next_page"] is None:
            break
        args = {"limit": 3, "offset": page["next_page"]["offset"]}
    assert {u["gid"] for u in seen} == set(w.seeds[ACME].users.values())
    assert len(seen) == len(w.seeds[ACME].users)
    links = {u["email"]: u["mcc_user_id"] for u in seen}
    assert links["jordan.lee@acme.example.com"] == "jordan.lee"
    assert links["maya.chen@acme.example.com"] is None
    ok, theirs = await w.call("frank.grimes", "list_users", {}, tenant=GLOBEX)
    assert ok and {u["mcc_user_id"] for u in theirs["data"]} == {"frank.grimes", None}


async def test_assignee_may_be_a_linked_mcc_user(w: AsanaWorld) -> None:
    board = w.seeds[ACME].projects["Acme Partner Board"]
    jordan = _gid(w, ACME, "jordan.lee")
    ok, made = await w.call("jordan.lee", "create_task", {"name": "Ship kits", "projects": [board],
                                                          "assignee": "jordan.lee"})  # fmt: skip
    assert ok, made
    assert made["data"]["assignee"]["gid"] == jordan
    with open_store(w.sessions, ACME) as store:
        assert store.work_items.get(made["spine"]["work_item_id"]).assignee_id == jordan
    ok, sub = await w.call("jordan.lee", "create_subtask", {"parent_gid": made["data"]["gid"], "name": "Box",
                                                            "assignee": "jordan.lee"})  # fmt: skip
    assert ok and sub["data"]["assignee"]["gid"] == jordan
    maya = _gid(w, ACME, "maya.chen")
    ok, upd = await w.call("jordan.lee", "update_task", {"task_gid": made["data"]["gid"], "assignee": maya})
    assert ok and upd["data"]["assignee"]["gid"] == maya
    ok, back = await w.call("jordan.lee", "update_task", {"task_gid": made["data"]["gid"], "assignee": "jordan.lee"})
    assert ok and back["data"]["assignee"]["gid"] == jordan


@pytest.mark.parametrize(
    ("tool", "who", "says"),
    [
        ("create_task", "maya.chen", "mcc users set-identity maya.chen --asana-gid"),  # Acme's, not linked
        ("create_task", "frank.grimes", "not a user of your tenant"),  # linked, but in Globex
        ("update_task", "maya.chen", "mcc users set-identity maya.chen --asana-gid"),
        ("create_subtask", "nobody.here", "not a user of your tenant"),
    ],
)
async def test_an_unmapped_assignee_is_refused_with_the_fix_and_nothing_is_written(
    w: AsanaWorld, tool: str, who: str, says: str
) -> None:
    task = w.seeds[ACME].tasks["acme brief partners"]
    args = {
        "create_task": {"name": "X", "projects": [w.seeds[ACME].projects["Acme Partner Board"]]},
        "update_task": {"task_gid": task},
        "create_subtask": {"parent_gid": task, "name": "X"},
    }[tool]
    before = (w.asana_rows(), w.spine_counts())
    ok, err = await w.call("jordan.lee", tool, {**args, "assignee": who})
    assert not ok and "[invalid] assignee:" in err and says in err, err
    assert (w.asana_rows(), w.spine_counts()) == before
