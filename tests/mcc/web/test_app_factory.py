"""How a route module plugs into the app: router, NAV (with groups), setup and lifespan are all picked up."""

from __future__ import annotations

import pkgutil
import sys
import types
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from mcc.web import app as app_module
from mcc.web.app import create_web_app
from mcc.web.rendering import NavItem
from mcc.web.security import WebPrincipal, require_group
from mcc.web.throttle import MemoryCounters
from tests.mcc.web.conftest import FAST_PASSWORDS, sign_in_as

SQLITE_ONLY = True  # see conftest.pytest_collection_modifyitems


def _fake_module(events: list[str]) -> types.ModuleType:
    module = types.ModuleType("mcc.web.routes.zz_example")
    module.router = APIRouter()  # type: ignore[attr-defined]

    @module.router.get("/example")  # type: ignore[attr-defined]
    def example(principal: WebPrincipal = Depends(require_group("vp"))) -> dict[str, str]:
        return {"user": principal.user_id}

    def setup(web: FastAPI, app: object) -> None:
        web.state.example = "ready"

    @asynccontextmanager
    async def lifespan(web: FastAPI) -> AsyncIterator[None]:
        events.append(f"start:{web.state.example}")
        yield
        events.append("stop")

    module.NAV = NavItem(25, "Example", "/example", ("vp",))  # type: ignore[attr-defined]
    module.setup = setup  # type: ignore[attr-defined]
    module.lifespan = lifespan  # type: ignore[attr-defined]
    return module


def test_a_route_module_registers_its_router_nav_setup_and_lifespan(demo_app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    events: list[str] = []
    monkeypatch.setitem(sys.modules, "mcc.web.routes.zz_example", _fake_module(events))
    real = pkgutil.iter_modules

    def with_example(path):  # type: ignore[no-untyped-def]
        yield from real(path)
        yield pkgutil.ModuleInfo(None, "zz_example", False)  # type: ignore[arg-type]

    monkeypatch.setattr(app_module.pkgutil, "iter_modules", with_example)
    web = create_web_app(demo_app, passwords=FAST_PASSWORDS, throttle_store=MemoryCounters())
    with TestClient(web, base_url="http://testserver", follow_redirects=False) as vp:
        assert events == ["start:ready"]
        sign_in_as(vp, "victor.hale")
        assert vp.get("/example").json() == {"user": "victor.hale"}
        assert '<a href="/example">Example</a>' in vp.get("/campaigns").text
        with TestClient(web, base_url="http://testserver", follow_redirects=False) as manager:
            sign_in_as(manager, "maya.chen")
            assert manager.get("/example").status_code == 403
            assert 'href="/example"' not in manager.get("/campaigns").text
    assert events[-1] == "stop"
