"""Proposing a write before doing it, and reading the user's answer ("yes" / "no") that arrives joined to the
request after a dash (see the supervisor's follow-up handling)."""

from __future__ import annotations

import re

from agents.offline.plans.common import Answer, clarify
from agents.offline.transcript import PlanContext

_YES_RE = re.compile(r"\s—\s*(yes|yep|yeah|y|ok|okay|sure|go ahead|do it|confirm(?:ed)?|please do|correct|"
                     r"sounds good|that'?s right)\b[^—]*$", re.I)  # fmt: skip
_NO_RE = re.compile(r"\s—\s*(no|nope|cancel|stop|don'?t|do not|never ?mind|abort)\b[^—]*$", re.I)


def confirmed(text: str) -> bool:
    """Whether the user's last answer accepted our proposal."""
    return bool(_YES_RE.search(text))


def declined(text: str) -> bool:
    """Whether the user's last answer turned our proposal down."""
    return bool(_NO_RE.search(text))


def propose(ctx: PlanContext, summary: str) -> Answer:
    """A proposal the user confirms with "yes" (nothing is written until then)."""
    return clarify(ctx, f"{summary} Go ahead? (yes / no)")


def needs_confirmation(ctx: PlanContext, inferred: list[str], text: str) -> bool:
    """Whether this write must be proposed first: always, or when some values were inferred (setting
    ``confirm_writes``), unless the user has already said yes."""
    if confirmed(text):
        return False
    if ctx.confirm_writes == "always":
        return True
    return ctx.confirm_writes == "ambiguous" and bool(inferred)
