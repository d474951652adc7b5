"""The audit page (tenant-scoped rows, filters, chain status that turns red on tampering) and playbook pages."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import update

from mcc.web.playbooks import section_url
from mcc.wiring import App
from spine.models.governance import AuditEntry


def _seed(app: App) -> str:
    marker = uuid.uuid4().hex[:8]
    log = app.audit_log()
    log.append(tenant_id="acme", actor="maya.chen", server="spine", tool=f"create_{marker}", decision="executed")
    log.append(tenant_id="acme", actor="omar.farouk", server="workfront", tool=f"delete_{marker}", decision="denied",
               rule_ids=["forbid-delete"])  # fmt: skip
    log.append(tenant_id="globex", actor="hank.scorpio", server="spine", tool=f"globex_{marker}", decision="executed")
    return marker


def test_audit_shows_only_the_tenants_rows_and_filters_them(signed_in, demo_app: App) -> None:  # type: ignore[no-untyped-def]
    marker = _seed(demo_app)
    client = signed_in("dana.reyes")
    page = client.get("/audit").text
    assert f"create_{marker}" in page and f"delete_{marker}" in page
    assert f"globex_{marker}" not in page  # another tenant's row
    denied = client.get("/audit?decision=denied").text
    assert f"delete_{marker}" in denied and f"create_{marker}" not in denied
    by_server = client.get("/audit?server=workfront").text
    assert f"delete_{marker}" in by_server and f"create_{marker}" not in by_server
    by_text = client.get(f"/audit?q=create_{marker}", headers={"HX-Request": "true"})
    assert "<html" not in by_text.text and f"create_{marker}" in by_text.text
    assert f"delete_{marker}" not in by_text.text
    assert f"create_{marker}" not in client.get("/audit?actor=omar.farouk").text


def test_chain_status_reports_tampering(signed_in, demo_app: App) -> None:  # type: ignore[no-untyped-def]
    marker = _seed(demo_app)
    client = signed_in("victor.hale")
    assert "Chain intact" in client.get("/audit/verify?fresh=true").text
    with demo_app.sessions.begin() as s:
        s.execute(update(AuditEntry).where(AuditEntry.tool == f"create_{marker}").values(actor="someone.else"))
    cached = client.get("/audit/verify", headers={"HX-Request": "true"}).text
    assert "Chain intact" in cached  # the minute-old result is reused...
    status = client.get("/audit/verify?fresh=true", headers={"HX-Request": "true"}).text
    assert "Chain check failed" in status and "edited" in status  # ...until the reader asks for a fresh walk
    with demo_app.sessions.begin() as s:  # put it back: the PostgreSQL demo database is shared
        s.execute(update(AuditEntry).where(AuditEntry.tool == f"create_{marker}").values(actor="maya.chen"))
    assert "Chain intact" in client.get("/audit/verify?fresh=true").text


def test_playbook_pages_have_anchored_sections(signed_in: Callable[..., TestClient]) -> None:
    client = signed_in("maya.chen")
    index = client.get("/playbooks").text
    assert 'href="/playbooks/tier-1-campaign-playbook"' in index
    page = client.get("/playbooks/tier-1-campaign-playbook").text
    assert '<h3 id="qualification-criteria">Qualification criteria</h3>' in page
    assert 'href="#qualification-criteria"' in page  # the section list links to it
    url = section_url("tier-1-campaign-playbook", ["Tier 1 Campaign Playbook", "Scope and qualification",
                                                   "Qualification criteria"])  # fmt: skip
    assert url == "/playbooks/tier-1-campaign-playbook#qualification-criteria"
    ids = re.findall(r'<h[1-6] id="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # repeated headings get distinct anchors


def test_raw_html_in_a_playbook_is_escaped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mcc.web.playbooks import render_playbook

    doc = tmp_path / "x.md"
    doc.write_text("---\ntitle: X\n---\n# X\n\n<script>alert(1)</script>\n\n## Same\n\n## Same\n", encoding="utf-8")
    rendered = render_playbook(doc)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert [h.anchor for h in rendered.headings] == ["x", "same", "same-2"]
