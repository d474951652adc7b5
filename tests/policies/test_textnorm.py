"""Normalization for PII detection: one spelling per digit and separator, and the map back to the original."""

from __future__ import annotations

import pytest

from policies.textnorm import normalize


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("４１１１", "4111"),
        ("\u0664\u0661", "41"),  # Arabic-Indic digits
        ("1\u00a02\u202f3\u30004", "1 2 3 4"),
        ("1\u20132\u22123\uff0d4", "1-2-3-4"),
        ("1\u00b72\uff0e3", "1.2.3"),
        ("1\u20442\uff0f3", "1/2/3"),
        ("1\u200b2\u200d3\ufeff4\u00ad5", "12345"),
        ("e\u0301x", "ex"),  # combining marks dropped
        ("plain ascii\tline\n", "plain ascii line "),
    ],
)
def test_folds(text: str, folded: str) -> None:
    assert normalize(text).text == folded


def test_spans_map_back_to_the_original() -> None:
    text = "pay 4\u200b1\uff11"
    norm = normalize(text)
    start = norm.text.index("4")
    a, b = norm.span(start, start + 3)
    assert text[a:b] == "4\u200b1\uff11"
    assert norm.dropped_inside(start, start + 3) and not norm.dropped_inside(0, start)


def test_ascii_is_unchanged_in_length() -> None:
    norm = normalize("123-45-6789")
    assert norm.text == "123-45-6789" and norm.origin is None and norm.span(0, 3) == (0, 3)
