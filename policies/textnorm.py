"""Text as the PII detectors read it: one spelling per digit and separator, invisible characters removed.

Card numbers and SSNs are easy to disguise: fullwidth or other-script digits, non-breaking or thin spaces, dots
or slashes between digit groups, zero-width or other format characters between digits. ``normalize`` folds all of
these (Unicode NFKC, every decimal digit to 0-9, every space to " ", dashes to "-", dot and slash look-alikes to
"." and "/", format characters and combining marks dropped) and keeps, for each character of the result, the
index of the original character it came from, so a hit found in the normalized text masks the right span of the
original.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_DROPPED = frozenset({"Cf", "Mn", "Me"})  # format characters (zero-width, soft hyphen) and combining marks
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
_DOTS = frozenset("\u00b7\u2024\u2027\u2e31\u30fb\uff0e\u2219")
_SLASHES = frozenset("\\\u2044\u2215\u29f8\uff0f")
# ASCII needs no NFKC: only its whitespace and backslash change, one for one.
_ASCII = str.maketrans({"\t": " ", "\n": " ", "\r": " ", "\v": " ", "\f": " ", "\\": "/"})


@dataclass(frozen=True, slots=True)
class Normalized:
    """The normalized text, where each of its characters came from, and where characters were dropped."""

    text: str
    origin: tuple[int, ...] | None  # origin[i]: index in the original of text[i]; None when identical
    gaps: frozenset[int] = frozenset()  # indexes i of text where something invisible was dropped before text[i]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of ``text[start:end]``."""
        if self.origin is None:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1

    def dropped_inside(self, start: int, end: int) -> bool:
        """True when invisible characters were removed between ``text[start]`` and ``text[end - 1]``."""
        return any(start < i < end for i in self.gaps)


def _fold(c: str) -> str | None:
    if unicodedata.category(c) in _DROPPED:
        return None
    digit = unicodedata.decimal(c, None)
    if digit is not None:
        return str(digit)
    if c.isspace():
        return " "
    if c in _DASHES:
        return "-"
    if c in _DOTS:
        return "."
    if c in _SLASHES:
        return "/"
    return c


def normalize(text: str) -> Normalized:
    """``text`` folded for detection (see the module docstring), with the map back to the original."""
    if text.isascii():
        return Normalized(text.translate(_ASCII), None)
    out: list[str] = []
    origin: list[int] = []
    gaps: set[int] = set()
    for i, ch in enumerate(text):
        folded = [f for f in map(_fold, unicodedata.normalize("NFKC", ch)) if f is not None]
        if not folded:
            gaps.add(len(out))
            continue
        for f in folded:
            out.append(f)
            origin.append(i)
    return Normalized("".join(out), tuple(origin), frozenset(gaps))
