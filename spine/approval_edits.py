"""What an approver may change when approving with edits (lower an amount, move a date) and the diff it leaves.

The edited call has the same shape as the requested one: no argument added or removed, no text, id or flag
changed. A number may only go down (never below zero); a date or datetime may move. Anything else is refused with
the path of the argument and the fix.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel

from spine.approval_errors import ApprovalError


class ApprovalEditRefused(ApprovalError):
    code = "approval_edit_refused"


class Edit(BaseModel):
    """One changed argument: its dotted path, the value requested and the value approved."""

    path: str
    kind: str  # "lowered" | "date_moved"
    before: Any
    after: Any


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            d = Decimal(value)
        except InvalidOperation:
            return None
        return d if d.is_finite() else None
    return None


def _when(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.datetime.fromisoformat(value) if len(value) > 10 else dt.date.fromisoformat(value)
    except ValueError:
        return None


def _is_identifier(path: str) -> bool:
    leaf = path.rsplit(".", 1)[-1].casefold()
    return leaf == "id" or leaf.endswith(("_id", "_gid", "id", "key"))


def diff_arguments(before: Any, after: Any, path: str = "arguments") -> list[Edit]:
    """The edits from ``before`` to ``after`` (both canonical JSON); raises ``ApprovalEditRefused`` for a change
    an approver may not make. An empty list means nothing changed."""
    if isinstance(before, dict) and isinstance(after, dict):
        if set(before) != set(after):
            extra = sorted(set(after) - set(before))
            missing = sorted(set(before) - set(after))
            what = f"added {extra}" if extra else f"removed {missing}"
            raise ApprovalEditRefused(f"{path}: {what}; edits may only change values", "keep every argument",
                                      field=path)  # fmt: skip
        return [e for key in sorted(before) for e in diff_arguments(before[key], after[key], f"{path}.{key}")]
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            raise ApprovalEditRefused(f"{path}: the list changed length", "keep every item", field=path)
        return [
            e for i, (b, a) in enumerate(zip(before, after, strict=True)) for e in diff_arguments(b, a, f"{path}.{i}")
        ]
    if before == after and type(before) is type(after):
        return []
    old_n, new_n = _number(before), _number(after)
    if old_n is not None and new_n is not None and not _is_identifier(path) and _when(before) is None:
        if new_n >= old_n:
            raise ApprovalEditRefused(f"{path}: {after} is not lower than {before}",
                                      "an approver may only lower an amount; reject instead", field=path)  # fmt: skip
        if new_n < 0:
            raise ApprovalEditRefused(f"{path}: {after} is negative", "enter zero or more", field=path)
        return [Edit(path=path, kind="lowered", before=before, after=after)]
    old_d, new_d = _when(before), _when(after)
    if old_d is not None and new_d is not None and type(old_d) is type(new_d):
        return [Edit(path=path, kind="date_moved", before=before, after=after)]
    raise ApprovalEditRefused(f"{path}: {before!r} -> {after!r} is not a lower amount or a moved date",
                              "an approver may only lower amounts and move dates; reject with a note otherwise",
                              field=path)  # fmt: skip


def set_path(arguments: Any, path: str, value: Any) -> Any:
    """A copy of ``arguments`` with the dotted ``path`` (as ``diff_arguments`` names it, without the leading
    ``arguments.``) set to ``value``; an unknown path raises ``ApprovalEditRefused``."""
    import copy

    out = copy.deepcopy(arguments)
    parts = path.removeprefix("arguments.").split(".")
    node = out
    for i, part in enumerate(parts):
        key: Any = int(part) if isinstance(node, list) and part.isdigit() else part
        try:
            if i == len(parts) - 1:
                node[key]
                node[key] = value
            else:
                node = node[key]
        except (KeyError, IndexError, TypeError):
            raise ApprovalEditRefused(f"{path}: no such argument", "edit an argument of the call",
                                      field=path) from None  # fmt: skip
    return out


def summary(edits: list[dict[str, Any]]) -> str:
    """One line a requester reads: what the approver changed."""
    return "; ".join(f"{e['path'].removeprefix('arguments.')}: {e['before']} -> {e['after']}" for e in edits)
