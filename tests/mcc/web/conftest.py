"""Web app fixtures: the spine demo tenants (SQLite and PostgreSQL, built once per session), every demo user
with the password ``PASSWORD``, and ``TestClient``s that sign in through the real login form.

Other web tests reuse them: ``web_client()`` is an anonymous client; ``signed_in("maya.chen")`` a client signed
in as that acme user (``tenant="globex"`` for the other tenant); ``csrf_of(client)`` the client's CSRF token.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mcc.settings import Settings
from mcc.web.app import create_web_app
from mcc.web.passwords import Passwords
from mcc.web.throttle import MemoryCounters
from mcc.wiring import App
from spine.db import make_engine, make_session_factory
from spine.demo import load_demo
from spine.demo_data import DEMO_TENANT, OTHER_TENANT
from spine.migrate import upgrade
from spine.repositories import open_store
from spine.repositories.credentials import CredentialRepository
from tests.conftest import BACKENDS, _create_schema, _drop_schema, _postgres_base_url, _schema_url

PASSWORD = "correct horse battery staple"
TODAY = dt.date(2026, 11, 2)
# Cheap argon2 parameters: the tests check behaviour, not hashing cost.
FAST_PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def web_settings(home: Path, **overrides: object) -> Settings:
    return Settings(home=home, web_session_secret="s" * 40, audit_key="a" * 40, web_login_failures=3,  # type: ignore[arg-type]
                    **overrides)  # fmt: skip


def _seed(url: str) -> None:
    """Migrate, load the spine demo tenants and give every demo user ``PASSWORD``."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)
        load_demo(sessions, today=TODAY)
        hashed = FAST_PASSWORDS.hash(PASSWORD)
        for tenant in (DEMO_TENANT, OTHER_TENANT):
            with open_store(sessions, tenant) as store:
                creds = CredentialRepository(store.session, tenant)
                for user in store.directory.list_users():
                    creds.set_password_hash(user.user_id, hashed)
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def demo_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(backend, URL) of a demo database built once per session: SQLite a template file each test copies,
    PostgreSQL one schema the tests share (tests that change state add their own users or data)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("web-demo") / "demo.db"
        _seed(f"sqlite:///{path}")
        yield "sqlite", str(path)
        return
    base = _postgres_base_url()
    schema = f"w_{uuid.uuid4().hex[:12]}"
    _create_schema(base, schema)
    try:
        url = _schema_url(base, schema)
        _seed(url)
        yield "postgresql", url
    finally:
        _drop_schema(base, schema)


@pytest.fixture
def demo_app(demo_db: tuple[str, str], tmp_path: Path) -> Iterator[App]:
    """An App over the demo database (a private copy on SQLite) with passwords for every demo user."""
    backend, where = demo_db
    if backend == "sqlite":
        shutil.copyfile(where, tmp_path / "mcc.db")
        where = f"sqlite:///{tmp_path / 'mcc.db'}"
    engine = make_engine(where)
    try:
        yield App(settings=web_settings(tmp_path), engine=engine, sessions=make_session_factory(engine))
    finally:
        engine.dispose()


@pytest.fixture
def web(demo_app: App) -> FastAPI:
    return create_web_app(demo_app, passwords=FAST_PASSWORDS, throttle_store=MemoryCounters())


def csrf_of(client: TestClient, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page's form like a browser would."""
    page = client.get(path)
    match = _CSRF.search(page.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def sign_in_as(client: TestClient, user_id: str, tenant: str = DEMO_TENANT, password: str = PASSWORD) -> None:
    token = csrf_of(client)
    done = client.post("/login", data={"tenant": tenant, "user_id": user_id, "password": password,
                                       "csrf_token": token, "next": "/"}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text[:500]


@pytest.fixture
def web_client(web: FastAPI) -> Callable[[], TestClient]:
    clients: list[TestClient] = []

    def make() -> TestClient:
        client = TestClient(web, base_url="http://testserver", follow_redirects=False)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def signed_in(web_client: Callable[[], TestClient]) -> Callable[..., TestClient]:
    def make(user_id: str, tenant: str = DEMO_TENANT) -> TestClient:
        client = web_client()
        sign_in_as(client, user_id, tenant)
        return client

    return make


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A web test module with ``SQLITE_ONLY = True`` (HTTP behaviour, not storage) runs on the SQLite demo only;
    the shared session fixture is then built once, not once per module."""
    dropped = [
        item for item in items
        if getattr(getattr(item, "module", None), "SQLITE_ONLY", False)
        and getattr(getattr(item, "callspec", None), "params", {}).get("demo_db") == "postgresql"
    ]  # fmt: skip
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]
