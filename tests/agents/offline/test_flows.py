"""Whole agent turns against real in-process servers (spine demo data, Workfront and Asana sandboxes, the guard
and its Cedar policies): the model's calls must validate on the real servers and leave the right end state."""

from __future__ import annotations

from decimal import Decimal

from agents.offline import OfflineModel
from spine.repositories import open_store
from tests.agents.offline.world import World


async def test_workfront_campaign_task_status_assignment_and_project_status(
    world: World, fast_model: OfflineModel
) -> None:
    turn = await world.run(
        fast_model,
        "production",
        "Create a product launch campaign 'Data Cloud GA' tier 2 with an $8k budget launching next Friday",
    )
    assert turn.names() == ["spine__list_campaigns", "spine__create_campaign", "workfront__create_project"]
    assert all(ok for _, _, ok, _ in turn.calls), turn.calls
    assert "Created the campaign **Data Cloud GA** (product launch, tier 2, launch Fri 2026-11-06" in turn.answer
    assert "Workfront project" in turn.answer

    turn = await world.run(
        fast_model, "production", "Add a task 'Design banner' to Data Cloud GA due next Friday and assign it to Bea"
    )
    # two sub-requests of one part: create the task, then assign "it" (the task just created)
    assert turn.names()[-3:] == ["workfront__create_task", "workfront__search", "workfront__assign_resource"]
    (task,) = (await world.workfront.search("TASK", {"name": "Design banner"})).items
    assert task["plannedCompletionDate"].startswith("2026-11-06")
    (bea,) = (await world.workfront.search("USER", {"name": "Bea Chen"})).items
    assert task["assignedToID"] == bea["ID"]
    assert "Added the task 'Design banner' to Data Cloud GA in Workfront" in turn.answer
    assert "Assigned 'Design banner' (Data Cloud GA) to Bea Chen" in turn.answer

    turn = await world.run(fast_model, "production", "Mark 'Design banner' as complete")
    assert turn.names()[-1] == "workfront__update_status" and turn.calls[-1][2]
    (task,) = (await world.workfront.search("TASK", {"name": "Design banner"})).items
    assert task["status"] == "CPL"

    turn = await world.run(
        fast_model, "production", "reopen it — referring to: Add a task 'Design banner' to Data Cloud GA"
    )  # a later turn's "it", made self-contained by the supervisor
    assert turn.calls[-1][:2] == ("workfront__update_status", {"obj_type": "task", "obj_id": task["ID"],
                                                               "status": "NEW"})  # fmt: skip
    turn = await world.run(fast_model, "production", "What's the status of the Data Cloud GA project?")
    assert 'Workfront project "Data Cloud GA"' in turn.answer and "1 task (1 new)" in turn.answer


async def test_event_campaign_over_budget_runs_in_asana_after_approval(world: World, fast_model: OfflineModel) -> None:
    turn = await world.run(
        fast_model,
        "production",
        "Create an event campaign 'Berlin Meetup' tier 3 with a $25k budget from March 3 to March 5",
        approver="dana.reyes",
    )
    assert len(turn.approvals) == 1  # the spine's budget rule: over USD 10,000 needs marketing-leadership
    assert turn.names() == ["spine__list_campaigns", "spine__create_campaign", "asana__create_project"]
    assert all(ok for _, _, ok, _ in turn.calls), turn.calls
    assert "Asana project" in turn.answer and "budget $25,000" in turn.answer

    turn = await world.run(fast_model, "production", "add a task to book the venue for the Berlin Meetup by March 1")
    assert turn.names()[-1] == "asana__create_task"
    created = turn.calls[-1][3]["data"]
    assert created["name"] == "Book the venue" and created["due_on"] == "2027-03-01"

    turn = await world.run(fast_model, "production", "The 'Book the venue' task is finished")
    assert turn.names()[-1] == "asana__update_task" and turn.calls[-1][1]["completed"] is True
    assert (await world.asana.get_task(created["gid"])).completed is True


async def test_a_rejected_approval_is_reported_and_nothing_is_created(world: World, fast_model: OfflineModel) -> None:
    turn = await world.run(
        fast_model,
        "production",
        "Create a standard campaign 'Big Bash' tier 1 with a $50k budget launching March 3",
        approver="dana.reyes",
        reject_note="no budget left this quarter",
    )
    assert turn.names() == ["spine__list_campaigns", "spine__create_campaign"]  # not re-sent, no project
    assert "rejected" in turn.answer and "no budget left this quarter" in turn.answer
    with open_store(world.sessions, "acme") as store:
        assert not [c for c in store.campaigns.list() if c.name == "Big Bash"]


async def test_pending_approvals_are_listed_and_explained_to_an_approver(
    world: World, fast_model: OfflineModel
) -> None:
    ok, pending, _ = await world.call(
        "maya.chen",
        "spine__create_campaign",
        {
            "name": "Spring Gala",
            "type": "event",
            "tier": 2,
            "launch_date": "2027-04-01",
            "owner_id": "maya.chen",
            "budget_planned": {"amount": "60000", "currency": "USD"},
        },
    )
    assert ok and pending["status"] == "approval_required"
    turn = await world.run(fast_model, "production", "What approvals are pending?", user="dana.reyes")
    assert turn.names() == ["spine__list_approvals"]
    assert pending["approval_id"] in turn.answer
    assert "spine.create_campaign 'Spring Gala' budget $60,000, requested by maya.chen" in turn.answer
    assert "needs marketing-leadership" in turn.answer and "you can approve or reject it" in turn.answer


async def test_performance_answer_uses_the_servers_figures(world: World, fast_model: OfflineModel) -> None:
    turn = await world.run(
        fast_model, "analytics", "Compare Q1 Cloud Platform Launch and Spring Partner Co-Marketing", user="sam.taylor"
    )
    perf = turn.calls[-1][3]
    rows = {r["name"]: r["metrics"] for r in perf["by_campaign"]}
    assert set(rows) == {"Q1 Cloud Platform Launch", "Spring Partner Co-Marketing"}
    for metrics in rows.values():
        assert f"ROAS {metrics['roas']:.2f}x" in turn.answer
        assert f"{int(metrics['impressions']):,} impressions" in turn.answer
    best = max(rows, key=lambda n: Decimal(str(rows[n]["roas"])))
    assert f"On ROAS, {best} does best" in turn.answer


async def test_readonly_user_changes_nothing(world: World, fast_model: OfflineModel) -> None:
    turn = await world.run(
        fast_model, "production", "Add a task 'Design banner' to Q1 Cloud Platform Launch", user="sam.taylor"
    )
    assert turn.calls == [] and "read-only access" in turn.answer
