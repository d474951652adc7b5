"""Follow-ups that only make sense with the thread's state (``CONVERSATION_KEY`` metadata): "any news?" about
the thread's approval, "try again with 8k" after the last request, and "it" meaning what the thread dealt with."""

from __future__ import annotations

import re
from typing import Any

from agents.models.base import Message, TextBlock
from agents.offline.router import CONTEXT_MARK, own_words

_REFERENCE_RE = re.compile(r"\b(it|its|this campaign|that campaign|the same campaign|this task|that task|them)\b", re.I)


# A short question about where this thread's approval stands ("any news?", "is it approved yet?").
_STATUS_FOLLOW_RE = re.compile(
    r"\b(any (news|update|word|progress)|updates?\s*\??$|approved (yet|now|already)|is it (through|approved|signed)|"
    r"heard (back|anything)|still (waiting|pending)|where (are we|does it stand)|(decision|sign-?off) yet)\b",
    re.I,
)
# A follow-up that repeats the thread's last request with a change ("try again with 8k").
RETRY_RE = re.compile(r"\b(try (it |that )?again|retry|one more time|re-?submit|redo|same (thing|again) (but|with))\b",
                       re.I)  # fmt: skip


def is_status_follow_up(text: str, talk: dict[str, Any]) -> bool:
    """Whether ``text`` asks how this thread's approval stands (one waits, or the thread dealt with one)."""
    own = own_words(text)[0]
    known = talk.get("waiting") or (talk.get("focus") or {}).get("approval_id")
    return bool(known) and len(own.split()) <= 8 and bool(_STATUS_FOLLOW_RE.search(own))


def refers_back(text: str, talk: dict[str, Any]) -> list[dict[str, str]] | None:
    """Parts for a follow-up that only makes sense with the thread's state: an approval status question goes to
    the production agent (which reads approvals); "try again with ..." to the agent of the last request."""
    if is_status_follow_up(text, talk):
        waiting = [str(w.get("approval_id")) for w in talk.get("waiting") or []]
        ids = waiting or [str((talk.get("focus") or {}).get("approval_id"))]
        return [{"agent": "production", "request": f"{text}{CONTEXT_MARK}approval {', '.join(ids)}"[:4000]}]
    focus = talk.get("focus") or {}
    if RETRY_RE.search(text) and focus.get("request") and focus.get("agent"):
        return [{"agent": str(focus["agent"]), "request": f"{text}{CONTEXT_MARK}{focus_words(talk)}"[:4000]}]
    return None


def focus_words(talk: dict[str, Any]) -> str:
    """The words of the request the thread last dealt with (a retry's earlier request, not the retry itself)."""
    requests = (talk.get("focus") or {}).get("request") or []
    words = []
    for r in requests if isinstance(requests, list) else [requests]:
        own, context = own_words(str(r))
        words.append(context if RETRY_RE.search(own) and context else own)
    return ". ".join(w.strip() for w in words if w.strip())


def previous_user_text(messages: list[Message]) -> str:
    """The user's message of the turn before this one ("" when this is the first)."""
    users = [m for m in messages if m.role == "user" and any(isinstance(b, TextBlock) for b in m.blocks)]
    return last_user_text(users[:-1]) if len(users) > 1 else ""


def with_earlier(request: str, earlier: str) -> str:
    """A part that says "it" without naming anything carries the previous turn's words as context."""
    if not earlier or CONTEXT_MARK in request or not _REFERENCE_RE.search(request):
        return request
    return request + CONTEXT_MARK + own_words(earlier)[0]


def last_user_text(messages: list[Message]) -> str:
    """The text of the latest user message that has text ("" when none)."""
    for m in reversed(messages):
        if m.role == "user":
            texts = [b.text for b in m.blocks if isinstance(b, TextBlock)]
            if texts:
                return "\n".join(texts)
    return ""
