"""Every route's authorization: anonymous, read-only user, approver, and a user of another tenant."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from mcc.wiring import App
from spine.repositories import open_store


def _campaign_id(app: App, tenant: str) -> str:
    with open_store(app.sessions, tenant) as store:
        return store.campaigns.list(limit=1)[0].id


PAGES = ["/campaigns", "/campaigns/{acme}", "/audit", "/audit/verify", "/playbooks",
         "/playbooks/tier-1-campaign-playbook"]  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_pages_redirect_to_sign_in_and_htmx_gets_401(path: str, web_client, demo_app) -> None:  # type: ignore[no-untyped-def]
    client = web_client()
    url = path.format(acme=_campaign_id(demo_app, "acme"))
    page = client.get(url)
    assert page.status_code == 303 and page.headers["location"] == f"/login?next={url}"
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 401 and fragment.headers["hx-redirect"].startswith("/login")
    api = client.get(url, headers={"Accept": "application/json"})
    assert api.status_code == 401


def test_home_redirects_by_sign_in_state(web_client, signed_in) -> None:  # type: ignore[no-untyped-def]
    assert web_client().get("/").headers["location"] == "/login"
    assert signed_in("maya.chen").get("/").status_code == 303


def test_read_only_user_reads_campaigns_and_playbooks_but_not_the_audit(signed_in, demo_app) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("sam.taylor")  # readonly-users
    cid = _campaign_id(demo_app, "acme")
    for path in ("/campaigns", f"/campaigns/{cid}", "/playbooks", "/playbooks/tier-1-campaign-playbook"):
        assert client.get(path).status_code == 200, path
    for path in ("/audit", "/audit/verify"):
        denied = client.get(path)
        assert denied.status_code == 403 and "marketing-leadership" in denied.text
    assert 'href="/audit"' not in client.get("/campaigns").text  # not offered in the navigation either


def test_approver_reads_the_audit_page_and_chain_status(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("dana.reyes")  # marketing-leadership
    page = client.get("/audit?server=web")
    assert page.status_code == 200 and 'hx-get="/audit/verify"' in page.text
    assert "web.sign_in" in page.text and "dana.reyes" in page.text  # her own sign-in is on record
    assert '<a href="/audit" aria-current="page">Audit</a>' in page.text
    status = client.get("/audit/verify", headers={"HX-Request": "true"})
    assert status.status_code == 200 and "Chain intact" in status.text


def test_other_tenant_campaign_is_not_found_for_a_user_of_another_tenant(signed_in, demo_app) -> None:  # type: ignore[no-untyped-def]
    acme_id = _campaign_id(demo_app, "acme")
    globex = signed_in("hank.scorpio", tenant="globex")
    assert globex.get(f"/campaigns/{acme_id}").status_code == 404
    listing = globex.get("/campaigns")
    with open_store(demo_app.sessions, "acme") as store:
        acme_names = [c.name for c in store.campaigns.list()]
    assert listing.status_code == 200 and not any(name in listing.text for name in acme_names)


def test_unknown_campaign_and_playbook_are_404(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("maya.chen")
    assert client.get("/campaigns/00000000-0000-4000-8000-000000000000").status_code == 404
    assert client.get("/playbooks/no-such-doc").status_code == 404
    assert client.get("/playbooks/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_static_assets_are_served_by_the_app_without_sign_in(web_client: Callable[[], TestClient]) -> None:
    client = web_client()
    for path in ("/static/vendor/htmx/htmx.min.js", "/static/vendor/htmx_ext_sse/sse.min.js",
                 "/static/vendor/chartjs/chart.umd.min.js", "/static/app.css", "/static/app.js"):  # fmt: skip
        assert client.get(path).status_code == 200, path
