"""Sign-in, sessions, CSRF and login throttling of the web app, through the real HTTP surface."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient

from spine.repositories import open_store
from tests.mcc.web.conftest import FAST_PASSWORDS, PASSWORD, csrf_of, sign_in_as

# HTTP behaviour; the credential store itself runs on both databases in tests/spine/test_web_reads.py.
SQLITE_ONLY = True  # see conftest.pytest_collection_modifyitems


def _login(client: TestClient, user: str, password: str, tenant: str = "acme", token: str | None = None):  # type: ignore[no-untyped-def]
    token = token if token is not None else csrf_of(client)
    return client.post("/login", data={"tenant": tenant, "user_id": user, "password": password,
                                       "csrf_token": token, "next": "/campaigns"})  # fmt: skip


def test_sign_in_sets_a_hardened_session_cookie_and_lands_on_next(web_client: Callable[[], TestClient]) -> None:
    client = web_client()
    done = _login(client, "maya.chen", PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/campaigns"
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # http: not Secure
    page = client.get("/campaigns")
    assert page.status_code == 200 and "Maya Chen" in page.text


def test_wrong_password_unknown_user_and_other_tenant_are_refused_alike(web_client: Callable[[], TestClient]) -> None:
    client = web_client()
    for user, tenant in (("maya.chen", "acme"), ("nobody", "acme"), ("maya.chen", "globex"), ("x", "no-such")):
        password = "wrong password here" if user == "maya.chen" and tenant == "acme" else PASSWORD
        done = _login(client, user, password, tenant)
        assert done.status_code == 401, (user, tenant)
        assert "Unknown user or wrong password." in done.text
    assert client.get("/campaigns").status_code == 303  # still anonymous


def test_sign_ins_are_audited_without_the_password(web_client, demo_app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from spine.models.governance import AuditEntry

    user_id = _new_user(demo_app, PASSWORD)
    client = web_client()
    _login(client, user_id, "wrong password here")
    _login(client, "typed-my-password-here", PASSWORD)  # no such user: nothing recorded
    _login(client, user_id, PASSWORD)
    with demo_app.sessions() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.server == "web", AuditEntry.actor.in_(
            [user_id, "typed-my-password-here"])).order_by(AuditEntry.seq)).all()  # fmt: skip
    assert [(r.actor, r.decision) for r in rows] == [(user_id, "denied"), (user_id, "executed")]
    assert all(PASSWORD not in str(r.detail) for r in rows)


def _new_user(app, password: str | None) -> str:  # type: ignore[no-untyped-def]
    """A fresh acme user (unique id: the PostgreSQL demo database is shared by the tests)."""
    from spine.repositories.credentials import CredentialRepository

    user_id = f"temp.{uuid.uuid4().hex[:8]}"
    with open_store(app.sessions, "acme") as store:
        store.directory.add_user({"user_id": user_id, "display_name": "Temp User", "email": f"{user_id}@acme.test",
                                  "groups": ["campaign-managers"]})  # fmt: skip
        if password is not None:
            CredentialRepository(store.session, "acme").set_password_hash(user_id, FAST_PASSWORDS.hash(password))
    return user_id


def test_a_user_without_a_password_cannot_sign_in(web_client, demo_app) -> None:  # type: ignore[no-untyped-def]
    user_id = _new_user(demo_app, None)
    assert _login(web_client(), user_id, PASSWORD).status_code == 401


def test_secure_cookie_when_served_over_https(demo_app) -> None:  # type: ignore[no-untyped-def]
    from mcc.web.app import create_web_app
    from mcc.web.throttle import MemoryCounters
    from tests.mcc.web.conftest import FAST_PASSWORDS

    web = create_web_app(demo_app, secure_cookies=True, passwords=FAST_PASSWORDS, throttle_store=MemoryCounters())
    with TestClient(web, base_url="https://testserver", follow_redirects=False) as client:
        done = _login(client, "maya.chen", PASSWORD)
        assert done.status_code == 303 and "secure" in done.headers["set-cookie"].lower()


def test_login_post_without_or_with_a_wrong_csrf_token_is_403(web_client: Callable[[], TestClient]) -> None:
    client = web_client()
    csrf_of(client)  # the session exists: only the token is missing
    no_token = client.post("/login", data={"tenant": "acme", "user_id": "maya.chen", "password": PASSWORD})
    wrong = _login(client, "maya.chen", PASSWORD, token="forged-token")
    header_wrong = client.post("/login", headers={"X-CSRF-Token": "forged"},
                               data={"tenant": "acme", "user_id": "maya.chen", "password": PASSWORD})  # fmt: skip
    assert (no_token.status_code, wrong.status_code, header_wrong.status_code) == (403, 403, 403)
    assert client.get("/campaigns").status_code == 303


def test_csrf_token_of_another_session_does_not_work(web_client: Callable[[], TestClient]) -> None:
    attacker, victim = web_client(), web_client()
    sign_in_as(victim, "maya.chen")
    stolen_elsewhere = csrf_of(attacker)
    done = victim.post("/logout", data={"csrf_token": stolen_elsewhere})
    assert done.status_code == 403
    assert victim.get("/campaigns").status_code == 200  # still signed in


def test_htmx_posts_carry_the_token_in_a_header(signed_in: Callable[..., TestClient]) -> None:
    client = signed_in("maya.chen")
    token = csrf_of(client, "/campaigns")
    assert client.post("/logout", headers={"X-CSRF-Token": token, "HX-Request": "true"}).status_code == 303
    assert client.get("/campaigns").status_code == 303  # signed out


def test_logout_ends_the_session(signed_in: Callable[..., TestClient]) -> None:
    client = signed_in("dana.reyes")
    token = csrf_of(client, "/campaigns")
    done = client.post("/logout", data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert client.get("/campaigns").headers["location"].startswith("/login")


def test_login_is_throttled_per_account_even_for_the_right_password(web_client: Callable[[], TestClient]) -> None:
    client = web_client()
    for _ in range(3):  # web_login_failures=3 in the test settings
        assert _login(client, "dana.reyes", "not the password!").status_code == 401
    blocked = _login(client, "dana.reyes", PASSWORD)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in blocked.text
    other = _login(web_client(), "maya.chen", PASSWORD)  # another account is not locked by dana's failures
    assert other.status_code == 303


def test_removed_user_loses_the_session_at_once(web_client, demo_app) -> None:  # type: ignore[no-untyped-def]
    user_id = _new_user(demo_app, PASSWORD)
    client = web_client()
    sign_in_as(client, user_id)
    assert client.get("/campaigns").status_code == 200
    with open_store(demo_app.sessions, "acme") as store:
        store.directory.remove_user(user_id)
    assert client.get("/campaigns").status_code == 303


def test_next_never_redirects_off_site(web_client: Callable[[], TestClient]) -> None:
    client = web_client()
    token = csrf_of(client)
    done = client.post("/login", data={"tenant": "acme", "user_id": "maya.chen", "password": PASSWORD,
                                       "csrf_token": token, "next": "//evil.example/x"})  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/"


def test_pages_send_a_strict_content_security_policy(web_client: Callable[[], TestClient]) -> None:
    page = web_client().get("/login")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text  # no inline script: the CSP would block it


def test_one_client_address_guessing_many_accounts_is_throttled(web_client: Callable[[], TestClient]) -> None:
    client = web_client()
    for i in range(12):  # 4 x web_login_failures (3), each account failing once only
        assert _login(client, f"guess.{i}", "not the password!").status_code == 401
    blocked = _login(client, "maya.chen", PASSWORD)
    assert blocked.status_code == 429


def test_sign_out_ends_the_users_sessions_everywhere(web_client: Callable[[], TestClient]) -> None:
    laptop, phone = web_client(), web_client()
    sign_in_as(laptop, "omar.farouk")
    sign_in_as(phone, "omar.farouk")
    stolen = dict(phone.cookies)
    assert phone.get("/campaigns").status_code == 200
    laptop.post("/logout", data={"csrf_token": csrf_of(laptop, "/campaigns")})
    assert phone.get("/campaigns").status_code == 303  # the other session ended too
    replay = web_client()
    replay.cookies.update(stolen)
    assert replay.get("/campaigns").status_code == 303  # a copied cookie is worthless now
    again = web_client()
    sign_in_as(again, "omar.farouk")  # signing in afterwards works
    assert again.get("/campaigns").status_code == 200


def test_a_new_password_ends_the_sessions_of_the_old_one(web_client, demo_app) -> None:  # type: ignore[no-untyped-def]
    from spine.repositories.credentials import CredentialRepository

    user_id = _new_user(demo_app, PASSWORD)
    client = web_client()
    sign_in_as(client, user_id)
    with open_store(demo_app.sessions, "acme") as store:
        CredentialRepository(store.session, "acme").set_password_hash(user_id, FAST_PASSWORDS.hash("another long one"))
    assert client.get("/campaigns").status_code == 303
