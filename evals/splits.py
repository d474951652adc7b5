"""The splits of a suite directory: ``dev`` (the shipped cases at its top level), ``paraphrase`` (rewordings of the
dev cases in ``paraphrases/``: the original's world and expectations with other user turns) and ``test`` (the
frozen cases in ``test/``, written before the capability they test and never tuned on).

``--split dev`` runs dev + paraphrases (what CI gates), ``test`` the frozen split, ``all`` everything. A case file
named directly is always loaded, in the split of its folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml

from evals.case_files import CaseFileError, load_cases, load_file
from evals.cases import Case, Split

SPLITS: tuple[Split, ...] = ("dev", "paraphrase", "test")
Selection = Literal["dev", "test", "all"]
SELECTIONS: dict[str, tuple[Split, ...]] = {"dev": ("dev", "paraphrase"), "test": ("test",), "all": SPLITS}
PARAPHRASE_DIR, TEST_DIR = "paraphrases", "test"


def _yaml_files(folder: Path) -> list[Path]:
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []


def _in_split(cases: list[Case], split: Split) -> list[Case]:
    return [c.model_copy(update={"split": split}) for c in cases]


def paraphrase_cases(path: Path, originals: dict[str, Case]) -> list[Case]:
    """The cases of one paraphrase file: a mapping of original case id -> rewordings; a rewording is a string (a
    one-turn case) or a list of strings, one per user turn of the original. Each runs as ``<id>~p<n>``."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError) as exc:
        raise CaseFileError(f"{path}: not a readable YAML file ({exc})") from None
    if not isinstance(data, dict):
        raise CaseFileError(f"{path}: a paraphrase file maps case ids to lists of rewordings")
    out: list[Case] = []
    for cid, wordings in data.items():
        original = originals.get(str(cid))
        if original is None:
            raise CaseFileError(f"{path}: {cid!r} is not a case id of the suite; paraphrase an existing case")
        if not isinstance(wordings, list) or not wordings:
            raise CaseFileError(f"{path}: {cid}: give a list of rewordings (strings, or lists of turns)")
        for n, wording in enumerate(wordings, start=1):
            texts = [wording] if isinstance(wording, str) else wording
            if not isinstance(texts, list) or not all(isinstance(t, str) and t.strip() for t in texts):
                raise CaseFileError(f"{path}: {cid} #{n}: a rewording is a non-empty string or a list of them")
            if len(texts) != len(original.turns):
                raise CaseFileError(
                    f"{path}: {cid} #{n}: {len(texts)} turn(s), but the case has {len(original.turns)}; "
                    "give one message per user turn"
                )
            turns = [t.model_copy(update={"user": text}) for t, text in zip(original.turns, texts, strict=True)]
            out.append(original.model_copy(update={
                "id": f"{original.id}~p{n}", "turns": turns, "split": "paraphrase", "paraphrase_of": original.id,
                "tags": [*original.tags, "paraphrase"],
            }))  # fmt: skip
    return out


def _directory(folder: Path, wanted: tuple[Split, ...]) -> list[Case]:
    if folder.name == PARAPHRASE_DIR:
        raise CaseFileError(f"{folder}: paraphrases need their originals; pass the suite directory ({folder.parent})")
    if folder.name == TEST_DIR:
        return _in_split(load_cases([folder]), "test")
    dev = load_cases([folder]) if _yaml_files(folder) else []
    out = list(dev) if "dev" in wanted else []
    if "paraphrase" in wanted:
        originals = {c.id: c for c in dev}
        for f in _yaml_files(folder / PARAPHRASE_DIR):
            out.extend(paraphrase_cases(f, originals))
    if "test" in wanted and (folder / TEST_DIR).is_dir():
        out.extend(_in_split(load_cases([folder / TEST_DIR]), "test"))
    return out


def load_suite(paths: list[Path], selection: str = "dev") -> list[Case]:
    """The cases of ``paths`` in the selected splits (directories); named files always, in their folder's split."""
    if selection not in SELECTIONS:
        raise ValueError(f"--split: unknown split {selection!r}; use dev, test or all")
    wanted = SELECTIONS[selection]
    cases: list[Case] = []
    for p in paths:
        if p.is_dir():
            cases.extend(_directory(p, wanted))
        elif p.is_file():
            if p.parent.name == PARAPHRASE_DIR:
                raise CaseFileError(f"{p}: paraphrases need their originals; pass the suite directory instead")
            split: Split = "test" if p.parent.name == TEST_DIR else "dev"
            cases.extend(_in_split(load_file(p), split))
        else:
            raise CaseFileError(f"{p}: no such file or directory")
    if not cases:
        raise CaseFileError(f"no cases in split {selection} under {', '.join(map(str, paths))}")
    seen: set[str] = set()
    for c in cases:
        if c.id in seen:
            raise CaseFileError(f"case id {c.id!r} occurs twice in {', '.join(map(str, paths))}; ids must be unique")
        seen.add(c.id)
    return cases
