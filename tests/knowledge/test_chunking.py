"""Chunking on heading structure: bounded size, overlap, exact offsets."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from knowledge.chunking import chunk_document, split_span
from knowledge.parsing import parse_file
from tests.knowledge.conftest import write_playbook


def _doc(tmp_path: Path):
    long_para = " ".join(f"Sentence number {i} explains a rule about budgets and approvals." for i in range(60))
    body = f"## Short\n\nA short section.\n\n## Long\n\n{long_para}\n\n## Empty heading\n\n## Last\n\nEnd."
    return parse_file(write_playbook(tmp_path, "rules", "Rules", body))


def test_chunks_are_bounded_with_exact_offsets(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    chunks = chunk_document(doc, max_chars=300, overlap=60)
    assert all(len(c.text) <= 300 for c in chunks)
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)
    paths = [c.heading_path for c in chunks]
    assert ("Short",) in paths and ("Last",) in paths and ("Empty heading",) not in paths
    assert sum(1 for p in paths if p == ("Long",)) >= 8
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert all(c.index_text.startswith("Rules > ") for c in chunks)


def test_long_section_pieces_overlap_and_cover_it(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    pieces = [c for c in chunk_document(doc, max_chars=300, overlap=60) if c.heading_path == ("Long",)]
    for a, b in itertools.pairwise(pieces):
        assert b.start < a.end, "consecutive pieces overlap"
        assert a.end - b.start <= 60 + 1
    section = next(s for s in doc.sections if s.heading_path == ("Long",))
    assert pieces[0].start == section.start and pieces[-1].end == section.end


def test_chunk_ids_and_hashes_are_stable(tmp_path: Path) -> None:
    doc = _doc(tmp_path)
    first = chunk_document(doc)
    second = chunk_document(doc)
    assert [(c.chunk_id, c.content_hash) for c in first] == [(c.chunk_id, c.content_hash) for c in second]


def test_split_span_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError):
        split_span("abc", 0, 3, max_chars=10, overlap=10)
    assert split_span("word " * 10, 0, 50, 20, 5)[0][0] == 0
