"""Asana writes and the spine stay in step: a spine failure after Asana succeeded leaves no half-state and
answers sync_pending; retrying the identical call converges on one Asana object and one spine mapping.

Faults are injected into the real spine database with a SQLAlchemy event listener that raises once."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from spine.repositories import open_store
from tests.mcp_servers.asana.server_world import ACME, AsanaWorld, make_world


@pytest.fixture
async def w(engine, tmp_path) -> AsyncIterator[AsanaWorld]:  # type: ignore[no-untyped-def]
    world = make_world(engine, tmp_path)
    yield world
    await world.close()


@contextlib.contextmanager
def fail_once(engine: Engine, sql_prefix: str, nth: int = 1) -> Iterator[dict[str, int]]:
    """Make the `nth` statement starting with `sql_prefix` fail (once), as a lost database would."""
    state = {"seen": 0, "raised": 0}

    def before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(sql_prefix.upper()):
            state["seen"] += 1
            if state["seen"] == nth:
                state["raised"] += 1
                raise OperationalError(statement, params, Exception("injected fault: disk I/O error"))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield state
    finally:
        event.remove(engine, "before_cursor_execute", before)


def count_rows(w: AsanaWorld, table: str, **where: Any) -> int:
    rows = w.asana_rows()[table]
    if not where:
        return len(rows)
    cols = {"projects": ["seq", "gid", "name"], "tasks": ["seq", "gid", "name"], "stories": ["seq", "gid", "task_gid"]}
    idx = {k: cols[table].index(k) for k in where}
    return sum(all(r[idx[k]] == v for k, v in where.items()) for r in rows)


async def test_project_link_failure_rolls_the_spine_back_and_the_retry_converges(w: AsanaWorld) -> None:
    campaign = w.campaigns[f"{ACME}:fresh"]
    args = {"name": "Summit board", "campaign_id": campaign, "idempotency_key": "summit-board-1"}
    before = w.spine_counts()
    # The link's SystemRef and its first event are written; the second event fails: the whole write must go.
    with fail_once(w.engine, "INSERT INTO event_log", nth=2) as fault:
        ok, err = await w.call("jordan.lee", "create_project", args)
    assert fault["raised"] == 1
    assert not ok and "[sync_pending]" in err and "idempotency_key" in err
    assert w.spine_counts() == before
    assert count_rows(w, "projects", name="Summit board") == 1  # Asana did succeed
    with open_store(w.sessions, ACME) as s:
        assert s.refs.external_id("campaign", campaign, "asana") is None
        assert [e.step for e in s.errors.list()] == ["asana.sync.project"]

    ok, made = await w.call("jordan.lee", "create_project", args)
    assert ok, made
    gid = made["data"]["gid"]
    assert count_rows(w, "projects", name="Summit board") == 1
    with open_store(w.sessions, ACME) as s:
        assert s.refs.external_id("campaign", campaign, "asana") == gid
        linked = s.events.list(event_type="asana_project.created", aggregate_id=campaign)
    assert [e.payload["project_gid"] for e in linked] == [gid]
    after = w.spine_counts()

    # A late duplicate of the successful call is answered with the same project and writes nothing new.
    ok, again = await w.call("jordan.lee", "create_project", args)
    assert ok and again["data"]["gid"] == gid and again["spine"]["campaign_id"] == campaign
    assert w.spine_counts() == after and count_rows(w, "projects", name="Summit board") == 1
    # Another key for the same campaign is a conflict, refused before Asana is called.
    ok, err = await w.call("jordan.lee", "create_project", {**args, "idempotency_key": "summit-board-2"})
    assert not ok and "[conflict] campaign_id" in err and gid in err
    assert count_rows(w, "projects", name="Summit board") == 1 and w.spine_counts() == after


async def test_task_mirror_failure_then_retry_without_a_key_converges(w: AsanaWorld) -> None:
    board = w.seeds[ACME].projects["Acme Partner Board"]
    args = {"name": "Print badges", "projects": [board], "due_on": "2027-03-01"}  # no key: the guard derives one
    before = w.spine_counts()
    with fail_once(w.engine, "INSERT INTO event_log") as fault:  # after the work item and its ref
        ok, err = await w.call("jordan.lee", "create_task", args)
    assert fault["raised"] == 1 and not ok and "[sync_pending]" in err
    assert w.spine_counts() == before and count_rows(w, "tasks", name="Print badges") == 1

    ok, made = await w.call("jordan.lee", "create_task", args)
    assert ok, made
    gid, item_id = made["data"]["gid"], made["spine"]["work_item_id"]
    ok, again = await w.call("jordan.lee", "create_task", args)
    assert ok and again["data"]["gid"] == gid and again["spine"]["work_item_id"] == item_id
    assert count_rows(w, "tasks", name="Print badges") == 1
    with open_store(w.sessions, ACME) as s:
        items = [i for i in s.work_items.list(source_system="asana") if i.external_id == gid]
        created = s.events.list(event_type="work_item.created", aggregate_id=item_id)
    assert [i.id for i in items] == [item_id] and len(created) == 1


async def test_comment_event_failure_then_retry_logs_one_story_once(w: AsanaWorld) -> None:
    task = w.seeds[ACME].tasks["acme brief partners"]
    campaign = w.campaigns[f"{ACME}:linked"]
    args = {"task_gid": task, "text": "Logos are in", "idempotency_key": "comment-logos-1"}
    with fail_once(w.engine, "INSERT INTO event_log"):
        ok, err = await w.call("jordan.lee", "add_comment", args)
    assert not ok and "[sync_pending]" in err
    for _ in range(2):
        ok, story = await w.call("jordan.lee", "add_comment", args)
        assert ok and story["spine"]["campaign_id"] == campaign
    assert count_rows(w, "stories", task_gid=task) == 1
    with open_store(w.sessions, ACME) as s:
        logged = s.events.list(event_type="asana_comment.added", aggregate_id=campaign)
    assert [e.payload["story_gid"] for e in logged] == [story["data"]["gid"]]
    assert logged[0].payload["work_item_id"] == w.work_items[f"{ACME}:brief"]


async def test_update_mirror_failure_leaves_the_work_item_untouched_until_the_retry(w: AsanaWorld) -> None:
    task, item_id = w.seeds[ACME].tasks["acme brief partners"], w.work_items[f"{ACME}:brief"]
    with open_store(w.sessions, ACME) as s:
        old = s.work_items.get(item_id)
    args = {"task_gid": task, "name": "Brief all partners", "notes": "by Friday"}
    with fail_once(w.engine, "UPDATE work_items"):
        ok, err = await w.call("sofia.rossi", "update_task", args)
    assert not ok and "[sync_pending]" in err and "retry the identical call" in err
    ok, got = await w.call("sofia.rossi", "get_task", {"task_gid": task})
    assert got["data"]["name"] == "Brief all partners"  # Asana changed ...
    with open_store(w.sessions, ACME) as s:
        assert s.work_items.get(item_id) == old  # ... the spine did not, not even half of it
        assert s.events.list(event_type="work_item.updated", aggregate_id=item_id) == []

    for _ in range(2):
        ok, upd = await w.call("sofia.rossi", "update_task", args)
        assert ok and upd["spine"]["work_item_id"] == item_id
    with open_store(w.sessions, ACME) as s:
        now = s.work_items.get(item_id)
        updates = s.events.list(event_type="work_item.updated", aggregate_id=item_id)
    assert (now.name, now.description, now.version) == ("Brief all partners", "by Friday", old.version + 1)
    assert len(updates) == 1  # the second identical update changed nothing, so logged nothing


async def test_same_key_with_other_arguments_is_refused_and_creates_nothing(w: AsanaWorld) -> None:
    ok, first = await w.call("jordan.lee", "create_task", {"name": "Order swag", "idempotency_key": "swag-0001"})
    assert ok
    before = (w.asana_rows(), w.spine_counts())
    ok, err = await w.call("jordan.lee", "create_task", {"name": "Order more swag", "idempotency_key": "swag-0001"})
    assert not ok and "idempotency_key" in err
    assert (w.asana_rows(), w.spine_counts()) == before
    ok, again = await w.call("jordan.lee", "create_task", {"name": "Order swag", "idempotency_key": "swag-0001"})
    assert ok and again["data"]["gid"] == first["data"]["gid"]


async def test_subtask_of_an_unmirrored_task_touches_only_asana(w: AsanaWorld) -> None:
    idea = w.seeds[ACME].tasks["acme unlinked idea"]
    before = w.spine_counts()
    ok, sub = await w.call("jordan.lee", "create_subtask", {"parent_gid": idea, "name": "Sketch it"})
    assert ok and sub["spine"] is None and sub["data"]["parent"]["gid"] == idea
    assert w.spine_counts() == before
    ok, moved = await w.call("jordan.lee", "add_task_to_section", {
        "section_gid": w.seeds[ACME].sections["Acme Partner Board/Done"], "task_gid": idea})  # fmt: skip
    assert ok and moved["spine"] is None
    with open_store(w.sessions, ACME) as s:
        logged = s.events.list(event_type="asana_task.moved", aggregate_id=idea)
    assert len(logged) == 1 and logged[0].payload["campaign_id"] is None
