"""Fuzzy campaign-name matching of the offline model."""

from __future__ import annotations

from agents.offline.matching import match_names


def test_a_title_case_name_of_another_campaign_does_not_match_on_one_shared_word() -> None:
    names = ["Spring Partner Co-Marketing", "Customer Summit 2026"]
    assert match_names("How is the Spring Product Launch campaign performing?", names) == []
    assert [m.name for m in match_names("How is Spring Partner doing?", names)] == ["Spring Partner Co-Marketing"]
    assert [m.name for m in match_names("book a room for the summit", names)] == ["Customer Summit 2026"]
