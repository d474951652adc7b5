"""Playbooks as MCP resources: listed, read whole or by section, through the guard (audited like get_document)."""

from __future__ import annotations

import pytest
from mcp import Client

from mcp_servers.knowledge.resources import section_text, slug
from tests.mcp_servers.knowledge.test_knowledge_server import kb, server  # noqa: F401  (fixtures)


async def test_playbooks_are_listed_and_read_whole_or_by_section(server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    srv, audit = server
    async with Client(srv) as client:
        listed = {str(r.uri): r for r in (await client.list_resources()).resources}
        whole = (await client.read_resource("playbook://tier1-playbook")).contents[0].text
        section = (await client.read_resource("playbook://tier1-playbook#approvals")).contents[0].text
        with pytest.raises(Exception, match="channels"):  # the error lists the sections that exist
            await client.read_resource("playbook://tier1-playbook#pricing")
        with pytest.raises(Exception, match="not_found"):
            await client.read_resource("playbook://no-such-doc")
    assert set(listed) == {"playbook://tier1-playbook", "playbook://brand-voice"}
    assert listed["playbook://tier1-playbook"].title == "Tier 1 Campaign Playbook"
    assert "## Approvals" in whole and "## Channels" in whole
    assert section.startswith("## Approvals") and "leadership sign-off" in section and "Channels" not in section
    reads = [e for e in audit.tail("acme", limit=20) if e.tool == "get_document"]
    assert len(reads) >= 4 and {e.actor for e in reads} == {"sam.taylor"}


def test_a_section_runs_to_the_next_heading_of_its_level_or_higher() -> None:
    text = "# T\n\n## Budget range\n\nA.\n\n### Detail\n\nB.\n\n## Targets\n\nC."
    assert section_text(text, "budget-range") == "## Budget range\n\nA.\n\n### Detail\n\nB."
    assert section_text(text, "Budget Range") == section_text(text, "budget-range")
    assert section_text(text, "detail") == "### Detail\n\nB."
    assert section_text(text, "missing") is None and slug("Budget & Targets!") == "budget-targets"
