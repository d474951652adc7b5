"""Settings defaults that must match the installed libraries."""

from __future__ import annotations

import typing

import anthropic

from mcc.settings import Settings


def test_the_default_claude_model_is_one_the_installed_sdk_lists(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("MCC_ANTHROPIC_MODEL", raising=False)
    known = typing.get_args(typing.get_args(anthropic.types.Model)[0])
    default = Settings.model_fields["anthropic_model"].default
    assert default in known, f"{default!r} is not in the SDK's model list {known}"
    assert "sonnet" in default


def test_the_model_stays_configurable(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MCC_HOME", str(tmp_path))
    monkeypatch.setenv("MCC_ANTHROPIC_MODEL", "claude-haiku-4-5")
    assert Settings().anthropic_model == "claude-haiku-4-5"
