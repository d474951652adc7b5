"""Spine reads the web app uses: password hashes, daily performance, audit search, all tenant-scoped."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker

from spine.audit import AuditLog
from spine.audit_search import AuditFilter, AuditSearch
from spine.demo import load_demo
from spine.performance import campaign_breakdown, channel_performance, totals
from spine.repositories import open_store
from spine.repositories.credentials import CredentialRepository


def _key(m):  # type: ignore[no-untyped-def]
    return (m.impressions, m.clicks, m.conversions, m.spend, m.revenue, m.currency, m.cpa,
            pytest.approx(m.ctr), pytest.approx(m.roas))  # fmt: skip


def test_credentials_daily_performance_and_audit_search_stay_in_their_tenant(
    session_factory: sessionmaker[Session],
) -> None:
    load_demo(session_factory, today=dt.date(2026, 11, 2))
    with open_store(session_factory, "acme") as store:
        CredentialRepository(store.session, "acme").set_password_hash("maya.chen", "$argon2id$fake")
        assert CredentialRepository(store.session, "globex").password_hash("maya.chen") is None
        assert CredentialRepository(store.session, "acme").password_hash("maya.chen") == "$argon2id$fake"
        c = store.campaigns.find_by_name("Q1 Cloud Platform Launch")[0]
        perf = campaign_breakdown(store.session, "acme", c.id)
        total = totals(store.session, "acme", campaign_id=c.id)[0]
        # The one-scan rollup agrees with the SQL aggregates (ratios to float precision).
        assert [_key(m) for m in perf.totals] == [_key(total)]
        sql_channels = channel_performance(store.session, "acme", campaign_id=c.id)
        assert [(ch.channel, _key(ch.metrics)) for ch in perf.by_channel] == [
            (ch.channel, _key(ch.metrics)) for ch in sql_channels
        ]
        days = perf.daily
        assert [d.date for d in days] == sorted({d.date for d in days})
        assert sum(d.metrics.impressions for d in days) == total.impressions
        assert sum(d.metrics.spend for d in days) == total.spend
        store.directory.remove_user("maya.chen")
        assert CredentialRepository(store.session, "acme").password_hash("maya.chen") is None  # removed: no sign-in
    log = AuditLog(session_factory)
    log.append(tenant_id="acme", actor="a", server="spine", tool="t1", decision="executed", detail={"x": c.id})
    log.append(tenant_id="globex", actor="b", server="spine", tool="t2", decision="denied", detail={"x": c.id})
    acme = AuditSearch(session_factory, "acme")
    assert [e.tool for e in acme.concerning([c.id])] == ["t1"]
    assert [e.tool for e in acme.recent(AuditFilter(text="T1"))] == ["t1"]
    assert acme.recent(AuditFilter(decision="denied")) == []
    assert acme.facets() == {"decision": ["executed"], "server": ["spine"]}
