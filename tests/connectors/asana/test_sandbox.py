"""Sandbox specifics: persistence across reopen, gid shape, idempotency keys, opaque offsets, demo seed."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.asana.backend import InvalidArgument
from connectors.asana.sandbox import AsanaSandbox

DEMO = [
    {
        "name": "Spring Launch",
        "due_on": "2026-04-30",
        "sections": ["Backlog", "In progress", "Done"],
        "tasks": [
            {
                "name": "Creative brief",
                "section": "In progress",
                "assignee": "priya.shah@example.com",
                "subtasks": [{"name": "Headline options"}],
            },
            {"name": "Media plan", "assignee": "sam.lee@example.com", "due_on": "2026-04-01"},
        ],
    }
]


async def test_persists_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "asana.db"
    sb = AsanaSandbox(path)
    seed = sb.seed_demo(projects=DEMO)
    t = await sb.create_task({"name": "Keep me", "projects": [seed.projects["Spring Launch"]]}, idempotency_key="k")
    page = await sb.search_tasks(limit=1)
    await sb.aclose()

    again = AsanaSandbox(path)
    assert (await again.get_task(t.gid)).name == "Keep me"
    assert (
        await again.create_task({"name": "Keep me", "projects": [seed.projects["Spring Launch"]]}, idempotency_key="k")
    ).gid == t.gid
    assert page.next_page is not None
    rest = await again.search_tasks(limit=100, offset=page.next_page.offset)  # offsets outlive the process
    assert len(rest.data) == 3
    assert again.seed_demo(projects=DEMO) == seed  # seeding twice changes nothing
    await again.aclose()


async def test_demo_seed_and_gids(tmp_path: Path) -> None:
    sb = AsanaSandbox(tmp_path / "a.db")
    seed = sb.seed_demo(projects=DEMO)
    gids = [
        seed.workspace_gid,
        seed.team_gid,
        *seed.users.values(),
        *seed.projects.values(),
        *seed.sections.values(),
        *seed.tasks.values(),
    ]
    assert all(len(g) == 16 and g.isdigit() for g in gids) and len(set(gids)) == len(gids)
    assert set(seed.users) == {"alex.morgan@example.com", "priya.shah@example.com", "sam.lee@example.com"}
    brief = await sb.get_task(seed.tasks["Creative brief"])
    assert brief.memberships[0].section and brief.memberships[0].section.name == "In progress"
    assert brief.assignee and brief.assignee.name == "Priya Shah" and brief.num_subtasks == 1
    plan = await sb.get_task(seed.tasks["Media plan"])
    assert plan.memberships[0].section and plan.memberships[0].section.name == "Backlog"
    sections = await sb.list_sections(seed.projects["Spring Launch"])
    assert [s.name for s in sections.data] == ["Backlog", "In progress", "Done"]
    mine = await sb.get_user_tasks(seed.users["sam.lee@example.com"])
    assert [t.name for t in mine.data] == ["Media plan"]
    await sb.aclose()


async def test_bad_seed_writes_nothing(tmp_path: Path) -> None:
    sb = AsanaSandbox(tmp_path / "a.db")
    with pytest.raises(InvalidArgument) as info:
        sb.seed_demo(projects=[{"name": "P", "tasks": [{"name": "T", "assignee": "nobody@example.com"}]}])
    assert info.value.field == "projects"
    seed = sb.seed_demo(projects=DEMO)  # the failed seed left no half-made world behind
    assert (await sb.search_tasks(workspace=seed.workspace_gid, limit=100)).data[0].name == "Creative brief"
    await sb.aclose()


async def test_idempotency_key_reuse_with_other_call(tmp_path: Path) -> None:
    sb = AsanaSandbox(tmp_path / "a.db")
    sb.seed_demo()
    p = await sb.create_project({"name": "P"}, idempotency_key="same")
    with pytest.raises(InvalidArgument) as info:
        await sb.create_task({"name": "P"}, idempotency_key="same")
    assert info.value.field == "idempotency_key"
    with pytest.raises(InvalidArgument) as empty:
        await sb.create_project({"name": "P"}, idempotency_key="")
    assert empty.value.field == "idempotency_key"
    assert (await sb.create_project({"name": "P"}, idempotency_key="same")).gid == p.gid
    await sb.aclose()


async def test_offset_from_another_file_is_refused(tmp_path: Path) -> None:
    one, two = AsanaSandbox(tmp_path / "1.db"), AsanaSandbox(tmp_path / "2.db")
    one.seed_demo(projects=DEMO)
    two.seed_demo(projects=DEMO)
    page = await one.search_tasks(limit=1)
    assert page.next_page is not None
    with pytest.raises(InvalidArgument) as info:
        await two.search_tasks(limit=1, offset=page.next_page.offset)
    assert info.value.field == "offset"
    for sb in (one, two):
        await sb.aclose()


async def test_workspace_required_when_ambiguous(tmp_path: Path) -> None:
    sb = AsanaSandbox(tmp_path / "a.db")
    with pytest.raises(InvalidArgument) as info:
        await sb.create_task({"name": "T"})
    assert info.value.field == "workspace"
    await sb.aclose()


async def test_factory_builds_each_backend(tmp_path: Path) -> None:
    from connectors.asana.backend import AsanaBackend
    from connectors.asana.client import AsanaRestClient
    from connectors.asana.factory import make_asana_backend

    sb = make_asana_backend("sandbox", data_dir=tmp_path)
    rest = make_asana_backend("rest", token="0/abc", url="http://127.0.0.1:9/api/1.0", workspace_gid="123")
    assert isinstance(sb, AsanaSandbox) and isinstance(rest, AsanaRestClient)
    assert isinstance(sb, AsanaBackend) and isinstance(rest, AsanaBackend)
    assert (tmp_path / "asana_sandbox.db").exists()
    for kind, kwargs, field in [("sandbox", {}, "data_dir"), ("rest", {}, "token"), ("soap", {}, "kind")]:
        with pytest.raises(InvalidArgument) as info:
            make_asana_backend(kind, **kwargs)  # type: ignore[arg-type]
        assert info.value.field == field
    await sb.aclose()
    await rest.aclose()
