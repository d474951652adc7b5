"""Per-format readers (Markdown + front matter, plain text, HTML, PDF) producing text plus heading structure."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import frontmatter
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from pypdf import PdfReader

from knowledge.errors import BadInputFile
from knowledge.models import ParsedDocument, Section, SkippedFile

MARKDOWN_EXT = {".md", ".markdown", ".mdown"}
TEXT_EXT = {".txt", ".text", ".rst"}
HTML_EXT = {".html", ".htm", ".xhtml"}
PDF_EXT = {".pdf"}
SUPPORTED_EXT = MARKDOWN_EXT | TEXT_EXT | HTML_EXT | PDF_EXT
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

_HTML_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "td", "th", "dt", "dd"]
_HTML_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def slugify(value: str) -> str:
    """Lowercase, dash-separated id from a file stem or title."""
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "document"


def normalize_tier(value: object) -> str:
    """'1', 1, 'Tier 1', 'T1' -> '1'; anything else (including missing) -> 'all'."""
    if value is None:
        return "all"
    match = re.fullmatch(r"\s*(?:tier[\s_-]*|t)?([1-9])\s*", str(value), flags=re.IGNORECASE)
    return match.group(1) if match else "all"


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise BadInputFile(str(path), f"too large ({size} bytes > limit {max_bytes}); split it or raise the limit")
        data = path.read_bytes()
    except BadInputFile:
        raise
    except OSError as exc:
        raise BadInputFile(str(path), f"unreadable ({exc.strerror or exc})") from exc
    if not data.strip():
        raise BadInputFile(str(path), "empty file")
    return data


def _decode_text(path: Path, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise BadInputFile(str(path), "binary content in a text file (NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputFile(str(path), f"not valid UTF-8 text (byte {exc.start})") from exc


def _trimmed_section(text: str, path: tuple[str, ...], start: int, end: int) -> Section | None:
    """Shrink [start, end) to its non-blank content; None when nothing is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Section(path, start, end) if end > start else None


def _markdown_sections(body: str, fallback_title: str) -> tuple[list[Section], str | None]:
    """Sections between headings (markdown-it token map gives heading line ranges)."""
    # block structure only: heading text is the inline token's raw content, so inline parsing is wasted work
    tokens = MarkdownIt("commonmark").enable("table").disable("inline").parse(body)
    line_starts = [0]
    for line in body.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    headings: list[tuple[int, int, int, str]] = []  # level, heading start char, body start char, text
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map is not None:
            level = int(tok.tag[1])
            text = tokens[i + 1].content.strip() if i + 1 < len(tokens) else ""
            headings.append((level, line_starts[tok.map[0]], line_starts[min(tok.map[1], len(line_starts) - 1)], text))
    h1s = [h for h in headings if h[0] == 1]
    title = h1s[0][3] if h1s else None
    drop_h1 = len(h1s) == 1  # a single H1 is the document title, not part of every heading path
    sections: list[Section] = []
    root = (title or fallback_title,)
    first = headings[0][1] if headings else len(body)
    if (sec := _trimmed_section(body, root, 0, first)) is not None:
        sections.append(sec)
    stack: list[tuple[int, str]] = []
    for idx, (level, _h_start, b_start, text) in enumerate(headings):
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, text))
        path = tuple(t for lv, t in stack if not (drop_h1 and lv == 1)) or root
        end = headings[idx + 1][1] if idx + 1 < len(headings) else len(body)
        if (sec := _trimmed_section(body, path, b_start, end)) is not None:
            sections.append(sec)
    return sections, title


def parse_markdown(path: Path, data: bytes) -> ParsedDocument:
    """Markdown with optional YAML front matter (doc_id, title, domain, tier)."""
    raw = _decode_text(path, data)
    try:
        post = frontmatter.loads(raw)
    except Exception as exc:  # the YAML parser raises several types; all mean the same to the user
        raise BadInputFile(str(path), f"invalid YAML front matter ({exc.__class__.__name__})") from exc
    meta = post.metadata
    sections, h1 = _markdown_sections(post.content, str(meta.get("title") or path.stem))
    title = str(meta.get("title") or h1 or path.stem)
    return ParsedDocument(
        doc_id=str(meta.get("doc_id") or slugify(path.stem)),
        title=title,
        domain=str(meta.get("domain") or "general"),
        tier=normalize_tier(meta.get("tier")),
        source_path=str(path),
        text=post.content,
        sections=sections,
    )


def parse_text(path: Path, data: bytes) -> ParsedDocument:
    """Plain text: one section; the chunker splits it on paragraphs."""
    text = _decode_text(path, data)
    sec = _trimmed_section(text, (path.stem,), 0, len(text))
    return ParsedDocument(
        doc_id=slugify(path.stem), title=path.stem, domain="general", tier="all",
        source_path=str(path), text=text, sections=[sec] if sec else [],
    )  # fmt: skip


def parse_html(path: Path, data: bytes) -> ParsedDocument:
    """HTML via BeautifulSoup: headings h1-h6 open sections; <meta name=doc_id|domain|tier> give metadata."""
    if b"\x00" in data[:8192]:
        raise BadInputFile(str(path), "binary content in an HTML file (NUL bytes)")
    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "nav"]):
        tag.decompose()
    meta = {m.get("name", "").lower(): m.get("content", "") for m in soup.find_all("meta") if m.get("name")}
    h1 = soup.find("h1")
    title = (soup.title.get_text(strip=True) if soup.title else "") or (h1.get_text(" ", strip=True) if h1 else "")
    title = meta.get("title") or title or path.stem
    parts: list[str] = []
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    cur_path: tuple[str, ...] = (title,)
    cur_start = 0
    pos = 0

    def close(end: int) -> None:
        if (sec := _trimmed_section("".join(parts), cur_path, cur_start, end)) is not None:
            sections.append(sec)

    blocks = soup.find_all(_HTML_BLOCKS)
    for el in blocks:
        if el.find_parent(_HTML_BLOCKS) is not None:
            continue  # nested block: its text is part of the outer block
        text = re.sub(r"\s+", " ", el.get_text(" ", strip=True))
        if not text:
            continue
        if el.name in _HTML_HEADINGS:
            close(pos)
            level = int(el.name[1])
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, text))
            cur_path = tuple(t for lv, t in stack if not (lv == 1 and t == title)) or (title,)
            cur_start = pos
            continue
        piece = ("- " if el.name == "li" else "") + text + "\n\n"
        parts.append(piece)
        pos += len(piece)
    close(pos)
    full = "".join(parts)
    if not full.strip():  # no block markup at all: fall back to the whole visible text
        full = soup.get_text("\n", strip=True)
        sections = [s for s in [_trimmed_section(full, (title,), 0, len(full))] if s]
    return ParsedDocument(
        doc_id=meta.get("doc_id") or slugify(path.stem), title=title, domain=meta.get("domain") or "general",
        tier=normalize_tier(meta.get("tier")), source_path=str(path), text=full, sections=sections,
    )  # fmt: skip


def parse_pdf(path: Path, data: bytes) -> ParsedDocument:
    """PDF via pypdf: one section per page ('Page N')."""
    import io

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise BadInputFile(str(path), "encrypted PDF")
        pages = [(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata
        title = str(info.title) if info is not None and info.title else path.stem
    except BadInputFile:
        raise
    except Exception as exc:  # pypdf raises many error types for malformed files
        raise BadInputFile(str(path), f"unreadable PDF ({exc.__class__.__name__}: {exc})") from exc
    text = ""
    sections: list[Section] = []
    for n, page_text in enumerate(pages, start=1):
        start = len(text)
        text += page_text.strip() + "\n\n"
        if (sec := _trimmed_section(text, (f"Page {n}",), start, len(text))) is not None:
            sections.append(sec)
    return ParsedDocument(
        doc_id=slugify(path.stem), title=title, domain="general", tier="all",
        source_path=str(path), text=text, sections=sections,
    )  # fmt: skip


def parse_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedDocument:
    """Read one file with the reader for its extension; raise BadInputFile when it cannot be ingested."""
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXT:
        raise BadInputFile(str(path), f"unsupported file type '{ext or 'none'}' (use {sorted(SUPPORTED_EXT)})")
    data = _read_bytes(path, max_bytes)
    if ext in MARKDOWN_EXT:
        doc = parse_markdown(path, data)
    elif ext in HTML_EXT:
        doc = parse_html(path, data)
    elif ext in PDF_EXT:
        doc = parse_pdf(path, data)
    else:
        doc = parse_text(path, data)
    if not doc.sections:
        raise BadInputFile(str(path), "no text content after parsing")
    doc.file_hash = file_sha256(data)
    return doc


@dataclass
class Discovery:
    """The files an ingest reads, and the ones it refuses (with the reason)."""

    files: list[Path] = field(default_factory=list)
    refused: list[SkippedFile] = field(default_factory=list)


def _escapes(path: Path, root: Path) -> bool:
    """True when ``path`` (after every symbolic link is resolved) lies outside ``root``."""
    try:
        return not path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a link loop or an unreadable link: refuse it as well
        return True


def discover(paths: list[Path]) -> Discovery:
    """Expand directories (recursively) into supported files; explicit files are kept whatever their type.

    Symbolic links are never followed out of the folder being ingested: a file in a directory that resolves
    outside that directory is refused, and so is an explicitly named file that is a link (name its target)."""
    out = Discovery()
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            root = p.resolve()
            for f in sorted(p.rglob("*")):
                if f.is_symlink() and _escapes(f, root):  # a file or a whole directory elsewhere
                    out.refused.append(SkippedFile(path=str(f), reason=_LINK_REFUSED.format(root=root)))
                elif f.is_file() and f.suffix.lower() in SUPPORTED_EXT and not _escapes(f, root):
                    found.append(f)
        elif p.is_symlink():
            out.refused.append(SkippedFile(path=str(p), reason="a symbolic link: refused; name the file it points to"))
        else:
            found.append(p)
    seen: set[Path] = set()
    for f in found:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            out.files.append(f)
    return out


_LINK_REFUSED = (
    "a symbolic link that leads out of the ingested folder {root}: refused (links are never followed out of "
    "the folder; copy the file into it to ingest it)"
)


def discover_files(paths: list[Path]) -> list[Path]:
    """The files ``discover`` would ingest (refused links left out)."""
    return discover(paths).files
