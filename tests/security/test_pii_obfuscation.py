"""Attack: card numbers and SSNs disguised (non-breaking spaces, dots, slashes, zero-width characters, fullwidth
digits, bare SSNs with a hint) sent through the real guarded servers; and look-alikes that must go through."""

from __future__ import annotations

from mcc.wiring import App
from spine.repositories import open_store
from tests.security.conftest import call

DISGUISED = [
    "4111\u00a01111\u00a01111\u00a01111",
    "4111.1111.1111.1111",
    "4111/1111/1111/1111",
    "4\u200b111\u200b1111\u200c1111\u20601111",
    "４１１１ １１１１ １１１１ １１１１",
    "SSN 123456789",
    "123.45.6789",
    "123-45 6789",
    "１２３－４５－６７８９",
    "123\u200b45\u200b6789",
]
LOOK_ALIKES = ("Order 123456789 for 900000 USD; Asana task 1204567890123456; Workfront project "
               "4c7e1d2a9b3f4e5d8a7b6c5d4e3f2a1b; from 2027/06/01 to 01.07.2027")  # fmt: skip


async def test_disguised_numbers_are_refused_by_every_server(app: App) -> None:
    with open_store(app.sessions, "acme") as store:
        camp = next(c for c in store.campaigns.list(limit=100) if c.owner_id == "maya.chen")
    project = await app.workfront_backend("acme").create_project("Disguise target")
    for secret in DISGUISED:
        change = {"campaign_id": camp.id, "expected_version": camp.version, "changes": {"description": f"pay {secret}"}}
        ok, text = await call(app, "maya.chen", "spine", "update_campaign", change)
        assert not ok and "[denied]" in text and "$.changes.description" in text, secret
        ok, text = await call(app, "priya.natarajan", "workfront", "add_note",
                              {"obj_code": "PROJ", "obj_id": project.id, "text": f"use {secret}"})  # fmt: skip
        assert not ok and "[denied]" in text and "$.text" in text, secret
    with open_store(app.sessions, "acme") as store:
        assert store.campaigns.get(camp.id).version == camp.version
    notes = await app.workfront_backend("acme").search("NOTE", {"objID": project.id}, limit=100)
    assert notes.items == []


async def test_look_alikes_are_stored_unchanged(app: App) -> None:
    args = {"name": "Look-alike Launch", "type": "standard", "tier": 2, "launch_date": "2027-06-01",
            "owner_id": "maya.chen", "description": LOOK_ALIKES}  # fmt: skip
    ok, created = await call(app, "maya.chen", "spine", "create_campaign", args)
    assert ok and created["description"] == LOOK_ALIKES
    ok, got = await call(app, "maya.chen", "spine", "get_campaign", {"campaign_id": created["id"]})
    assert ok and got["description"] == LOOK_ALIKES
