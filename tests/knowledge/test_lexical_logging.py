"""Building the BM25 index prints no library debug lines, even under a root logger at DEBUG."""

from __future__ import annotations

import logging

import pytest

from knowledge.lexical import LexicalIndex


def test_bm25s_debug_lines_do_not_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        index = LexicalIndex(["a", "b"], ["tier one launch budget", "brand voice and tone"])
    assert index.top("launch budget", 1)[0][0] == 0
    assert not [r for r in caplog.records if r.name.startswith("bm25s") and r.levelno < logging.WARNING]
