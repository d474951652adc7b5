"""Fixtures: every contract test runs on the sandbox and on the REST client against the wire server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.workfront.backend import WorkfrontBackend
from connectors.workfront.client import WorkfrontRestClient
from connectors.workfront.models import Directory, Portfolio, Team, TemplateSpec, TemplateTaskSpec, User
from connectors.workfront.sandbox import WorkfrontSandbox
from tests.wire.workfront_server import (  # noqa: F401  (fixtures)
    TOKEN,
    WorkfrontWireServer,
    workfront_wire,
    workfront_wire_server,
)

TEAM_A = "a0000000000000000000000000000001"
TEAM_B = "a0000000000000000000000000000002"
ALICE = "b0000000000000000000000000000001"
BOB = "b0000000000000000000000000000002"
CAROL = "b0000000000000000000000000000003"
PORTFOLIO = "c0000000000000000000000000000001"
TEMPLATE = "d0000000000000000000000000000001"
MISSING = "f" * 32

DIRECTORY = Directory(
    users=[
        User(ID=ALICE, name="Alice Able", emailAddr="alice@example.com", homeTeamID=TEAM_A),
        User(ID=BOB, name="Bob Baker", emailAddr="bob@example.com", homeTeamID=TEAM_A),
        User(ID=CAROL, name="Carol Cole", emailAddr="carol@example.com", homeTeamID=TEAM_B),
    ],
    teams=[Team(ID=TEAM_A, name="Creative"), Team(ID=TEAM_B, name="Ops")],
    portfolios=[Portfolio(ID=PORTFOLIO, name="Campaigns")],
    templates=[
        TemplateSpec(
            id=TEMPLATE,
            name="Launch",
            tasks=[
                TemplateTaskSpec(name="Brief", work_required=480, duration_days=2),
                TemplateTaskSpec(name="Design", work_required=960, start_offset_days=2, duration_days=3),
                TemplateTaskSpec(name="Review", work_required=240, start_offset_days=5, duration_days=1),
            ],
        )
    ],
)


def load_wire_reference(server: WorkfrontWireServer) -> None:
    """The same directory, as plain Workfront dicts for the independent wire server."""
    server.state.load(
        users=[u.model_dump(by_alias=True) for u in DIRECTORY.users],
        teams=[t.model_dump(by_alias=True) for t in DIRECTORY.teams],
        portfolios=[p.model_dump(by_alias=True) for p in DIRECTORY.portfolios],
        templates=[
            {
                "ID": t.id,
                "name": t.name,
                "tasks": [
                    {
                        "name": s.name,
                        "workRequired": s.work_required,
                        "startOffsetDays": s.start_offset_days,
                        "durationDays": s.duration_days,
                    }
                    for s in t.tasks
                ],
            }
            for t in DIRECTORY.templates
        ],
    )


def rest_client(server: WorkfrontWireServer, **overrides: object) -> WorkfrontRestClient:
    options: dict = {"rate_per_minute": 100_000, "backoff_base": 0.01, "backoff_cap": 0.05, "timeout": 5.0}
    options.update(overrides)
    return WorkfrontRestClient(server.base_url, TOKEN, **options)


@dataclass
class World:
    kind: str
    backend: WorkfrontBackend
    wire: WorkfrontWireServer | None


@pytest.fixture(params=["sandbox", "rest"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    """A fresh backend holding ``DIRECTORY``: the sandbox, or the REST client on a clean wire server."""
    if request.param == "sandbox":
        sandbox = WorkfrontSandbox(tmp_path / "wf")
        await sandbox.load_directory(DIRECTORY)
        yield World("sandbox", sandbox, None)
        await sandbox.aclose()
    else:
        server: WorkfrontWireServer = request.getfixturevalue("workfront_wire")
        load_wire_reference(server)
        client = rest_client(server)
        yield World("rest", client, server)
        await client.aclose()
