"""Inbound wiring: the Asana reader the processor uses opens a backend of its own per delivery (the tenant's
sandbox here) and closes it, so each delivery can run on an event loop of its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mcc.inbound import asana_reader
from mcc.settings import load_settings
from mcc.wiring import open_app

TENANT = "acme"


def test_asana_reader_reads_through_a_new_backend_per_delivery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MCC_DATABASE_URL", raising=False)
    monkeypatch.delenv("MCC_ASANA_BACKEND", raising=False)
    with open_app(load_settings()) as app:
        sandbox = app.new_asana_backend(TENANT)  # the tenant's sandbox file, seeded through a backend of its own
        seeded = sandbox.seed_demo(projects=[{"name": "Spring launch", "tasks": [{"name": "Draft the brief"}]}])
        asyncio.run(sandbox.aclose())
        gid = seeded.tasks["Draft the brief"]
        reader = asana_reader(app)
        for _ in range(2):  # a second delivery on a new event loop: nothing of the first one's loop is reused
            got = asyncio.run(reader.read(TENANT, "task", [gid, "1299999999999999"]))
            task = got[gid]
            assert task is not None and task.name == "Draft the brief"
            assert got["1299999999999999"] is None  # deleted (or never there): read as a deletion
        assert app._backends == {}  # the reader never fills the process's shared backends
