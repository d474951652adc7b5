"""The sync state machine of one (entity, system) pair: synced -> pending -> syncing -> synced for MCC changes
going out, conflict -> resolved -> synced for a MANUAL conflict, error when an outbound push failed for good."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

STATES = ("synced", "pending", "syncing", "conflict", "resolved", "error")
TRANSITIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "synced": frozenset({"pending", "conflict"}),
        "pending": frozenset({"pending", "syncing", "conflict"}),
        "syncing": frozenset({"synced", "pending", "error", "conflict"}),
        "conflict": frozenset({"conflict", "resolved"}),
        "resolved": frozenset({"synced", "pending"}),
        "error": frozenset({"pending", "synced", "conflict"}),
    }
)


class InvalidTransition(ValueError):
    """A state change the machine does not allow; the message names both states and the allowed ones."""

    def __init__(self, current: str, target: str) -> None:
        allowed = sorted(TRANSITIONS.get(current, ()))
        super().__init__(f"status: cannot go from {current!r} to {target!r}; from {current!r} go to {allowed}")
        self.current, self.target = current, target


def next_state(current: str, target: str) -> str:
    """``target`` when the machine allows ``current -> target`` (staying put is always allowed), else raises."""
    if target not in STATES:
        raise InvalidTransition(current, target)
    if current == target or target in TRANSITIONS.get(current, frozenset()):
        return target
    raise InvalidTransition(current, target)


def after_inbound(current: str, has_open_conflict: bool) -> str:
    """The state after an inbound change was applied: a conflict stays until resolved; an outbound change in
    flight (pending/syncing) keeps its state; otherwise the pair is synced."""
    if has_open_conflict:
        return "conflict"
    if current in ("pending", "syncing", "conflict"):
        return current
    return "synced"
