"""How replies are shown: model text never becomes markup, citations link to playbook sections, proposals are
recognised."""

from __future__ import annotations

from mcc.web.chat_render import citations, is_proposal, reply_html


def test_reply_markup_and_script_are_escaped_never_rendered() -> None:
    html = str(reply_html("Done. <script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))"))
    assert "<script>" not in html and "<img" not in html and 'href="javascript:' not in html
    assert "&lt;script&gt;" in html


def test_citations_link_to_the_playbook_section_anchor_and_the_marker_line_is_hidden() -> None:
    text = ("Tier 1 needs 8 weeks [1].\n\nSources:\n[1] tier-1-campaign-playbook § Timeline > Lead time & reviews\n"
            "[2] brand-voice § Tone\n\n_Re: “what lead time”_")  # fmt: skip
    html = str(reply_html(text))
    assert 'href="/playbooks/tier-1-campaign-playbook#lead-time-reviews"' in html
    assert 'href="/playbooks/brand-voice#tone"' in html and "Re: “" not in html
    assert "Lead time &amp; reviews</a>" in html  # the label stays escaped inside the link
    assert [c.doc_id for c in citations(text)] == ["tier-1-campaign-playbook", "brand-voice"]
    assert citations(text)[0].heading_path == ["Timeline", "Lead time & reviews"]


def test_a_write_proposal_is_recognised_and_an_ordinary_answer_is_not() -> None:
    assert is_proposal("I'll create the campaign 'Nova' (tier 2). Go ahead? (yes / no)")
    assert not is_proposal("There are 12 campaigns; yes, no more than that.")
