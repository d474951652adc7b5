"""update_project on both Workfront backends: name, description, planned dates and DE: custom fields."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.workfront.backend import InvalidArgument, NotFound
from tests.connectors.workfront.conftest import MISSING, World


async def test_update_project_sets_fields_and_custom_fields(world: World) -> None:
    dates = {"planned_start_date": "2027-03-01", "planned_completion_date": "2027-04-30"}
    p = await world.backend.create_project("Launch", **dates, custom_fields={"DE:Keep": "yes"})
    out = await world.backend.update_project(p.id, {"name": "Launch EMEA", "description": "For EMEA",
                                                    "plannedCompletionDate": "2027-05-31",
                                                    "custom_fields": {"DE:MCC Tier": 1}})  # fmt: skip
    assert (out.name, out.description, out.planned_completion_date) == ("Launch EMEA", "For EMEA",
                                                                        dt.date(2027, 5, 31))  # fmt: skip
    project = (await world.backend.get_project(p.id)).project
    assert project.custom_fields == {"DE:Keep": "yes", "DE:MCC Tier": 1}
    assert project.planned_start_date == dt.date(2027, 3, 1)


async def test_update_project_refuses_bad_changes(world: World) -> None:
    p = await world.backend.create_project("Launch", planned_start_date="2027-03-01",
                                           planned_completion_date="2027-04-30")  # fmt: skip
    with pytest.raises(InvalidArgument) as bad:
        await world.backend.update_project(p.id, {"plannedStartDate": "2027-06-01"})
    assert bad.value.field == "changes.plannedStartDate"
    with pytest.raises(InvalidArgument) as status:
        await world.backend.update_project(p.id, {"status": "CUR"})
    assert status.value.field == "changes.status"
    with pytest.raises(NotFound):
        await world.backend.update_project(MISSING, {"name": "x"})
