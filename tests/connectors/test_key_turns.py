"""Calls with one key take turns; other keys and keyless calls never wait; idle keys hold no lock."""

from __future__ import annotations

import asyncio
import gc

from connectors.key_turns import KeyTurns


async def test_one_key_takes_turns_other_keys_do_not_wait() -> None:
    turns, log = KeyTurns(), []

    async def work(key: str | None, name: str, pause: float) -> None:
        async with turns(key):
            log.append(f"{name} in")
            await asyncio.sleep(pause)
            log.append(f"{name} out")

    await asyncio.gather(work("k", "a", 0.05), work("k", "b", 0), work("other", "c", 0), work(None, "d", 0))
    assert log.index("a out") < log.index("b in")  # b waited for a
    assert log.index("c out") < log.index("a out") and log.index("d out") < log.index("a out")  # c, d did not


async def test_a_key_nobody_holds_keeps_no_lock() -> None:
    turns = KeyTurns()
    async with turns("k"):
        assert len(turns._locks) == 1
    gc.collect()
    assert len(turns._locks) == 0
