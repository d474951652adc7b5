"""The offline model's training phrasings and the texts in agents/ share no 5-word run (normalised) with a sentence
it is measured on: user turns of evals/cases/** (dev, paraphrases, frozen test) and of the offline model's fresh
cases, the knowledge evaluation questions (knowledge/eval/*.yaml, the corpus dev set among them) and the router's
held-out sets. A shared frame ("leave a comment on the ... task saying ...") lets a score rise by memorising the
test's wording instead of generalising."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from agents.offline.classifier import load_intents
from evals.splits import load_suite
from tests.agents.offline.heldout_requests import HELDOUT
from tests.agents.offline.routing_cases import HELD_OUT, MULTI

ROOT = Path(__file__).resolve().parents[3]
AGENTS = ROOT / "agents"
RUN = 5
_DATA_SUFFIXES = {".yaml", ".yml", ".json", ".txt", ".md"}


def runs(text: str, n: int = RUN) -> set[str]:
    """The text's n-word runs: lower case, apostrophes dropped ("what's" = "whats"), punctuation a word break."""
    words = re.findall(r"[a-z0-9$]+", re.sub(r"['’]", "", text.lower()))
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def measured_sentences() -> Iterator[tuple[str, str]]:
    """(where, sentence) for every sentence a score is computed on."""
    for case in load_suite([ROOT / "evals" / "cases"], "all"):
        for turn in case.turns:
            yield f"evals {case.split} {case.id}", turn.user
    for case in load_suite([Path(__file__).parent / "cases"], "all"):
        for turn in case.turns:
            yield f"offline-cases {case.id}", turn.user
    for path in sorted((ROOT / "knowledge" / "eval").glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")):
            yield f"{path.name} {item['id']}", item["question"]
    for text, _ in [*HELDOUT, *HELD_OUT, *MULTI]:
        yield "router held-out", text


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def training_texts() -> Iterator[tuple[str, str]]:
    """(where, text) for the paraphrase set and every other text under agents/: data files and the string
    literals of its modules (prompts, examples, docstrings)."""
    for intent, texts in load_intents().items():
        for text in texts:
            yield f"intents.yaml {intent}", text
    for path in sorted(AGENTS.rglob("*")):
        where = str(path.relative_to(ROOT))
        if path.suffix in {".yaml", ".yml"} and path.name != "intents.yaml":
            for text in _strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
                yield where, text
        elif path.suffix in _DATA_SUFFIXES - {".yaml", ".yml"}:
            yield where, path.read_text(encoding="utf-8")
        elif path.suffix == ".py":
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    yield where, node.value


def test_the_measured_sentences_are_found() -> None:
    # the check below is empty if the loaders find nothing: every source must contribute
    sources = {where.split()[0] for where, _ in measured_sentences()}
    assert {"evals", "offline-cases", "qa_dev.yaml", "router"} <= sources, sources
    assert {s.split()[1] for s, _ in measured_sentences() if s.startswith("evals")} == {"dev", "paraphrase", "test"}


def test_runs_are_normalised() -> None:
    assert "whats the status of the" in runs("What's the STATUS of the 'X' task?")
    assert runs("one two three four") == set()


def test_no_training_text_shares_a_five_word_run_with_a_measured_sentence() -> None:
    measured: dict[str, tuple[str, str]] = {}
    for where, sentence in measured_sentences():
        for run in runs(sentence):
            measured.setdefault(run, (where, sentence))
    leaks = []
    for where, text in training_texts():
        shared = sorted(r for r in runs(text) if r in measured)
        if shared:
            at, sentence = measured[shared[0]]
            leaks.append(f"{where}: {text[:80]!r} shares {shared[0]!r} with {at}: {sentence!r}")
    assert not leaks, "write a fresh phrasing with another frame:\n" + "\n".join(leaks)
