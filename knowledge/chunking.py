"""Split a parsed document on its heading structure into bounded, overlapping chunks with char offsets."""

from __future__ import annotations

import hashlib

from knowledge.models import SHARED_OWNER, Chunk, ParsedDocument

DEFAULT_MAX_CHARS = 1000
DEFAULT_OVERLAP = 150

# Preferred cut points, best first: paragraph, line, sentence, word.
_BREAKS = ("\n\n", "\n", ". ", "; ", ", ", " ")


def _cut_point(text: str, start: int, hard_end: int, min_end: int) -> int:
    """Latest good break in text[min_end:hard_end]; hard_end when there is none."""
    for sep in _BREAKS:
        idx = text.rfind(sep, min_end, hard_end)
        if idx != -1:
            return idx + len(sep)
    return hard_end


def split_span(text: str, start: int, end: int, max_chars: int, overlap: int) -> list[tuple[int, int]]:
    """Cover text[start:end] with windows of at most max_chars that overlap by about ``overlap`` chars."""
    if max_chars <= 0 or overlap < 0 or overlap >= max_chars:
        raise ValueError("chunking needs max_chars > 0 and 0 <= overlap < max_chars")
    spans: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        if end - pos <= max_chars:
            spans.append((pos, end))
            break
        cut = _cut_point(text, pos, pos + max_chars, pos + max_chars // 2)
        spans.append((pos, cut))
        nxt = max(cut - overlap, pos + 1)
        # start the next window on a word boundary inside the overlap region
        space = text.find(" ", nxt, cut)
        nxt = space + 1 if space != -1 else nxt
        while nxt < end and text[nxt].isspace():
            nxt += 1
        pos = nxt
    return [(s, e) for s, e in spans if text[s:e].strip()]


def chunk_document(
    doc: ParsedDocument, max_chars: int = DEFAULT_MAX_CHARS, overlap: int = DEFAULT_OVERLAP
) -> list[Chunk]:
    """One chunk per section, split further (with overlap) when a section exceeds ``max_chars``."""
    chunks: list[Chunk] = []
    # a tenant's copy of a file gets its own chunk ids; shared ids stay what they always were
    key = doc.source_path if doc.owner == SHARED_OWNER else f"{doc.owner}|{doc.source_path}"
    source_key = hashlib.sha1(key.encode()).hexdigest()[:10]
    for section in doc.sections:
        for start, end in split_span(doc.text, section.start, section.end, max_chars, overlap):
            text = doc.text[start:end]
            ordinal = len(chunks)
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.doc_id}:{source_key}:{ordinal:04d}",
                    doc_id=doc.doc_id,
                    title=doc.title,
                    heading_path=section.heading_path,
                    domain=doc.domain,
                    tier=doc.tier,
                    source_path=doc.source_path,
                    start=start,
                    end=end,
                    text=text,
                    content_hash=hashlib.sha256(text.encode()).hexdigest(),
                    file_hash=doc.file_hash,
                    ordinal=ordinal,
                    owner=doc.owner,
                )
            )
    return chunks
