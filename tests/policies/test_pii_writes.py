"""Personal data in the arguments of every write of every server, internal ones included: the declared policy.

Card numbers and SSNs are refused everywhere; emails and phone numbers are refused when bound for another system
and masked when our own store keeps them (or where a tool declares ``redact``, e.g. comments and notes).
"""

from __future__ import annotations

import pytest

from policies import PolicyEngine, ToolCall
from policies.catalog import DEFAULT_CATALOG
from policies.engine import WRITE_KINDS
from tests.policies.conftest import principal

WRITES = [s for s in DEFAULT_CATALOG if s.kind in WRITE_KINDS]
PII_RULES = {"pii.external_arguments", "pii.stored_arguments"}


def test_every_server_has_writes_in_the_table() -> None:
    assert {s.server for s in WRITES} >= {"workfront", "asana", "spine"}


@pytest.mark.parametrize("spec", WRITES, ids=lambda s: s.name)
@pytest.mark.parametrize("secret", ["SSN 219-09-9999", "card 4111 1111 1111 1111", "ssn 219099999"])
def test_cards_and_ssns_are_refused_in_every_write(engine: PolicyEngine, spec, secret: str) -> None:  # type: ignore[no-untyped-def]
    d = engine.decide(principal("vp"), ToolCall(spec.server, spec.tool, {"note": f"see {secret}"}))
    assert d.effect == "deny" and PII_RULES & set(d.rule_ids), d.rule_ids
    expected = "pii.external_arguments" if spec.external else "pii.stored_arguments"
    assert expected in d.rule_ids


@pytest.mark.parametrize("spec", WRITES, ids=lambda s: s.name)
def test_emails_are_refused_outward_and_masked_inward(engine: PolicyEngine, spec) -> None:  # type: ignore[no-untyped-def]
    d = engine.decide(principal("vp"), ToolCall(spec.server, spec.tool, {"note": "mail ann@corp.example.com"}))
    if spec.pii_mode == "deny":
        assert spec.external and "pii.external_arguments" in d.rule_ids
    else:
        assert not PII_RULES & set(d.rule_ids)
        if d.effect != "deny":  # other rules (unknown fields, read-only systems) may still refuse it
            assert d.redacted_arguments == {"note": "mail [REDACTED:email]"}


def test_reads_of_internal_servers_are_not_scanned_but_external_ones_are(engine: PolicyEngine) -> None:
    inside = engine.decide(principal("vp"), ToolCall("spine", "list_campaigns", {"name_contains": "219-09-9999"}))
    assert inside.effect == "allow"
    outside = engine.decide(principal("vp"), ToolCall("asana", "search_tasks", {"text": "219-09-9999"}))
    assert outside.effect == "deny" and "pii.external_arguments" in outside.rule_ids


def test_an_email_as_a_key_cannot_be_masked_and_is_refused(engine: PolicyEngine) -> None:
    call = ToolCall("spine", "update_campaign", {"campaign_id": "c", "changes": {"eve@evil.example.com": "x"}})
    d = engine.decide(principal("vp"), call)
    assert d.effect == "deny" and "pii.stored_arguments" in d.rule_ids
