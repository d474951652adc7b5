"""Playbook documents rendered as HTML with an anchor on every heading (chat citations link to them).

The anchor of a section is ``knowledge.parsing.slugify`` of its heading text (a repeated heading gets ``-2``,
``-3``...), so ``section_url(doc_id, heading_path)`` turns a retrieved chunk's heading path into a link.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

from knowledge.parsing import slugify

_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_META_LINE = re.compile(r"^([a-z_]+):\s*(.*)$")
DOC_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,120}$")


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    text: str
    anchor: str


@dataclass(frozen=True, slots=True)
class Playbook:
    doc_id: str
    title: str
    meta: dict[str, str]
    html: str
    headings: list[Heading]


def section_url(doc_id: str, heading_path: Sequence[str] = ()) -> str:
    """The web page of a playbook section: ``/playbooks/<doc_id>#<anchor of the innermost heading>``."""
    anchor = slugify(heading_path[-1]) if heading_path else ""
    return f"/playbooks/{doc_id}" + (f"#{anchor}" if anchor else "")


def playbook_files(directory: Path) -> dict[str, Path]:
    """doc_id -> file for the Markdown playbooks in ``directory`` (doc_id from front matter, else the stem)."""
    out: dict[str, Path] = {}
    for path in sorted(directory.glob("*.md")):
        meta = _front_matter(path.read_text(encoding="utf-8"))[0]
        out[meta.get("doc_id") or slugify(path.stem)] = path
    return out


class PlaybookCache:
    """Rendered playbooks of one web app, re-rendered when a file changes (keyed by path and mtime)."""

    def __init__(self) -> None:
        self._rendered: dict[tuple[Path, int], Playbook] = {}

    def get(self, path: Path) -> Playbook:
        key = (path, path.stat().st_mtime_ns)
        if key not in self._rendered:
            self._rendered = {k: v for k, v in self._rendered.items() if k[0] != path}
            self._rendered[key] = render_playbook(path)
        return self._rendered[key]


def render_playbook(path: Path) -> Playbook:
    """The document as safe HTML (raw HTML in the source is escaped, never passed through) with heading ids."""
    meta, body = _front_matter(path.read_text(encoding="utf-8"))
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(body)
    headings: list[Heading] = []
    seen: dict[str, int] = {}
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        text = tokens[i + 1].content if i + 1 < len(tokens) else ""
        base = slugify(text)
        seen[base] = seen.get(base, 0) + 1
        anchor = base if seen[base] == 1 else f"{base}-{seen[base]}"
        token.attrSet("id", anchor)
        headings.append(Heading(int(token.tag[1]), text, anchor))
    html = md.renderer.render(tokens, md.options, {})
    title = meta.get("title") or (headings[0].text if headings else path.stem)
    return Playbook(meta.get("doc_id") or slugify(path.stem), title, meta, html, headings)


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    meta = {}
    for line in match.group(1).splitlines():
        m = _META_LINE.match(line.strip())
        if m:
            meta[m.group(1)] = m.group(2).strip().strip("\"'")
    return meta, text[match.end() :]
