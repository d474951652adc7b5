"""update_project on both Asana backends: only the given fields change; dates keep their order."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.asana.backend import InvalidArgument, NotFound
from tests.connectors.asana.conftest import World


async def test_update_project_changes_only_the_given_fields(world: World) -> None:
    p = await world.backend.create_project({"name": "Launch", "workspace": world.workspace, "notes": "old",
                                            "start_on": "2027-03-01", "due_on": "2027-04-30"})  # fmt: skip
    out = await world.backend.update_project(p.gid, {"name": "Launch EMEA", "due_on": "2027-05-31"})
    assert (out.name, out.notes, out.start_on, out.due_on) == ("Launch EMEA", "old", dt.date(2027, 3, 1),
                                                               dt.date(2027, 5, 31))  # fmt: skip
    again = await world.backend.get_project(p.gid)
    assert (again.name, again.due_on) == ("Launch EMEA", dt.date(2027, 5, 31))


async def test_update_project_refuses_bad_changes(world: World) -> None:
    p = await world.backend.create_project({"name": "Launch", "workspace": world.workspace,
                                            "start_on": "2027-03-01", "due_on": "2027-04-30"})  # fmt: skip
    with pytest.raises(InvalidArgument) as bad:
        await world.backend.update_project(p.gid, {"start_on": "2027-06-01"})
    assert bad.value.field == "start_on"
    with pytest.raises(InvalidArgument):
        await world.backend.update_project(p.gid, {"workspace": world.workspace})
    with pytest.raises(NotFound):
        await world.backend.update_project("1999999999999999", {"name": "x"})
    assert (await world.backend.get_project(p.gid)).start_on == dt.date(2027, 3, 1)
