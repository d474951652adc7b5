"""The knowledge server's resources: whole playbooks (``playbook://{doc_id}``) and one section of one
(``playbook://{doc_id}#{section}``, the section as its heading in lowercase words joined by '-').

Reads are calls of the guarded get_document tool (same principal, policy and audit as the tool); the list of
playbooks needs an authenticated caller, as any tool call does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from mcp_servers.guard.sdk_adapter import Extras, ListedResource, ResourceCaller, ResourceDef
from mcp_servers.guard.toolkit import ToolDef, ToolFailure

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def slug(heading: str) -> str:
    """A heading as a URI fragment: lowercase words joined by '-'."""
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")


def section_text(markdown: str, section: str) -> str | None:
    """The heading named by ``section`` (its slug) and everything under it, up to the next heading of the same
    or a higher level; None when no heading has that slug."""
    headings = list(_HEADING.finditer(markdown))
    for i, match in enumerate(headings):
        if slug(match.group(2)) != slug(section):
            continue
        level = len(match.group(1))
        end = next((h.start() for h in headings[i + 1 :] if len(h.group(1)) <= level), len(markdown))
        return markdown[match.start() : end].strip()
    return None


def _render_section(result: BaseModel, params: Mapping[str, str]) -> str:
    text = section_text(str(getattr(result, "text", "")), params["section"])
    if text is None:
        sections = ", ".join(dict.fromkeys(slug(path[-1]) for path in getattr(result, "sections", []) if path))
        raise ToolFailure(f"playbook {params['doc_id']!r} has no section {params['section']!r}", field="section",
                          code="not_found", fix=f"use one of: {sections}")  # fmt: skip
    return text


def _render_document(result: BaseModel, params: Mapping[str, str]) -> str:
    return str(getattr(result, "text", ""))


def knowledge_extras(tools: Sequence[ToolDef], documents: Callable[[str], list[Any]]) -> Extras:
    """Playbook resources over the server's guarded get_document tool; ``documents(tenant)`` lists what that
    tenant may read."""
    get_document = next(t for t in tools if t.name == "get_document")
    doc_only = lambda params: {"doc_id": params["doc_id"]}  # noqa: E731
    resources = [
        ResourceDef("playbook://{doc_id}#{section}", "playbook-section", "Playbook section",
                    "One section of a playbook (Markdown), e.g. playbook://tier-1-campaign-playbook#budget-range.",
                    get_document, doc_only, _render_section, "text/markdown"),
        ResourceDef("playbook://{doc_id}", "playbook", "Playbook", "A whole playbook (Markdown) by doc_id.",
                    get_document, doc_only, _render_document, "text/markdown"),
    ]  # fmt: skip

    async def playbooks(caller: ResourceCaller) -> list[ListedResource]:
        import asyncio

        who = caller.principal()  # no caller, no list (fails closed like a tool call)
        docs = await asyncio.to_thread(documents, who.tenant_id)
        return [ListedResource(f"playbook://{d.doc_id}", d.doc_id, d.title, f"{d.domain}, tier {d.tier}",
                               "text/markdown") for d in docs]  # fmt: skip

    return Extras(resources=resources, listers=[playbooks])
