"""Approvals pages: server-side render time of the inbox and of one approval's page, and one sweep pass.

Bar (issue 20): every page renders server-side in p95 <= 100 ms on the demo tenant. Measured in process through the
real web app (FastAPI TestClient: routing, session, CSRF, templates, database) on the demo world (SQLite) with
PENDING open approvals of the tenant, as a VP who may decide all of them (the largest inbox).

    .venv/bin/python -m benchmarks.bench_web_approvals
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from benchmarks.harness import Report, percentile, time_calls

RENDER_BAR_MS = 100.0
PENDING = 25
PASSWORD = "bench-web-approvals-password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def main() -> int:
    from argon2 import PasswordHasher

    from mcc.approvals_service import desk, sweep
    from mcc.settings import Settings
    from mcc.web.app import create_web_app
    from mcc.web.passwords import Passwords
    from mcc.web.throttle import MemoryCounters
    from mcc.wiring import App
    from spine.demo import load_demo
    from spine.repositories import open_store
    from spine.repositories.credentials import CredentialRepository

    with tempfile.TemporaryDirectory() as tmp:
        app = App.open(Settings(home=Path(tmp), web_session_secret="b" * 40))  # type: ignore[arg-type]
        load_demo(app.sessions)
        passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        with open_store(app.sessions, "acme") as store:
            CredentialRepository(store.session, "acme").set_password_hash("victor.hale", passwords.hash(PASSWORD))
        d = desk(app)
        ids = [
            d.request("acme", "spine", "create_campaign",
                      {"name": f"Bench {i}", "budget_planned": {"amount": str(20000 + i), "currency": "EUR"},
                       "launch_date": "2027-03-01"}, "maya.chen", "marketing-leadership", "budget over 10k",
                      ["budget.leadership_approval"]).approval_id
            for i in range(PENDING)
        ]  # fmt: skip
        web = create_web_app(app, passwords=passwords, throttle_store=MemoryCounters())
        client = TestClient(web, follow_redirects=False)
        token = _CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"tenant": "acme", "user_id": "victor.hale", "password": PASSWORD,
                                    "csrf_token": token, "next": "/"})  # fmt: skip

        def inbox() -> None:
            r = client.get("/approvals")
            assert r.status_code == 200 and ids[-1] in r.text

        def detail() -> None:
            assert client.get(f"/approvals/{ids[0]}").status_code == 200

        def status() -> None:
            assert client.get(f"/approvals/{ids[0]}/status").status_code == 200

        inbox_ms, detail_ms, status_ms = time_calls(inbox, 60), time_calls(detail, 60), time_calls(status, 60)
        t0 = time.perf_counter()
        report_sweep, _ = sweep(app, deliver=False)
        sweep_ms = (time.perf_counter() - t0) * 1000
        client.close()
        app.close()
    report = Report(f"Approvals pages (demo tenant, {PENDING} pending approvals, in process)")
    report.add("inbox render p95", percentile(inbox_ms, 95), RENDER_BAR_MS, "ms")
    report.add("approval page render p95", percentile(detail_ms, 95), RENDER_BAR_MS, "ms")
    report.add("status JSON p95", percentile(status_ms, 95), RENDER_BAR_MS, "ms")
    report.notes.append(
        f"p50 inbox {statistics.median(inbox_ms):.1f} ms, page {statistics.median(detail_ms):.1f} ms; first sweep "
        f"({report_sweep.notified} approvals, no channels) {sweep_ms:.0f} ms"
    )
    return report.print()


if __name__ == "__main__":
    sys.exit(main())
