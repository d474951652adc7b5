"""PII detectors: what they catch, what they leave alone (dates, ids, amounts), redaction and log masking."""

from __future__ import annotations

import pytest

from policies.pii import luhn_valid, mask_email_for_logs, redact, scan, scan_response, scan_text


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("reach me at jane.doe+x@mail.example.co.uk", "email"),
        ("call +14155550123 today", "phone"),
        ("call +44 20 7946 0958", "phone"),
        ("office (212) 555-0147", "phone"),
        ("cell 212-555-0147", "phone"),
        ("cell 1-212-555-0147", "phone"),
        ("visa 4111111111111111", "card"),
        ("amex 3782 822463 10005", "card"),
        ("mc 5555-5555-5555-4444", "card"),
        ("ssn 219-09-9999", "ssn"),
        ("ssn 078 05 1120", "ssn"),
    ],
)
def test_detects(text: str, kind: str) -> None:
    assert [h.kind for h in scan_text(text)] == [kind]


@pytest.mark.parametrize(
    "text",
    [
        "launch on 2026-03-01 at 10:30",
        "budget 1250000.00 USD",
        "project 0123456789abcdef0123456789abcdef",
        "gid 1204567890123456",
        "order 4111111111111112",  # fails Luhn
        "ssn-like 000-12-3456 666-12-3456 912-34-5678 123-00-4567",
        "version 1.2.3.4 and 10.0.0.1",
        "ids 5f0c1c9e-6f7a-4e3b-9a51-2b1c0f7d2a11",
        "code 555-123-4567",  # exchange starting with 1 is not NANP
        "Q3-2026-001",
        "user@localhost has no TLD",
    ],
)
def test_leaves_alone(text: str) -> None:
    assert scan_text(text) == []


def test_nested_paths_keys_and_id_allow_list() -> None:
    obj = {
        "assignee": "ann@corp.com",  # an id-like field: allowed
        "followers": ["1204567890123456", "bob@corp.com"],
        "notes": [{"text": "x"}, {"deep": {"more": ["call 212-555-0147"]}}],
        "weird key": {"eve@evil.com": 1},
        "assignee_note": "ssn 219-09-9999",
        "project_id": "219-09-9999",  # not an id shape: scanned
        "amount": 4111111111111111,
    }
    hits = {(h.kind, h.path, h.in_key) for h in scan(obj)}
    assert hits == {
        ("phone", "$.notes[1].deep.more[0]", False),
        ("email", "$['weird key']['eve@evil.com']", True),
        ("ssn", "$.assignee_note", False),
        ("ssn", "$.project_id", False),
        ("card", "$.amount", False),
    }


def test_redact_and_mask() -> None:
    obj = {"a": ["x jane@corp.com y", {"b": "tel +14155550123"}], "c": 1}
    out = redact(obj, scan(obj))
    assert out == {"a": ["x [REDACTED:email] y", {"b": "tel [REDACTED:phone]"}], "c": 1}
    assert mask_email_for_logs("from jane.doe@corp.com to b@x.io") == "from j***@corp.com to b***@x.io"
    assert mask_email_for_logs("no email here") == "no email here"


def test_response_scan_ignores_id_allow_list() -> None:
    assert [h.kind for h in scan_response({"gid": "219-09-9999", "email": "a@b.co"})] == ["ssn"]


def test_luhn_known_values() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
