"""One text policy for every free-text value that crosses a boundary (tool arguments, spine inputs).

Refused, in any string (dict keys and list items too): C0 control characters (U+0000-U+001F; a multi-line field
allows newline, carriage return and tab), DEL and C1 controls (U+007F-U+009F, which covers ESC/CSI/OSC
sequences and NUL), bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069, e.g. the
RTLO that makes ``exe.pdf`` read as ``fdp.exe``), and a non-empty value that is empty once whitespace and
invisible characters (zero-width space/joiners, word joiner, BOM) are stripped. The rule is the same on SQLite
and PostgreSQL because it runs before anything is stored or queried.

A field opts in to newlines with the ``MULTILINE`` marker in its annotation (``Annotated[str, MULTILINE]``) or
by naming it in the model's ``multiline_fields`` class variable.
"""

from __future__ import annotations

import typing
import unicodedata
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticCustomError


class MultilineText:
    """Annotation marker: this text field may contain newlines and tabs."""

    def __repr__(self) -> str:
        return "MULTILINE"


MULTILINE = MultilineText()

_NEWLINES = frozenset("\n\r\t")
_BIDI = frozenset(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad"
TEXT_POLICY_FIX = (
    "remove control characters, escape sequences and bidirectional overrides (newlines only where a field is "
    "multi-line), and send visible text"
)


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` breaks the text policy, or None when it is acceptable."""
    for i, ch in enumerate(value):
        code = ord(ch)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            if multiline and ch in _NEWLINES:
                continue
            kind = "a newline (this field is single-line)" if ch in _NEWLINES else "a control character"
            return f"contains {kind} {_name(ch)} at position {i}"
        if ch in _BIDI:
            return f"contains a bidirectional override {_name(ch)} at position {i}"
    if value and not value.strip().strip(_INVISIBLE).strip():
        return "has no visible characters (only whitespace or zero-width characters)"
    return None


def _name(ch: str) -> str:
    label = unicodedata.name(ch, "") or {"\x1b": "ESCAPE", "\x00": "NULL", "\n": "LINE FEED"}.get(ch, "control")
    return f"U+{ord(ch):04X} ({label})"


def first_problem(model: BaseModel) -> tuple[str, str] | None:
    """(field path, problem) of the first string in ``model`` (recursively) that breaks the policy."""
    return next(_problems(model, ""), None)


def check_text(model: BaseModel) -> None:
    """Raise a pydantic error naming the field path when any string of ``model`` breaks the policy (for a
    ``model_validator(mode='after')``)."""
    found = first_problem(model)
    if found is not None:
        path, problem = found
        raise PydanticCustomError(
            "text_policy", "{field}: {problem}", {"field": path, "problem": problem, "fix": TEXT_POLICY_FIX}
        )


def _problems(model: BaseModel, prefix: str) -> Iterator[tuple[str, str]]:
    cls = type(model)
    multiline_names: frozenset[str] = getattr(cls, "multiline_fields", frozenset())
    for name, info in cls.model_fields.items():
        multiline = name in multiline_names or _marked(info.annotation) or MULTILINE in info.metadata
        extra = info.json_schema_extra
        multiline = multiline or (isinstance(extra, dict) and extra.get("multiline") is True)
        yield from _walk(getattr(model, name, None), f"{prefix}{name}", multiline)


def _walk(value: Any, path: str, multiline: bool) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if (problem := text_problem(value, multiline=multiline)) is not None:
            yield path, problem
    elif isinstance(value, BaseModel):
        yield from _problems(value, f"{path}.")
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and (problem := text_problem(key)) is not None:
                yield f"{path}.<key>", problem
            yield from _walk(item, f"{path}.{key}", multiline)
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}.{i}", multiline)


def _marked(annotation: Any) -> bool:
    """True when ``MULTILINE`` appears anywhere in the annotation (inside ``X | None``, lists, ``Annotated``)."""
    if annotation is None:
        return False
    if any(m is MULTILINE for m in getattr(annotation, "__metadata__", ())):
        return True
    return any(_marked(arg) for arg in typing.get_args(annotation) if not isinstance(arg, str | int))
