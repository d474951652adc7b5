"""OIDC sign-in against a local provider: groups from a claim narrow the directory, forgeries are refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import RSAKey

from mcc.settings import OidcProvider
from mcc.web.app import create_web_app
from mcc.web.throttle import MemoryCounters
from mcc.wiring import App
from tests.mcc.web.conftest import FAST_PASSWORDS, web_settings
from tests.mcc.web.oidc_issuer import CLIENT_ID, CLIENT_SECRET, OidcIssuer

# Sign-in logic does not depend on the database: SQLite only keeps the suite fast.
SQLITE_ONLY = True  # see conftest.pytest_collection_modifyitems


@pytest.fixture(scope="module")
def issuer() -> Iterator[OidcIssuer]:
    found = OidcIssuer()
    found.start()
    yield found
    found.stop()


@pytest.fixture
def oidc_client(demo_app: App, issuer: OidcIssuer, tmp_path) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    issuer.claims, issuer.signing_key, issuer.metadata_issuer = {}, issuer.key, None
    provider = OidcProvider(
        name="corp", label="Sign in with Corp SSO", issuer=issuer.url, client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET, tenant="acme", user_claim="email",
        users={"dana@acme.test": "dana.reyes", "sam@acme.test": "sam.taylor", "victor@acme.test": "victor.hale"},
        group_claim="groups", groups={"mkt-leads": "marketing-leadership", "readers": "readonly-users"},
    )  # fmt: skip
    settings = web_settings(tmp_path, web_oidc=[provider])
    app = App(settings=settings, engine=demo_app.engine, sessions=demo_app.sessions)
    web = create_web_app(app, passwords=FAST_PASSWORDS, throttle_store=MemoryCounters())
    with TestClient(web, base_url="http://testserver", follow_redirects=False) as client:
        yield client


def _sso(client: TestClient, issuer: OidcIssuer, claims: dict[str, Any]) -> httpx.Response:
    """Start at the app, let the provider answer, come back to the callback: what a browser does."""
    issuer.claims = claims
    start = client.get("/oidc/corp/start?next=/audit")
    assert start.status_code == 302 and start.headers["location"].startswith(f"{issuer.url}/authorize?")
    answer = httpx.get(start.headers["location"], follow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = answer.headers["location"]
    assert back.startswith("http://testserver/oidc/corp/callback?")
    return client.get(back.removeprefix("http://testserver"))


def test_sign_in_page_offers_the_provider(oidc_client: TestClient) -> None:
    page = oidc_client.get("/login")
    assert "Sign in with Corp SSO" in page.text and 'href="/oidc/corp/start?next=' in page.text


def test_oidc_sign_in_maps_the_claim_to_the_directory_user(oidc_client: TestClient, issuer: OidcIssuer) -> None:
    done = _sso(oidc_client, issuer, {"email": "dana@acme.test", "groups": ["mkt-leads", "unrelated"]})
    assert done.status_code == 303 and done.headers["location"] == "/audit"
    page = oidc_client.get("/audit")
    assert page.status_code == 200 and "Dana Reyes" in page.text


def test_group_claim_narrows_the_directory_groups(oidc_client: TestClient, issuer: OidcIssuer) -> None:
    # victor is vp + marketing-leadership in the directory; the provider grants only "readers".
    assert _sso(oidc_client, issuer, {"email": "victor@acme.test", "groups": ["readers"]}).status_code == 303
    assert oidc_client.get("/audit").status_code == 403
    assert oidc_client.get("/campaigns").status_code == 200


def test_group_claim_never_widens_the_directory_groups(oidc_client: TestClient, issuer: OidcIssuer) -> None:
    # sam is readonly in the directory; a provider claiming leadership does not make him one.
    assert _sso(oidc_client, issuer, {"email": "sam@acme.test", "groups": ["mkt-leads"]}).status_code == 303
    assert oidc_client.get("/audit").status_code == 403


@pytest.mark.parametrize(
    "claims",
    [
        {"email": "mallory@acme.test", "groups": ["mkt-leads"]},  # not mapped to any MCC user
        {"email": "dana@acme.test"},  # the configured group claim is missing
        {"email": "dana@acme.test", "groups": "mkt-leads"},  # not a list
        {"groups": ["mkt-leads"]},  # no user claim
    ],
)
def test_unmapped_or_malformed_claims_are_refused(oidc_client: TestClient, issuer: OidcIssuer, claims) -> None:  # type: ignore[no-untyped-def]
    refused = _sso(oidc_client, issuer, claims)
    assert refused.status_code == 401 and "Single sign-on failed" in refused.text
    assert oidc_client.get("/campaigns").status_code == 303  # no session


def test_a_token_signed_with_another_key_is_refused(oidc_client: TestClient, issuer: OidcIssuer) -> None:
    issuer.signing_key = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same kid, not the issuer's key
    refused = _sso(oidc_client, issuer, {"email": "dana@acme.test", "groups": ["mkt-leads"]})
    assert refused.status_code == 401
    assert oidc_client.get("/audit").status_code == 303


def test_a_callback_without_its_state_in_the_session_is_refused(oidc_client: TestClient, issuer: OidcIssuer,
                                                                web_client) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    issuer.claims = {"email": "dana@acme.test", "groups": ["mkt-leads"]}
    start = oidc_client.get("/oidc/corp/start")
    back = httpx.get(start.headers["location"], follow_redirects=False).headers["location"]
    with TestClient(oidc_client.app, base_url="http://testserver", follow_redirects=False) as stranger:
        # Login CSRF: the victim's browser lands on the attacker's callback URL; its session holds no state.
        assert stranger.get(back.removeprefix("http://testserver")).status_code == 401
        assert stranger.get("/campaigns").status_code == 303


def test_metadata_naming_another_issuer_is_refused(oidc_client: TestClient, issuer: OidcIssuer) -> None:
    issuer.metadata_issuer = "https://evil.example"
    refused = _sso(oidc_client, issuer, {"email": "dana@acme.test", "groups": ["mkt-leads"]})
    assert refused.status_code == 401


def test_unknown_provider_is_404(oidc_client: TestClient) -> None:
    assert oidc_client.get("/oidc/nope/start").status_code == 404
