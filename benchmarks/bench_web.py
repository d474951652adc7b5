"""Web app benchmark (issue 20 bar): server-side render of every page p95 <= 100 ms on the demo tenant.

The spine demo world on SQLite in a temporary home, plus 1,000 audit rows; each page is requested through the
whole ASGI stack (session, CSRF, security headers, repositories, Jinja) in-process, signed in as an approver.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from benchmarks.harness import Report, percentile
from mcc.settings import Settings
from mcc.web.app import create_web_app
from mcc.web.passwords import Passwords
from mcc.wiring import App
from spine.demo import load_demo
from spine.repositories import open_store
from spine.repositories.credentials import CredentialRepository

BAR_MS = 100.0
SAMPLES = 60
PASSWORD = "benchmark passphrase"


def _build(home: Path) -> tuple[App, list[str]]:
    settings = Settings(home=home, audit_key="b" * 40, web_session_secret="w" * 40)  # type: ignore[arg-type]
    app = App.open(settings)
    load_demo(app.sessions, today=dt.date.today())
    with open_store(app.sessions, "acme") as store:
        CredentialRepository(store.session, "acme").set_password_hash("dana.reyes", Passwords().hash(PASSWORD))
        campaign_ids = [c.id for c in store.campaigns.list()]
    log = app.audit_log()
    for i in range(1000):
        decision = "executed" if i % 7 else "denied"
        detail = {"campaign_id": campaign_ids[i % len(campaign_ids)]}
        log.append(tenant_id="acme", actor="maya.chen", server="spine", tool="update_campaign", decision=decision,
                   detail=detail)  # fmt: skip
    return app, campaign_ids


def main() -> int:
    report = Report("Web app: server-side render, demo tenant (SQLite, in-process ASGI)")
    report.notes.append(f"load average at start: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        app, campaign_ids = _build(Path(tmp))
        web = create_web_app(app)
        with TestClient(web, base_url="http://127.0.0.1", follow_redirects=False) as client:
            form = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
            token = form.group(1) if form else ""
            done = client.post("/login", data={"tenant": "acme", "user_id": "dana.reyes", "password": PASSWORD,
                                               "csrf_token": token})  # fmt: skip
            assert done.status_code == 303, done.text
            pages = {
                "/login (anonymous form)": ("/login", False),
                "/campaigns": ("/campaigns", False),
                "/campaigns filtered (htmx fragment)": ("/campaigns?status=launched&channel=email&q=a", True),
                "/audit": ("/audit", False),
                "/playbooks": ("/playbooks", False),
                "/playbooks/tier-1-campaign-playbook": ("/playbooks/tier-1-campaign-playbook", False),
            }
            # Every campaign page of the tenant; the slowest one carries the bar.
            worst: tuple[float, str] = (0.0, "")
            for cid in campaign_ids:
                lat = _time(client, f"/campaigns/{cid}", False, SAMPLES // 3)
                worst = max(worst, (percentile(lat, 95), cid))
            pages["/campaigns/{id} (slowest of all)"] = (f"/campaigns/{worst[1]}", False)
            anonymous = TestClient(web, base_url="http://127.0.0.1", follow_redirects=False)
            for name, (path, htmx) in pages.items():
                cpu: list[float] = []
                lat = _time(anonymous if name.startswith("/login") else client, path, htmx, SAMPLES, cpu)
                report.add(f"{name} p95", percentile(lat, 95), BAR_MS, "ms")
                report.notes.append(f"{name}: wall p50 {percentile(lat, 50):.1f} ms; CPU time p50 "
                                    f"{percentile(cpu, 50):.1f} / p95 {percentile(cpu, 95):.1f} ms")  # fmt: skip
            anonymous.close()
            # The chain check is a fragment the audit page loads after it renders; it walks the whole chain, so
            # its cost grows with the log: reported, not held to the page bar.
            lat = _time(client, "/audit/verify?fresh=true", True, SAMPLES // 3)
            report.notes.append(f"/audit/verify fragment (walks the whole chain, 1,000 rows): p50 "
                                f"{percentile(lat, 50):.1f} ms, p95 {percentile(lat, 95):.1f} ms (no bar)")  # fmt: skip
        app.close()
    return report.print()


def _time(client: TestClient, path: str, htmx: bool, n: int, cpu: list[float] | None = None) -> list[float]:
    """Milliseconds per GET of ``path``, measured around the ASGI app itself (request in, last body byte out)
    on one event loop, with the client's session cookie: no test-client thread hops in the figure. ``cpu``
    collects this process's CPU time per request (all threads): the wall time a quiet machine would show."""
    cpu = cpu if cpu is not None else []
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    headers = [(b"host", b"127.0.0.1"), (b"cookie", cookie.encode())]
    if htmx:
        headers.append((b"hx-request", b"true"))
    raw_path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80)}  # fmt: skip
    web = client.app

    async def once() -> None:
        status: list[int] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))  # type: ignore[call-overload]

        await web(dict(scope), receive, send)  # type: ignore[operator]
        if status != [200]:
            raise SystemExit(f"{path}: HTTP {status}")

    async def run() -> list[float]:
        for _ in range(5):
            await once()
        out = []
        for _ in range(n):
            t0, c0 = time.perf_counter(), time.process_time()
            await once()
            out.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        return out

    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
