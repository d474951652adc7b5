"""Attacks with control characters in free text: terminal escape sequences (ESC/CSI/OSC), newlines in one-line
fields, bidi overrides, invisible-only names and NUL bytes, through the real guarded spine server on SQLite and
PostgreSQL, at the spine's own boundary, and on the terminal (`mcc campaigns list` of text stored earlier)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from mcc.wiring import App
from spine.errors import ValidationError
from spine.schemas import CampaignCreate, parse
from spine.text_policy import text_problem
from tests.security.conftest import call_as

SMALL = {"type": "standard", "tier": 3, "launch_date": "2027-06-01", "owner_id": "maya.chen",
         "budget_planned": {"amount": "900", "currency": "USD"}}  # fmt: skip
ATTACKS = {
    "csi colour": "\x1b[31mRed\x1b[0m Launch",
    "osc title": "Launch\x1b]0;owned\x07 now",
    "c1 csi": "Launch \x9b2J wipe",
    "newline": "Spring Launch\nAPPROVED BY CFO",
    "carriage return": "Spring Launch\rFake",
    "rtlo": "Invoice \u202efdp.exe",
    "bidi isolate": "Launch \u2067hidden\u2069",
    "zero-width only": "\u200b\u200c\u200d\ufeff",
    "nul": "Null\x00byte Launch",
}


def count(app: App) -> int:
    from spine.repositories import open_store

    with open_store(app.sessions, "acme") as store:
        return store.campaigns.count()


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_a_control_character_in_a_name_is_refused_naming_the_field(app: App, attack: str) -> None:
    before = count(app)
    ok, err = await call_as(app, "maya.chen", "spine", "create_campaign", {**SMALL, "name": ATTACKS[attack]})
    assert not ok and err.startswith("Error executing tool create_campaign: [invalid] name: "), err
    assert "\x1b" not in err and "\x00" not in err and "\u202e" not in err  # the error never echoes the bytes
    assert count(app) == before


async def test_a_nul_byte_in_a_filter_is_invalid_not_an_internal_error(app: App) -> None:
    ok, err = await call_as(app, "maya.chen", "spine", "list_campaigns", {"name_contains": "a\x00b"})
    assert not ok and "[invalid] name_contains:" in err and "internal" not in err


async def test_nested_strings_are_checked_and_the_error_names_the_path(app: App) -> None:
    ok, err = await call_as(app, "maya.chen", "spine", "create_campaign",
                            {**SMALL, "name": "Fine Name", "tags": ["ok", "bad\x1b[2J"]})  # fmt: skip
    assert not ok and "[invalid] tags.1:" in err
    ok, listed = await call_as(app, "maya.chen", "spine", "list_campaigns", {"limit": 1})
    target = listed["campaigns"][0]
    ok, err = await call_as(
        app,
        "maya.chen",
        "spine",
        "update_campaign",
        {
            "campaign_id": target["id"],
            "expected_version": target["version"],
            "changes": {"name": "Re\x1b]8;;x\x07name"},
        },
    )
    assert not ok and "[invalid] changes.name:" in err


async def test_a_multiline_field_keeps_newlines_but_not_escapes(app: App) -> None:
    brief = {**SMALL, "name": "Multi Line Brief", "description": "Line one.\n\tLine two."}
    ok, made = await call_as(app, "maya.chen", "spine", "create_campaign", brief)
    assert ok and made["description"] == "Line one.\n\tLine two."
    ok, err = await call_as(app, "maya.chen", "spine", "create_campaign",
                            {**SMALL, "name": "Another Brief", "description": "Line one.\n\x1b[8mhidden"})  # fmt: skip
    assert not ok and "[invalid] description:" in err


def test_the_spine_boundary_applies_the_same_policy() -> None:
    with pytest.raises(ValidationError) as bad:
        parse(CampaignCreate, {**SMALL, "name": "Bad \u202e name"})
    assert bad.value.field == "name" and "bidirectional" in bad.value.message


@pytest.mark.parametrize(
    "value",
    ["Café Launch — 2027", "Ünïcödé Summit", "東京 Launch", "Emoji 🚀 Launch", "Arabic مرحبا launch", "a\u200db"],
)
def test_ordinary_unicode_is_accepted(value: str) -> None:
    assert text_problem(value) is None


def test_the_terminal_shows_stored_escape_sequences_as_visible_text(tmp_path: Path) -> None:
    """Text stored before the policy existed (written straight into the database) is printed escaped."""
    env = {**os.environ, "MCC_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    env.pop("MCC_DATABASE_URL", None)
    mcc = [sys.executable, "-m", "mcc"]
    done = subprocess.run([*mcc, "demo", "--skip-knowledge", "--skip-conversation", "--json"], env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    campaign = json.loads(done.stdout)["overview"][0]["name"]
    evil = "\x1b]0;owned\x07\x1b[2J[bold red]Fake[/bold red] \u202eexe.pdf"
    db = create_engine(f"sqlite:///{tmp_path / 'mcc.db'}")
    with db.begin() as conn:
        conn.execute(text("UPDATE campaigns SET name = :n WHERE name = :o"), {"n": evil, "o": campaign})
    db.dispose()
    out = subprocess.run([*mcc, "campaigns", "list"], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "\u202e" not in out.stdout and "\x07" not in out.stdout
    # shown as written (markup not interpreted, controls as visible escapes); the table may fold the cell
    assert "\\x1b]0;owned" in out.stdout and "Fake[/bold red]" in out.stdout and "\\u202e" in out.stdout
