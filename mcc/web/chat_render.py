"""How chat replies and turn events look in the browser: safe HTML, playbook citations linked, proposals as buttons.

Replies are model output (untrusted): they are rendered as CommonMark with raw HTML disabled, so nothing in a reply
becomes markup or script. A citation ``<doc_id> § <heading> > <sub-heading>`` (the knowledge server's citation
form) links to the rendered playbook page at that section's anchor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape as html_unescape
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from mcc.web.playbooks import section_url

# doc ids are lower-case slugs; the heading path runs to the end of the line (or a closing bracket/parenthesis)
_CITATION_RE = re.compile(r"(?<![\w/-])([a-z0-9][a-z0-9-]{1,120}) § ([^\n\]\)]+)")
# the offline model ends a proposal with "(yes / no)"; threads saved by older versions still end a clarifying
# question with the request after "Re: “" (the request now lives in the thread's state), which the page hides
_CITATION_HTML_RE = re.compile(r"(?<![\w/-])([a-z0-9][a-z0-9-]{1,120}) § ([^\n\]\)<]+)")
_PROPOSAL_RE = re.compile(r"\(\s*yes\s*/\s*no\s*\)", re.I)
_CLARIFY_LINE_RE = re.compile(r"^_Re: “.*”_\s*$", re.M)
DECISION_LABEL = {"allow": "allowed", "require_approval": "needs approval", "deny": "denied", "error": "error"}


@dataclass(frozen=True, slots=True)
class Citation:
    doc_id: str
    heading_path: list[str]
    label: str
    url: str


def citations(text: str) -> list[Citation]:
    """The playbook sections a reply cites, in order, each once."""
    seen: dict[str, Citation] = {}
    for m in _CITATION_RE.finditer(text):
        path = [p.strip() for p in m.group(2).split(" > ") if p.strip()]
        label = f"{m.group(1)} § {' > '.join(path)}"
        seen.setdefault(label, Citation(m.group(1), path, label, section_url(m.group(1), path)))
    return list(seen.values())


def _md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False})


def reply_html(text: str) -> Markup:
    """A reply as safe HTML: Markdown without raw HTML, the clarification marker dropped, citations as links."""
    shown = _CLARIFY_LINE_RE.sub("", text).strip()
    html = _md().render(shown)

    def link(m: re.Match[str]) -> str:
        path = [p.strip() for p in html_unescape(m.group(2)).split(" > ") if p.strip()]
        return f'<a class="citation" href="{escape(section_url(m.group(1), path))}">{m.group(0)}</a>'

    # one pass over the rendered (escaped) HTML: the matched text is already escaped and stays as it is
    return Markup(_CITATION_HTML_RE.sub(link, html))  # markdown-it (html off) escaped the reply


def is_proposal(text: str) -> bool:
    """Whether the reply proposes a write and waits for the user's yes or no."""
    return bool(_PROPOSAL_RE.search(text))


def tool_label(data: dict[str, Any]) -> str:
    """``server.tool`` of a tool event."""
    return f"{data.get('server', '')}.{data.get('tool', '')}".strip(".")


def decision_label(decision: str) -> str:
    """The policy decision as words."""
    return DECISION_LABEL.get(decision, decision)
