"""Attacks on the knowledge base: a symlink smuggling a host file into an ingest, and one tenant reading another
tenant's documents through search_playbooks, answer_question and get_document (real guarded server, real Chroma
store, a fast deterministic embedder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from knowledge.service import KnowledgeBase
from spine.db import make_session_factory
from tests.knowledge.conftest import HashingEmbedder, write_playbook
from tests.security.conftest import call_server, knowledge_server

SECRET = "The acme launch code word is marmalade-seventeen and the partner discount is 42 percent."
SHARED = "Every campaign brief names one accountable owner and a launch date agreed with the channel leads."


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    kb = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=HashingEmbedder())
    shared, acme = tmp_path / "shared", tmp_path / "acme-docs"
    shared.mkdir()
    acme.mkdir()
    write_playbook(shared, "brief-basics", "Brief Basics", f"## Owners\n\n{SHARED}", domain="campaign_playbooks")
    write_playbook(acme, "acme-secrets", "Acme Launch Secrets", f"## Code word\n\n{SECRET}", domain="general")
    kb.ingest([shared])
    kb.ingest([acme], tenant_id="acme")
    return kb


def test_a_symlink_to_a_host_file_is_refused_not_ingested(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd.txt").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    folder = tmp_path / "docs"
    folder.mkdir()
    write_playbook(folder, "ok", "Fine Doc", "## A\n\nA fine playbook paragraph about briefs.")
    os.symlink(outside / "passwd.txt", folder / "passwd.txt")  # a file link out of the folder
    os.symlink("/etc/passwd", folder / "system.md")
    os.symlink(outside, folder / "elsewhere")  # a directory link out of the folder
    (outside / "more.md").write_text("# More\n\nsecret material", encoding="utf-8")
    kb = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=HashingEmbedder())

    report = kb.ingest([folder], tenant_id="acme")

    refused = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(refused) == {"passwd.txt", "system.md", "elsewhere"}
    assert all("symbolic link" in r and "refused" in r for r in refused.values())
    assert [Path(p).name for p in report.added] == ["ok.md"]
    texts = [d.text for d in kb.list_documents(_acme())]
    assert not any("root:x:0" in t or "secret material" in t for t in texts)


def test_an_explicitly_named_symlink_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "notes.txt"
    os.symlink("/etc/passwd", link)
    kb = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=HashingEmbedder())
    report = kb.ingest([link], tenant_id="acme")
    assert report.added == [] and "symbolic link" in report.skipped[0].reason


def test_a_link_inside_the_folder_is_still_ingested_once(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    write_playbook(folder, "real", "Real Doc", "## A\n\nBriefs are due on Mondays.")
    os.symlink(folder / "real.md", folder / "alias.md")
    kb = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=HashingEmbedder())
    report = kb.ingest([folder])
    assert len(report.added) == 1 and report.skipped == []


def _acme():  # type: ignore[no-untyped-def]
    from knowledge.models import Audience

    return Audience(tenant_id="acme")


async def test_another_tenant_cannot_search_answer_or_read_a_tenant_document(kb: KnowledgeBase, engine: Engine) -> None:
    sessions = make_session_factory(engine)
    globex = knowledge_server(kb, sessions, "frank.grimes", "globex")

    ok, found = await call_server(
        globex, "search_playbooks", {"query": "acme launch code word partner discount", "k": 20}
    )
    assert ok and all(h["doc_id"] != "acme-secrets" and "marmalade" not in h["text"] for h in found["hits"])
    assert found["hits"] and all(h["scope"] == "shared" and h["tenant"] is None for h in found["hits"])

    ok, answer = await call_server(globex, "answer_question", {"question": "What is the acme launch code word?"})
    assert ok and "marmalade" not in answer["answer"]
    assert all(c["doc_id"] != "acme-secrets" for c in answer["citations"])

    ok_foreign, foreign = await call_server(globex, "get_document", {"doc_id": "acme-secrets"})
    ok_unknown, unknown = await call_server(globex, "get_document", {"doc_id": "no-such-doc"})
    assert not ok_foreign and not ok_unknown and "marmalade" not in foreign
    # a foreign doc_id is answered exactly like an unknown one: same code, field and message shape
    assert foreign.replace("acme-secrets", "X") == unknown.replace("no-such-doc", "X")


async def test_the_owning_tenant_reads_its_document_labelled_tenant_and_shared_ones_labelled_shared(
    kb: KnowledgeBase, engine: Engine
) -> None:
    acme = knowledge_server(kb, make_session_factory(engine), "maya.chen", "acme")
    ok, found = await call_server(acme, "search_playbooks", {"query": "launch code word partner discount", "k": 5})
    assert ok and found["hits"][0]["doc_id"] == "acme-secrets"
    assert found["hits"][0]["scope"] == "tenant" and found["hits"][0]["tenant"] == "acme"
    ok, found = await call_server(acme, "search_playbooks", {"query": "accountable owner brief launch date", "k": 5})
    assert ok and found["hits"][0]["doc_id"] == "brief-basics" and found["hits"][0]["scope"] == "shared"
    ok, answer = await call_server(acme, "answer_question", {"question": "What is the launch code word for acme?"})
    assert ok and answer["answered"] and "marmalade" in answer["answer"]
    assert answer["citations"][0]["scope"] == "tenant" and answer["citations"][0]["tenant"] == "acme"
    ok, doc = await call_server(acme, "get_document", {"doc_id": "acme-secrets"})
    assert ok and doc["scope"] == "tenant" and doc["tenant"] == "acme" and "marmalade" in doc["text"]


async def test_without_shared_playbooks_a_tenant_reads_only_its_own(kb: KnowledgeBase, engine: Engine) -> None:
    sessions = make_session_factory(engine)
    acme = knowledge_server(kb, sessions, "maya.chen", "acme", shared=False)
    ok, found = await call_server(acme, "search_playbooks", {"query": "accountable owner brief launch date", "k": 10})
    assert ok and found["hits"] and all(h["scope"] == "tenant" for h in found["hits"])
    globex = knowledge_server(kb, sessions, "frank.grimes", "globex", shared=False)
    ok, found = await call_server(globex, "search_playbooks", {"query": "accountable owner brief launch date", "k": 10})
    assert ok and found["hits"] == []


def test_the_same_file_in_two_scopes_is_two_documents_and_removal_stays_in_its_scope(tmp_path: Path) -> None:
    from knowledge.models import Audience

    folder = tmp_path / "docs"
    folder.mkdir()
    path = write_playbook(folder, "shared-doc", "Shared Doc", "## A\n\nBriefs are due on Mondays.")
    kb = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=HashingEmbedder())
    kb.ingest([folder])
    kb.ingest([folder], tenant_id="acme")
    assert {d.scope for d in kb.list_documents(Audience(tenant_id="acme"))} == {"shared", "tenant"}
    assert [d.scope for d in kb.list_documents(Audience(tenant_id="globex"))] == ["shared"]
    path.unlink()
    report = kb.ingest([folder], tenant_id="acme")
    assert len(report.removed) == 1
    assert [d.scope for d in kb.list_documents(Audience(tenant_id="acme"))] == ["shared"]  # shared copy untouched
