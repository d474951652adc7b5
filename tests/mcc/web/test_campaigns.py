"""Campaign list (filters, search, htmx fragment) and the campaign page (ids, work, strategies, approvals,
audit, performance charts), read through the repositories of the signed-in tenant."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient

from mcc.wiring import App
from spine.approvals import ApprovalStore
from spine.demo_data import ACME_CAMPAIGNS
from spine.performance import totals
from spine.repositories import open_store


def _names(html: str) -> set[str]:
    return set(re.findall(r'<a href="/campaigns/[0-9a-f-]{36}">([^<]+)</a>', html))


def _by_name(app: App, name: str):  # type: ignore[no-untyped-def]
    with open_store(app.sessions, "acme") as store:
        return store.campaigns.find_by_name(name)[0]


def test_filters_and_search_narrow_the_list(signed_in: Callable[..., TestClient]) -> None:
    client = signed_in("sam.taylor")  # read-only users read campaigns
    everything = _names(client.get("/campaigns").text)
    assert everything == {c["name"] for c in ACME_CAMPAIGNS}
    cases = {
        "status=launched": {c["name"] for c in ACME_CAMPAIGNS if c["status"] == "launched"},
        "tier=1": {c["name"] for c in ACME_CAMPAIGNS if c["tier"] == 1},
        "type=event": {c["name"] for c in ACME_CAMPAIGNS if c["type"] == "event"},
        "channel=partner": {c["name"] for c in ACME_CAMPAIGNS if "partner" in c["channels"]},
        "owner=omar.farouk": {c["name"] for c in ACME_CAMPAIGNS if c["owner"] == "omar.farouk"},
        "q=LAUNCH": {c["name"] for c in ACME_CAMPAIGNS if "launch" in c["name"].lower()},
        "type=event&status=launched": {
            c["name"] for c in ACME_CAMPAIGNS if c["type"] == "event" and c["status"] == "launched"
        },
    }
    for query, expected in cases.items():
        assert expected and expected != everything, query  # each case really narrows
        assert _names(client.get(f"/campaigns?{query}").text) == expected, query


def test_unknown_filter_values_are_ignored_not_passed_on(signed_in: Callable[..., TestClient]) -> None:
    client = signed_in("maya.chen")
    page = client.get("/campaigns?status=drop%20table&tier=9&channel=fax&q=%25")
    assert page.status_code == 200 and _names(page.text) == set()  # '%' is a literal, not a wildcard
    assert len(_names(client.get("/campaigns?status=bogus").text)) == len(ACME_CAMPAIGNS)


def test_htmx_search_returns_only_the_results_table(signed_in: Callable[..., TestClient]) -> None:
    fragment = signed_in("maya.chen").get("/campaigns?q=summit", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert _names(fragment.text) == {"Customer Summit 2026"}


def test_campaign_page_shows_ids_work_strategies_and_performance(signed_in, demo_app: App) -> None:  # type: ignore[no-untyped-def]
    c = _by_name(demo_app, "Q1 Cloud Platform Launch")
    page = signed_in("maya.chen").get(f"/campaigns/{c.id}")
    assert page.status_code == 200
    html = page.text
    assert c.id in html and c.external_refs["workfront"] in html  # ids in every system
    with open_store(demo_app.sessions, "acme") as store:
        items = store.work_items.list(c.id)
        strategy = store.strategies.list(c.id)[0]
        sums = totals(store.session, "acme", campaign_id=c.id)[0]
        keys = store.tracking.get(c.id)
    assert keys.google_analytics in html
    assert "In workfront (5)" in html and all(i.name in html for i in items)
    assert strategy.title in html
    assert f"{sums.impressions:,}" in html and f"{sums.clicks:,}" in html
    configs = dict(re.findall(r'<script type="application/json" id="(chart-[a-z]+)">(.*?)</script>', html, re.S))
    assert set(configs) == {"chart-volume", "chart-spend", "chart-ratios", "chart-channels"}
    volume = json.loads(configs["chart-volume"])
    impressions = next(d for d in volume["data"]["datasets"] if d["label"] == "Impressions")
    assert sum(impressions["data"]) == sums.impressions  # the chart draws the same figures as the totals
    channels = json.loads(configs["chart-channels"])
    assert set(channels["data"]["labels"]) == {"email", "paid_media", "social", "web"}
    assert '<script src="/static/vendor/chartjs/chart.umd.min.js">' in html


def test_campaign_page_lists_the_approvals_and_audit_rows_that_concern_it(signed_in, demo_app: App) -> None:  # type: ignore[no-untyped-def]
    c = _by_name(demo_app, "Healthcare Vertical ABM")
    other = _by_name(demo_app, "Always-On Nurture Program")
    marker = f"raise-{uuid.uuid4().hex[:6]}"
    approval = ApprovalStore(demo_app.sessions).request(
        "acme", "spine", "update_campaign", {"campaign_id": c.id, "budget": "42000", "note": marker}, "maya.chen",
        "marketing-leadership", f"budget above threshold {marker}",
    )  # fmt: skip
    demo_app.audit_log().append(tenant_id="acme", actor="maya.chen", server="spine", tool=f"tool_{marker}",
                                decision="executed", detail={"campaign_id": c.id})  # fmt: skip
    html = signed_in("dana.reyes").get(f"/campaigns/{c.id}").text
    assert f"budget above threshold {marker}" in html and f"tool_{marker}" in html
    assert approval.approval_id[:8] in html or "spine.update_campaign" in html
    unrelated = signed_in("dana.reyes").get(f"/campaigns/{other.id}").text
    assert marker not in unrelated


def test_campaign_without_measurements_says_so(signed_in, demo_app: App) -> None:  # type: ignore[no-untyped-def]
    c = _by_name(demo_app, "Customer Summit 2026")
    html = signed_in("jordan.lee").get(f"/campaigns/{c.id}").text
    assert "No measurements yet." in html and "chart.umd.min.js" not in html
