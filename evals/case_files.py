"""Case files: YAML (one case, or a list of cases, per file) loaded into ``evals.cases.Case``; every error names the
file, the case and the field, and says how to fix it. Also the case's JSON Schema, generated from the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from evals.cases import Case

SCHEMA_PATH = Path(__file__).resolve().parent / "case.schema.json"


class CaseFileError(ValueError):
    """A case file that cannot be used; the message names the file, the case and the field."""


def _where(path: Path, index: int, raw: Any) -> str:
    cid = raw.get("id") if isinstance(raw, dict) else None
    return f"{path}: case {cid!r} (#{index + 1})" if cid else f"{path}: case #{index + 1}"


def _field(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        elif not (isinstance(p, str) and ("[" in p or "-" in p or p[:1].isupper() or p in _TYPE_NAMES)):
            parts.append(f".{p}" if parts else str(p))
    return "".join(parts) or "(case)"


_TYPE_NAMES = {"str", "int", "float", "bool", "date", "decimal", "list", "dict"}  # union branch names in locs
_BRANCH_ERRORS = {"list_type", "dict_type", "model_type", "model_attributes_type", "string_type"}


def parse_case(raw: Any, where: str = "case") -> Case:
    """One case from parsed YAML; ``CaseFileError`` names the first bad field and the fix."""
    if not isinstance(raw, dict):
        raise CaseFileError(f"{where}: a case is a mapping with id, principal, turns and expect")
    for key in ("split", "paraphrase_of"):
        if key in raw:
            raise CaseFileError(f"{where}: {key}: set by the folder (test/, paraphrases/), not in a case; remove it")
    try:
        return Case.model_validate(raw)
    except ValidationError as exc:
        errors = [(e, _field(tuple(e["loc"]))) for e in exc.errors()]
        lines: dict[str, str] = {}
        for err, name in errors:
            if err["type"] in _BRANCH_ERRORS and any(n.startswith(name) and e is not err for e, n in errors):
                continue  # the other branch of a union: the input was meant for the one with a real error
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field; check the spelling against evals/README.md"
            lines.setdefault(name, msg)  # a union reports each branch: keep the first
        shown = [f"{k}: {v}" for k, v in list(lines.items())[:4]]
        raise CaseFileError(f"{where}: " + "; ".join(shown)) from None


class _DatesAsText(yaml.SafeLoader):
    """SafeLoader that keeps unquoted dates as text, so a YAML file validates the same way against the JSON
    Schema (dates are strings there) and the case models (which parse the ISO text)."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_file(path: Path) -> list[Case]:
    """The cases of one YAML file (a mapping or a list of mappings)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_DatesAsText)
    except yaml.YAMLError as exc:
        raise CaseFileError(f"{path}: not valid YAML ({exc})") from None
    except OSError as exc:
        raise CaseFileError(f"{path}: cannot read ({exc.strerror})") from None
    raws = data if isinstance(data, list) else [data] if isinstance(data, dict) else None
    if raws is None:
        raise CaseFileError(f"{path}: expected a case (mapping) or a list of cases")
    return [parse_case(raw, _where(path, i, raw)) for i, raw in enumerate(raws)]


def load_cases(paths: list[Path]) -> list[Case]:
    """Every case of the given files and directories (``*.yaml``/``*.yml``, sorted); ids must be unique."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]))
        elif p.is_file():
            files.append(p)
        else:
            raise CaseFileError(f"{p}: no such file or directory")
    if not files:
        raise CaseFileError(f"no case files (*.yaml) under {', '.join(map(str, paths))}")
    cases: list[Case] = []
    seen: dict[str, Path] = {}
    for f in files:
        for case in load_file(f):
            if case.id in seen:
                raise CaseFileError(f"{f}: case id {case.id!r} is also used in {seen[case.id]}; ids must be unique")
            seen[case.id] = f
            cases.append(case)
    return cases


def case_json_schema() -> dict[str, Any]:
    """The JSON Schema of a case file: one case, or a list of cases (``$defs.Case`` is the case itself)."""
    case = Case.model_json_schema()
    defs = case.pop("$defs", {})
    defs["Case"] = case
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "MCC eval case file",
        "description": "One eval case, or a list of them (see evals/README.md).",
        "anyOf": [{"$ref": "#/$defs/Case"}, {"type": "array", "items": {"$ref": "#/$defs/Case"}}],
        "$defs": defs,
    }


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    """Write the generated schema (``mcc eval schema`` and the test that keeps the shipped file current)."""
    path.write_text(json.dumps(case_json_schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
