"""Schema versions: an N-1 row written by older code is upgraded when read (and persisted)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from spine.errors import SchemaVersionError
from spine.models import Campaign, Strategy
from spine.repositories import open_store
from spine.versioning import current_version, upgrade
from tests.spine.conftest import T1


def test_upgrade_chain_and_window():
    assert current_version("campaign") == 2
    row = upgrade("campaign", {"schema_version": 1, "channels": ["paid", "email", "event"], "tags": "a, b"})
    assert row["channels"] == ["paid_media", "email", "events"] and row["tags"] == ["a", "b"]
    assert row["schema_version"] == 2
    assert upgrade("campaign", {"schema_version": 2, "channels": ["paid"]})["channels"] == ["paid"]
    with pytest.raises(SchemaVersionError) as err:
        upgrade("campaign", {"schema_version": 3})
    assert err.value.field == "_schema_version"


def test_n_minus_1_campaign_row_reads_upgraded(factory, campaign_id):
    with factory() as s, s.begin():  # simulate a row written by v1 code
        s.execute(
            text("UPDATE campaigns SET _schema_version = 1, channels = :ch, tags = NULL WHERE id = :id"),
            {"ch": '["paid", "email"]', "id": campaign_id},
        )
    with open_store(factory, T1) as store:
        out = store.campaigns.get(campaign_id)
        assert out.channels == ["paid_media", "email"] and out.tags == [] and out.schema_version == 2
    with factory() as s:
        row = s.get(Campaign, campaign_id)
        assert row.schema_version == 2 and row.channels == ["paid_media", "email"]


def test_n_minus_1_strategy_content_upgraded(factory, campaign_id):
    with open_store(factory, T1) as store:
        sid = store.strategies.create(
            {"campaign_id": campaign_id, "type": "full", "title": "Plan", "content": {}}, actor="maya.chen"
        ).id
    with factory() as s, s.begin():
        row = s.get(Strategy, sid)
        row.content = {"body": "# Old markdown"}
        row.schema_version = 1
    with open_store(factory, T1) as store:
        out = store.strategies.get(sid)
        assert out.content["sections"][0] == {"heading": "Plan", "body": "# Old markdown", "subsections": []}
        assert out.schema_version == 2
