"""Audit: the tenant's recent decisions with filters, and the chain-verification status (fragment, htmx).

Leadership and VPs (the approvers) read it; other groups get 403. Verification walks the whole chain, so it is
its own request the page loads after rendering (the page stays fast while the check runs), and its result is
reused for a minute unless the reader asks for a fresh check.
"""

from __future__ import annotations

import datetime as dt
import threading

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response

from mcc.web.rendering import NavItem, is_htmx, render
from mcc.web.security import WebPrincipal, mcc_app, require_group
from mcc.wiring import App
from spine.audit import VerifyReport
from spine.audit_search import AuditFilter, AuditSearch

router = APIRouter()
AUDIT_READERS = ("marketing-leadership", "vp")
NAV = NavItem(40, "Audit", "/audit", AUDIT_READERS)
PERIODS = {"": None, "1d": 1, "7d": 7, "30d": 30}


@router.get("/audit")
def audit(request: Request, decision: str = "", server: str = "", actor: str = "", q: str = "", period: str = "",
          principal: WebPrincipal = Depends(require_group(*AUDIT_READERS))) -> Response:  # fmt: skip
    search = AuditSearch(mcc_app(request).sessions, principal.tenant_id)
    facets = search.facets()
    days = PERIODS.get(period)
    where = AuditFilter(
        decision=decision if decision in facets["decision"] else None,
        server=server if server in facets["server"] else None,
        actor=actor.strip()[:128] or None,
        text=q.strip()[:200] or None,
        since=dt.datetime.now(dt.UTC) - dt.timedelta(days=days) if days else None,
    )
    entries = search.recent(where, limit=100)
    context = {"title": "Audit", "entries": entries, "facets": facets, "where": where, "period": period,
               "periods": list(PERIODS)}  # fmt: skip
    return render(request, "audit/_results.html" if is_htmx(request) else "audit/page.html", context)


@router.get("/audit/verify")
def verify(request: Request, fresh: bool = False,
           principal: WebPrincipal = Depends(require_group(*AUDIT_READERS))) -> Response:  # fmt: skip
    """The hash chain's status, walked with this process's audit key at most once a minute (``fresh``: now).
    Problems are shown by seq and kind only: the chain is shared by all tenants, their rows' content is not."""
    status: ChainStatus = request.app.state.chain_status
    report, checked_at = status.get(mcc_app(request), fresh=fresh)
    template = "audit/_verify.html" if is_htmx(request) else "audit/verify_page.html"
    return render(request, template, {"title": "Audit chain", "report": report, "checked_at": checked_at})


class ChainStatus:
    """The last verification of the chain, reused for ``max_age`` (the walk grows with the log; viewers do not)."""

    def __init__(self, max_age: dt.timedelta = dt.timedelta(minutes=1)) -> None:
        self._max_age = max_age
        self._lock = threading.Lock()
        self._last: tuple[VerifyReport, dt.datetime] | None = None

    def get(self, app: App, *, fresh: bool = False) -> tuple[VerifyReport, dt.datetime]:
        with self._lock:  # one walk at a time; a second viewer waits for it and reuses it
            now = dt.datetime.now(dt.UTC)
            if fresh or self._last is None or now - self._last[1] > self._max_age:
                self._last = (app.audit_log().verify(), now)
            return self._last


def setup(web: FastAPI, app: App) -> None:
    web.state.chain_status = ChainStatus()
