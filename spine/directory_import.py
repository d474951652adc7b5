"""Import a tenant's people from a file (YAML or CSV): users, groups and their Workfront / Asana identities.

Idempotent: a user whose fields already match is unchanged, so importing the same file twice changes nothing.
Users missing from the file are left alone (listed as ``not_in_file``), never removed by an import.

YAML::

    tenant: acme              # optional when --tenant is given; must match it when both are
    name: Acme Corp           # optional: creates the tenant when it does not exist yet
    users:
      - user_id: maya.chen
        display_name: Maya Chen
        email: maya.chen@acme.example
        groups: [campaign-managers]
        workfront_user_id: 0123456789abcdef0123456789abcdef   # optional
        asana_user_gid: "1200000000000001"                     # optional

CSV: a header row ``user_id,display_name,email,groups,workfront_user_id,asana_user_gid`` (groups separated by
``;``); the tenant comes from ``--tenant``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session

from spine.errors import UnknownTenantError, ValidationError
from spine.repositories.directory import DirectoryRepository, create_tenant, get_tenant
from spine.schemas import UserIn, UserOut

CSV_COLUMNS = ("user_id", "display_name", "email", "groups", "workfront_user_id", "asana_user_gid")
MAX_USERS = 50_000


class DirectoryFile(BaseModel):
    """A parsed directory file."""

    model_config = ConfigDict(extra="forbid")
    tenant: str | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    users: list[UserIn] = Field(default_factory=list, max_length=MAX_USERS)


@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do), by user id."""

    tenant_id: str
    tenant_created: bool = False
    created: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)  # user id -> the fields that changed
    unchanged: list[str] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return self.tenant_created or bool(self.created or self.updated)


def load_directory_file(path: Path) -> DirectoryFile:
    """Parse a YAML (``.yaml``/``.yml``) or CSV (``.csv``) file; errors name the row/field and the fix."""
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError("file", f"cannot read {path}: {exc.strerror}", "check the path") from None
    try:
        if suffix in (".yaml", ".yml"):
            raw = yaml.safe_load(text) or {}
            if not isinstance(raw, dict):
                raise ValidationError("file", "the YAML must be a mapping with a 'users' list", "see the module docs")
            return DirectoryFile.model_validate(raw)
        if suffix == ".csv":
            return DirectoryFile(users=_csv_users(text))
    except PydanticValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ValidationError(where or "file", err["msg"], "correct that entry and import again") from None
    except yaml.YAMLError as exc:
        raise ValidationError("file", f"not valid YAML: {exc}", "fix the syntax") from None
    raise ValidationError("file", f"unknown file type {suffix or '(none)'!r}", "use .yaml, .yml or .csv")


def _csv_users(text: str) -> list[UserIn]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS[:3] if c not in (reader.fieldnames or [])]
    if missing:
        fix = f"use the header {','.join(CSV_COLUMNS)}"
        raise ValidationError("file", f"CSV header lacks {', '.join(missing)}", fix)
    users = []
    for row in reader:
        entry = {k: (v or "").strip() for k, v in row.items() if k in CSV_COLUMNS}
        entry["groups"] = [g.strip() for g in entry.get("groups", "").split(";") if g.strip()]
        for optional in ("workfront_user_id", "asana_user_gid"):
            if not entry.get(optional):
                entry.pop(optional, None)
        users.append(UserIn.model_validate(entry))
    return users


def apply_directory(session: Session, tenant_id: str, spec: DirectoryFile, *, dry_run: bool = False) -> ImportReport:
    """Bring the tenant's directory in line with ``spec`` inside the caller's transaction (roll back for dry runs)."""
    if spec.tenant is not None and spec.tenant != tenant_id:
        raise ValidationError("tenant", f"the file is for tenant {spec.tenant!r}, not {tenant_id!r}", "pass --tenant")
    ids = [u.user_id for u in spec.users]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise ValidationError("users", f"user ids appear twice: {', '.join(dup)}", "keep one entry per user")
    report = ImportReport(tenant_id=tenant_id, dry_run=dry_run)
    try:
        get_tenant(session, tenant_id)
    except UnknownTenantError:
        if spec.name is None:  # creating a tenant needs its name: an unknown tenant stays an error
            raise
        create_tenant(session, tenant_id, spec.name)
        report.tenant_created = True
    directory = DirectoryRepository(session, tenant_id)
    for wanted in spec.users:
        if not directory.has_user(wanted.user_id):
            directory.add_user(wanted)
            report.created.append(wanted.user_id)
            continue
        current = directory.get_user(wanted.user_id)
        changes = _differences(current, wanted)
        if not changes:
            report.unchanged.append(wanted.user_id)
            continue
        directory.update_user(
            wanted.user_id, display_name=wanted.display_name, email=wanted.email,
            workfront_user_id=wanted.workfront_user_id, asana_user_gid=wanted.asana_user_gid,
        )  # fmt: skip
        if "groups" in changes:
            directory.set_groups(wanted.user_id, wanted.groups)
        report.updated[wanted.user_id] = changes
    listed = set(ids)
    report.not_in_file = [u.user_id for u in directory.list_users() if u.user_id not in listed]
    return report


def _differences(current: UserOut, wanted: UserIn) -> list[str]:
    diff = [f for f in ("display_name", "email", "workfront_user_id", "asana_user_gid")
            if getattr(current, f) != getattr(wanted, f)]  # fmt: skip
    if sorted(set(wanted.groups)) != current.groups:
        diff.append("groups")
    return diff
