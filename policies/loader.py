"""Load the Cedar schema and policy files once, validate them, and index each policy's annotations.

Any problem raises ``PolicyLoadError`` naming the file, the line of the offending policy and Cedar's message,
so a bad policy file stops the server at start-up instead of deciding wrongly later.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import cedarpy

DEFAULT_POLICY_DIR = Path(__file__).parent / "cedar"
SCHEMA_SUFFIX = ".cedarschema"
POLICY_SUFFIX = ".cedar"


class PolicyLoadError(Exception):
    """A policy or schema file that cannot be used; ``file``/``line`` locate it, ``detail`` is Cedar's text."""

    def __init__(self, file: Path | str | None, line: int | None, detail: str) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        self.detail = detail
        where = self.file or "<policies>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {detail}")


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """One loaded policy: its Cedar id (``policyN``), our ``@id``, effect, message and approver group."""

    cedar_id: str
    rule_id: str
    effect: Literal["permit", "forbid"]
    reason: str
    approval_group: str | None
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class LoadedPolicies:
    schema: cedarpy.Schema
    policy_set: cedarpy.PolicySet
    rules: Mapping[str, PolicyRule]  # by Cedar id
    files: tuple[str, ...]
    permit_set: cedarpy.PolicySet  # the permits alone: "would anything allow this once approved?"
    version: str = ""  # SHA-256 of the schema and every policy file (name and text)
    groups: tuple[str, ...] = ()  # every Group the policies mention, sorted (who a denial can point to)

    def by_rule_id(self) -> Mapping[str, PolicyRule]:
        return {r.rule_id: r for r in self.rules.values()}


def split_statements(text: str) -> list[tuple[int, str]]:
    """Split Cedar text into policy statements with the 1-based line each starts on.

    Understands string literals and ``//`` comments, so a ``;`` inside either does not split.
    """
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    line, start_line = 1, None
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            j = n if j == -1 else j
            i = j
            continue
        if ch == '"':
            if start_line is None:
                start_line = line
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            chunk = text[i : j + 1]
            line += chunk.count("\n")
            buf.append(chunk)
            i = j + 1
            continue
        if ch == "\n":
            line += 1
        elif not ch.isspace() and start_line is None:
            start_line = line
        buf.append(ch)
        if ch == ";":
            out.append((start_line or line, "".join(buf)))
            buf, start_line = [], None
        i += 1
    rest = "".join(buf)
    if rest.strip():
        out.append((start_line or line, rest))
    return out


def _locate_parse_error(file: Path, text: str, err: str) -> PolicyLoadError:
    for line, stmt in split_statements(text):
        try:
            cedarpy.PolicySet.from_str(stmt)
        except ValueError as e:
            return PolicyLoadError(file, line, f"syntax error: {e}")
    return PolicyLoadError(file, None, f"syntax error: {err}")


def load_policies(
    directory: Path | str | None = None, *, approval_groups: Mapping[str, int] | None = None
) -> LoadedPolicies:
    """Parse and validate ``*.cedarschema`` (exactly one) and every ``*.cedar`` in ``directory``.

    Checks besides Cedar's own parsing and schema validation: every policy has a unique ``@id``, every
    forbid a ``@reason``, and every ``@approval_group`` names a group of ``approval_groups``.
    """
    root = Path(directory) if directory is not None else DEFAULT_POLICY_DIR
    if not root.is_dir():
        raise PolicyLoadError(root, None, "policy directory does not exist")
    schemas = sorted(root.glob(f"*{SCHEMA_SUFFIX}"))
    if len(schemas) != 1:
        raise PolicyLoadError(root, None, f"expected exactly one {SCHEMA_SUFFIX} file, found {len(schemas)}")
    schema_file = schemas[0]
    digest = hashlib.sha256(schema_file.read_bytes())
    try:
        schema = cedarpy.Schema.from_str(schema_file.read_text(encoding="utf-8"))
    except ValueError as e:
        raise PolicyLoadError(schema_file, None, f"schema error: {e}") from None

    files = sorted(root.glob(f"*{POLICY_SUFFIX}"))
    if not files:
        raise PolicyLoadError(root, None, f"no {POLICY_SUFFIX} policy files")
    texts: list[str] = []
    origins: list[tuple[str, int]] = []  # (file, line) per statement, in Cedar id order
    statements: list[str] = []
    for f in files:
        text = f.read_text(encoding="utf-8")
        digest.update(b"\0" + f.name.encode() + b"\0" + text.encode())
        try:
            count = len(cedarpy.PolicySet.from_str(text))
        except ValueError as e:
            raise _locate_parse_error(f, text, str(e)) from None
        stmts = split_statements(text)
        if len(stmts) != count:  # the splitter and Cedar must agree, or lines would be misattributed
            raise PolicyLoadError(f, None, f"found {len(stmts)} statements but Cedar parsed {count} policies")
        origins.extend((str(f), line) for line, _ in stmts)
        statements.extend(stmt for _, stmt in stmts)
        texts.append(text)

    combined = "\n".join(texts)
    policy_set = cedarpy.PolicySet.from_str(combined)
    result = cedarpy.validate_policies(combined, schema)
    if not result.validation_passed:
        first = result.errors[0]
        file, line = _origin(origins, first.policy_id)
        more = f" (and {len(result.errors) - 1} more)" if len(result.errors) > 1 else ""
        raise PolicyLoadError(file, line, f"schema validation failed: {first.error}{more}")

    groups = approval_groups if approval_groups is not None else {}
    rules: dict[str, PolicyRule] = {}
    seen: dict[str, str] = {}
    for cedar_id, node in policy_set.to_pst().static_policies.items():
        file, line = _origin(origins, cedar_id)
        ann = dict(node.annotations)
        rule_id = ann.get("id", "")
        if not rule_id:
            raise PolicyLoadError(file, line, 'policy has no @id("...") annotation')
        if rule_id in seen:
            raise PolicyLoadError(file, line, f"duplicate @id {rule_id!r} (first at {seen[rule_id]})")
        seen[rule_id] = f"{file}:{line}"
        effect = node.effect
        if effect == "forbid" and not ann.get("reason"):
            raise PolicyLoadError(file, line, f'forbid policy {rule_id} has no @reason("...")')
        group = ann.get("approval_group") or None
        if group is not None and group not in groups:
            raise PolicyLoadError(file, line, f"@approval_group({group!r}) of {rule_id} is not one of {sorted(groups)}")
        if group is not None and effect != "forbid":
            raise PolicyLoadError(file, line, f"@approval_group on {rule_id}: only forbid policies need approval")
        rules[cedar_id] = PolicyRule(
            cedar_id, rule_id, effect, ann.get("reason", rule_id), group, file or "", line or 0
        )
    permits = [statements[int(cid[6:])] for cid, r in rules.items() if r.effect == "permit"]
    permit_set = cedarpy.PolicySet.from_str("\n".join(permits))
    mentioned = tuple(sorted(set(_GROUP_RE.findall(combined))))
    return LoadedPolicies(
        schema, policy_set, MappingProxyType(rules), tuple(str(f) for f in files), permit_set, digest.hexdigest(),
        mentioned,
    )  # fmt: skip


_GROUP_RE = re.compile(r'\bGroup::"([^"\\]+)"')


def _origin(origins: list[tuple[str, int]], cedar_id: str) -> tuple[str | None, int | None]:
    if cedar_id.startswith("policy") and cedar_id[6:].isdigit():
        idx = int(cedar_id[6:])
        if idx < len(origins):
            return origins[idx]
    return None, None
