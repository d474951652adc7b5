"""Incremental ingest, bad input, crash consistency, documents and filters (fast: hashing embedder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.service import KnowledgeBase
from tests.knowledge.conftest import HashingEmbedder, minimal_pdf, write_playbook


def _corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    events = "event_standards"
    write_playbook(root, "t1-events", "Tier 1 Events", "## Booth\n\nMinimum booth 400 sq ft.", events, "1")
    write_playbook(root, "t2-events", "Tier 2 Events", "## Budget\n\nGiveaways cost $8 per unit.", events, "2")
    write_playbook(root, "brand", "Brand Voice", "## Claims\n\nSuperlatives need a source.", "brand_guidelines")
    (root / "notes.txt").write_text("Plain text notes about webinars.", encoding="utf-8")
    (root / "page.html").write_text("<h1>Page</h1><h2>Email</h2><p>Subject lines: 50 characters.</p>", encoding="utf-8")
    (root / "policy.pdf").write_bytes(minimal_pdf(["Net 45 payment terms for invoices."]))
    return root


def _consistent(kb: KnowledgeBase) -> None:
    """Every chunk belongs to a manifest entry with the same file hash, and counts match."""
    manifest = kb.store.manifest()
    chunks = kb.store.all_chunks()
    assert sum(e.chunk_count for e in manifest.values()) == len(chunks)
    for c in chunks:
        assert manifest[c.meta["source_path"]].file_hash == c.meta["file_hash"]


def test_ingest_is_incremental(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "docs")
    emb = HashingEmbedder()
    kb = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=emb)
    first = kb.ingest([root])
    assert len(first.added) == 6 and not first.skipped and first.chunks_written == kb.store.count()

    second = kb.ingest([root])
    assert len(second.unchanged) == 6 and second.chunks_written == 0 and not second.added

    write_playbook(root, "brand", "Brand Voice", "## Claims\n\nSuperlatives need a source from the last 18 months.")
    (root / "notes.txt").unlink()
    third = kb.ingest([root])
    assert [Path(p).name for p in third.updated] == ["brand.md"]
    assert [Path(p).name for p in third.removed] == ["notes.txt"]
    assert len(third.unchanged) == 4
    texts = " ".join(c.text for c in kb.store.all_chunks())
    assert "18 months" in texts and "webinars" not in texts
    _consistent(kb)

    # a fresh process on the same directory sees the same state
    again = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=HashingEmbedder()).ingest([root])
    assert len(again.unchanged) == 5


def test_unchanged_text_is_not_re_embedded(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    body = "## A\n\nFirst section.\n\n## B\n\nSecond section."
    write_playbook(root, "doc", "Doc", body)
    emb = HashingEmbedder()
    kb = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=emb)
    kb.ingest([root])
    encoded: list[str] = []
    original = emb.encode
    emb.encode = lambda texts: (encoded.extend(texts), original(texts))[1]  # type: ignore[method-assign]
    write_playbook(root, "doc", "Doc", body.replace("Second section.", "Second section, edited."))
    kb.ingest([root])
    assert len(encoded) == 1 and "edited" in encoded[0]


def test_identical_text_is_embedded_once(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    body = "## Footer\n\nEvery page ends with the legal footer.\n\n## Body\n\n{}"
    for name in ("copy-a", "copy-b"):  # same title and boilerplate section in two files
        (root / f"{name}.md").write_text(f"---\ntitle: Shared\ndoc_id: {name}\n---\n\n" + body.format(name))
    emb = HashingEmbedder()
    encoded: list[str] = []
    original = emb.encode
    emb.encode = lambda texts: (encoded.extend(texts), original(texts))[1]  # type: ignore[method-assign]
    kb = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=emb)
    report = kb.ingest([root])
    assert report.chunks_written == 4 == kb.store.count()
    assert sum("legal footer" in t for t in encoded) == 1 and len(encoded) == 3
    _consistent(kb)


def test_bad_files_are_skipped_and_the_run_continues(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "docs")
    (root / "empty.md").write_text("", encoding="utf-8")
    (root / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (root / "huge.md").write_text("# Huge\n\n" + "x" * 4000, encoding="utf-8")
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    kb = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=HashingEmbedder(), max_file_bytes=2000)
    report = kb.ingest([root, tmp_path / "missing.md"])
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == {"empty.md", "binary.txt", "huge.md", "broken.pdf", "missing.md"}
    assert "empty" in reasons["empty.md"] and "binary" in reasons["binary.txt"]
    assert "too large" in reasons["huge.md"] and "no such file" in reasons["missing.md"]
    assert len(report.added) == 6
    _consistent(kb)


class Boom(Exception):
    pass


@pytest.mark.parametrize("crash_in", ["upsert_chunks", "put_manifests", "delete_source"])
def test_crash_mid_ingest_leaves_a_repairable_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_in: str
) -> None:
    root = _corpus(tmp_path / "docs")
    kb = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=HashingEmbedder())
    kb.ingest([root])
    write_playbook(root, "brand", "Brand Voice", "## Claims\n\nEdited claims rule.\n\n## Logos\n\nNavy logo.")
    write_playbook(root, "new-doc", "New Doc", "## New\n\nBrand new rule.")

    original = getattr(kb.store, crash_in)

    def crash_after_doing_it(*args, **kwargs):  # the write happens, then the process dies
        original(*args, **kwargs)
        raise Boom("power cut")

    monkeypatch.setattr(kb.store, crash_in, crash_after_doing_it)
    with pytest.raises(Boom):
        kb.ingest([root])

    fresh = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=HashingEmbedder())
    report = fresh.ingest([root])
    assert len(report.unchanged) >= 5  # untouched files survive the crash
    assert {Path(p).name for p in report.added + report.updated} <= {"brand.md", "new-doc.md"}
    _consistent(fresh)
    names = {Path(e.source_path).name for e in fresh.store.manifest().values()}
    assert {"brand.md", "new-doc.md"} <= names
    texts = " ".join(c.text for c in fresh.store.all_chunks())
    assert "Edited claims rule." in texts and "Brand new rule." in texts and "Superlatives" not in texts
    assert texts.count("Brand new rule.") == 1


def test_get_document_and_filters(tmp_path: Path) -> None:
    kb = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=HashingEmbedder())
    kb.ingest([_corpus(tmp_path / "docs")])
    doc = kb.get_document("t2-events")
    assert doc is not None and doc.tier == "2" and doc.domain == "event_standards"
    assert "Giveaways" in doc.text and doc.sections == [["Budget"]] and doc.chunk_count == 1
    assert kb.get_document("nope") is None
    assert {d.doc_id for d in kb.list_documents()} >= {"t1-events", "t2-events", "brand", "notes", "page", "policy"}

    for mode in ("hybrid", "bm25", "dense"):
        hits = kb.search("booth giveaways events", k=10, domain="event_standards", mode=mode)
        assert hits and {h.domain for h in hits} == {"event_standards"}
        tier2 = kb.search("booth giveaways events", k=10, tier="Tier 2", mode=mode)
        assert tier2 and {h.doc_id for h in tier2} == {"t2-events"}
        both = kb.search("booth", k=10, domain="brand_guidelines", tier="1", mode=mode)
        assert both == []


def test_search_hits_carry_citation_and_scores(tmp_path: Path) -> None:
    kb = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=HashingEmbedder())
    kb.ingest([_corpus(tmp_path / "docs")])
    hit = kb.search("giveaways per unit", k=3)[0]
    assert hit.doc_id == "t2-events" and hit.heading_path == ["Budget"]
    assert hit.citation == "t2-events § Budget"
    assert hit.scores.dense is not None and hit.scores.bm25 is not None and hit.scores.rrf > 0
    assert hit.scores.dense_rank is not None and hit.scores.bm25_rank == 1
    source = Path(hit.source_path).read_text(encoding="utf-8")
    assert "Giveaways cost $8 per unit." in source
    assert kb.search("   ") == []


def test_empty_store_search_and_answer(tmp_path: Path) -> None:
    kb = KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=HashingEmbedder())
    assert kb.search("anything") == []
    assert kb.answer("anything?").answered is False
