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


# Obfuscations that must not hide a card number or an SSN (after normalization, policies.textnorm).
OBFUSCATED: list[tuple[str, str]] = [
    ("card 4111\u00a01111\u00a01111\u00a01111", "card"),  # non-breaking spaces
    ("card 4111\u202f1111\u202f1111\u202f1111", "card"),  # narrow no-break spaces
    ("card 4111.1111.1111.1111", "card"),  # dots
    ("card 4111/1111/1111/1111", "card"),  # slashes
    ("card 4111-1111.1111/1111", "card"),  # mixed separators
    ("card 4\u200b1\u200b1\u200b1\u200b1111\u200d1111\u20601111", "card"),  # zero-width characters
    ("card 4111\u00ad1111\u00ad1111\u00ad1111", "card"),  # soft hyphens
    ("card ４１１１ １１１１ １１１１ １１１１", "card"),  # fullwidth digits
    ("card ４１１１－１１１１－１１１１－１１１１", "card"),  # fullwidth digits and hyphen
    ("card \u0664\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661", "card"),
    ("card 4111\u20131111\u20131111\u20131111", "card"),  # en dashes
    ("ssn 123456789", "ssn"),  # bare, with context
    ("Social Security Number: 123456789", "ssn"),
    ("123456789 (SSN)", "ssn"),  # context after
    ("ref 123\u200b45\u200b6789", "ssn"),  # bare but with hidden characters inside
    ("id 123.45.6789", "ssn"),
    ("id 123-45 6789", "ssn"),  # mixed separators
    ("id 123/45/6789", "ssn"),
    ("id １２３－４５－６７８９", "ssn"),  # fullwidth
    ("id 123\u00a045\u00a06789", "ssn"),
    ("id 123 - 45 - 6789", "ssn"),
    ("id 123\u201145\u20116789", "ssn"),  # non-breaking hyphens
]


@pytest.mark.parametrize(("text", "kind"), OBFUSCATED)
def test_obfuscated_numbers_are_detected(text: str, kind: str) -> None:
    assert [h.kind for h in scan_text(text)] == [kind]


@pytest.mark.parametrize(("text", "kind"), OBFUSCATED)
def test_redaction_masks_the_whole_disguised_value(text: str, kind: str) -> None:
    masked = redact({"t": text}, scan({"t": text}))["t"]
    assert f"[REDACTED:{kind}]" in masked and not any(c.isdigit() for c in masked.split("[REDACTED")[0][-2:])
    assert sum(c.isdigit() for c in masked) <= 1 and "\u200b" not in masked  # nothing of the number is left


@pytest.mark.parametrize(
    "text",
    [
        "order 123456789 shipped",  # a bare nine-digit number without SSN context
        "invoice no. 987654321",
        "PO 512345678",
        "budget 900000 USD and 1,250,000.00 EUR",
        "gid 1204567890123456 and 1209876543210987",  # Asana gids
        "project 4c7e1d2a9b3f4e5d8a7b6c5d4e3f2a1b",  # Workfront id
        "all-digit hex 12345678901234567890123456789012",
        "uuid 12345678-1234-1234-1234-123456789012",
        "dates 2027/06/01, 01.06.2027, 2027-06-01 - 2027-06-30",
        "range 30/01/2027 - 15/02/2027",
        "phone +1 415 555 0134 and (212) 555-0147",  # phones: phone hits, never card or SSN
        "ssn 000-12-3456, ssn 666123456, ssn 900123456, ssn 123004567, ssn 123450000",  # never issued
        "ssnapshot 123456789",  # the context word must stand alone
        "mobile +4915123456789",  # an E.164 number is not a card even when it passes Luhn
    ],
)
def test_look_alikes_are_not_cards_or_ssns(text: str) -> None:
    assert [h.kind for h in scan_text(text) if h.kind in ("card", "ssn")] == []


def test_a_field_named_ssn_makes_nine_bare_digits_an_ssn() -> None:
    assert [(h.kind, h.path) for h in scan({"ssn": "123456789", "order": "123456789"})] == [("ssn", "$.ssn")]
    assert [(h.kind, h.path) for h in scan({"social_security": 78051120})] == [("ssn", "$.social_security")]
    assert scan({"order_number": 123456789, "count": 78051120}) == []
