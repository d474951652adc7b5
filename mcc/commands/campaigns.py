"""``mcc init``, ``mcc demo`` and ``mcc campaigns list|show`` (spine helper fills this in)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Mount the spine commands on the root app."""
