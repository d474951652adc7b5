"""Per-format readers: Markdown + front matter, text, HTML, PDF, and bad input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from knowledge.errors import BadInputFile
from knowledge.parsing import discover_files, normalize_tier, parse_file
from tests.knowledge.conftest import minimal_pdf, write_playbook


def _section_texts(doc):
    return {s.heading_path: doc.text[s.start : s.end] for s in doc.sections}


def test_markdown_front_matter_and_heading_paths(tmp_path: Path) -> None:
    body = "Intro text.\n\n## Budget\n\n### Limits\n\nGiveaways: $8 per unit.\n\n## Staffing\n\nThree people."
    doc = parse_file(write_playbook(tmp_path, "t2-events", "Tier 2 Events", body, "event_standards", "2"))
    assert (doc.doc_id, doc.title, doc.domain, doc.tier) == ("t2-events", "Tier 2 Events", "event_standards", "2")
    sections = _section_texts(doc)
    assert sections[("Tier 2 Events",)] == "Intro text."
    assert sections[("Budget", "Limits")] == "Giveaways: $8 per unit."
    assert sections[("Staffing",)] == "Three people."
    assert len(doc.file_hash) == 64


def test_markdown_without_front_matter_uses_file_name(tmp_path: Path) -> None:
    path = tmp_path / "Brand Rules.md"
    path.write_text("Use the navy logo.\n", encoding="utf-8")
    doc = parse_file(path)
    assert (doc.doc_id, doc.domain, doc.tier) == ("brand-rules", "general", "all")


def test_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("First paragraph.\n\nSecond paragraph.", encoding="utf-8")
    doc = parse_file(path)
    assert doc.text.startswith("First") and len(doc.sections) == 1


def test_html_headings_and_meta(tmp_path: Path) -> None:
    path = tmp_path / "events.html"
    path.write_text(
        "<html><head><title>Event Rules</title><meta name='domain' content='event_standards'>"
        "<meta name='tier' content='Tier 1'><script>var x = 'ignore me';</script></head><body>"
        "<h1>Event Rules</h1><p>Overview paragraph.</p><h2>Booth</h2><ul><li>Minimum 400 sq ft.</li>"
        "<li><p>Four demo stations.</p></li></ul><h3>Staffing</h3><p>One person per 50 sq ft.</p></body></html>",
        encoding="utf-8",
    )
    doc = parse_file(path)
    assert (doc.title, doc.domain, doc.tier) == ("Event Rules", "event_standards", "1")
    sections = _section_texts(doc)
    assert "Minimum 400 sq ft." in sections[("Booth",)] and "Four demo stations." in sections[("Booth",)]
    assert sections[("Booth", "Staffing")] == "One person per 50 sq ft."
    assert "ignore me" not in doc.text


def test_pdf_text_per_page(tmp_path: Path) -> None:
    path = tmp_path / "policy.pdf"
    path.write_bytes(minimal_pdf(["Corporate cards: $5,000 per transaction.", "Net 45 payment terms."]))
    doc = parse_file(path)
    assert "5,000 per transaction" in doc.text and "Net 45" in doc.text
    assert doc.sections[0].heading_path == ("Page 1",)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"", "empty"),
        ("blank.txt", b"  \n\n ", "empty"),
        ("binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary"),
        ("latin1.txt", "caf\xe9".encode("latin-1"), "UTF-8"),
        ("image.png", b"\x89PNG", "unsupported"),
        ("broken.pdf", b"%PDF-1.4 this is not a pdf", "PDF"),
        ("only-front-matter.md", b"---\ntitle: x\n---\n", "no text"),
    ],
)
def test_bad_files_raise_a_clear_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BadInputFile) as err:
        parse_file(path)
    assert reason.lower() in err.value.reason.lower()


def test_huge_and_unreadable_files(tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    big.write_text("x" * 5000, encoding="utf-8")
    with pytest.raises(BadInputFile, match="too large"):
        parse_file(big, max_bytes=1000)
    directory = tmp_path / "folder.md"
    directory.mkdir()
    with pytest.raises(BadInputFile, match="unreadable"):
        parse_file(directory)


def test_discover_files_recurses_and_deduplicates(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    a = write_playbook(tmp_path, "a", "A", "text")
    write_playbook(tmp_path / "sub", "b", "B", "text")
    (tmp_path / "sub" / "skip.bin").write_bytes(b"\x00")
    found = discover_files([tmp_path, a, Path(os.fspath(a))])
    assert sorted(p.name for p in found) == ["a.md", "b.md"]


def test_normalize_tier() -> None:
    assert [normalize_tier(v) for v in (1, "2", "Tier 3", "T1", "all", None, "gold")] == ["1", "2", "3", "1"] + [
        "all"
    ] * 3
