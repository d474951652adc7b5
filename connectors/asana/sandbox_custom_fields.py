"""Project custom fields in the embedded Asana sandbox: workspace field definitions, the fields attached to each
project (custom field settings) and their values, with Asana's shapes and refusals (a value for a field that is not
on the project, a number for a text field, an unknown enum option)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from sqlalchemy import JSON, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from connectors.asana.custom_fields import CustomField, ProjectFields
from connectors.asana.errors import InvalidArgument, NotFound
from connectors.asana.models import check_gid, check_text
from connectors.asana.sandbox_store import ProjectRow, SandboxBase, WorkspaceRow, new_gid

if TYPE_CHECKING:
    from connectors.asana.sandbox import AsanaSandbox

KINDS = ("number", "text", "enum")


class CustomFieldRow(SandboxBase):
    __tablename__ = "custom_fields"
    gid: Mapped[str] = mapped_column(String(20), primary_key=True)
    workspace_gid: Mapped[str] = mapped_column(ForeignKey("workspaces.gid"))
    name: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[str] = mapped_column(String(16))
    precision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    currency_code: Mapped[str | None] = mapped_column(String(3), nullable=True)
    enum_options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class ProjectFieldRow(SandboxBase):
    """A custom field setting (the field is on the project) and the project's value of it (None: empty)."""

    __tablename__ = "project_custom_fields"
    project_gid: Mapped[str] = mapped_column(ForeignKey("projects.gid"), primary_key=True)
    field_gid: Mapped[str] = mapped_column(ForeignKey("custom_fields.gid"), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)


def _definition(row: CustomFieldRow) -> CustomField:
    fmt = "currency" if row.currency_code else ("custom" if row.kind == "number" else None)
    return CustomField(gid=row.gid, name=row.name, resource_subtype=row.kind, type=row.kind,
                       precision=row.precision, format=fmt, currency_code=row.currency_code,
                       enum_options=list(row.enum_options or []))  # fmt: skip


def _entry(row: CustomFieldRow, value: Any) -> dict[str, Any]:
    """A project's ``custom_fields`` entry as Asana renders it."""
    out: dict[str, Any] = {"gid": row.gid, "resource_type": "custom_field", "name": row.name,
                           "resource_subtype": row.kind, "type": row.kind}  # fmt: skip
    if row.kind == "number":
        out["number_value"] = value
        out["display_value"] = None if value is None else f"{value:.{row.precision or 0}f}"
    elif row.kind == "enum":
        option = next((o for o in row.enum_options or [] if o["gid"] == value), None)
        out["enum_value"] = option
        out["display_value"] = option["name"] if option else None
    else:
        out["text_value"] = out["display_value"] = value
    return out


def _project(s: Session, gid: str) -> ProjectRow:
    row = s.scalars(select(ProjectRow).where(ProjectRow.gid == check_gid(gid, "project_gid"))).one_or_none()
    if row is None:
        raise NotFound("project_gid", f"no project {gid}")
    return row


def _checked(row: CustomFieldRow, value: Any) -> Any:
    if value is None:
        return None
    if row.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidArgument("custom_fields", f"custom field {row.gid} is a number field; give a number")
        return round(float(value), row.precision or 0)
    if row.kind == "enum":
        if not any(o["gid"] == value and o.get("enabled", True) for o in row.enum_options or []):
            raise InvalidArgument("custom_fields", f"enum option {value!r} is not an option of custom field {row.gid}")
        return value
    if not isinstance(value, str):
        raise InvalidArgument("custom_fields", f"custom field {row.gid} is a text field; give a string")
    return value


class SandboxProjectFields:
    """The sandbox's ``ProjectFieldsSource`` (``field_gids``: canonical field -> explicit gid)."""

    def __init__(self, sandbox: AsanaSandbox, field_gids: Mapping[str, str] | None = None) -> None:
        self.sandbox = sandbox
        self.field_gids = dict(field_gids or {})

    async def _run(self, fn: Any, *args: Any) -> Any:
        def body() -> Any:
            with self.sandbox._sessions() as s, s.begin():
                return fn(s, *args)

        return await anyio.to_thread.run_sync(body)

    async def project_fields(self, project_gid: str) -> ProjectFields:
        return await self._run(self._project_fields, project_gid)

    async def workspace_fields(self, workspace_gid: str) -> list[CustomField]:
        def read(s: Session) -> list[CustomField]:
            rows = s.scalars(select(CustomFieldRow).where(CustomFieldRow.workspace_gid == workspace_gid)
                             .order_by(CustomFieldRow.gid))  # fmt: skip
            return [_definition(r) for r in rows]

        return await self._run(read)

    async def get_field(self, field_gid: str) -> CustomField:
        check_gid(field_gid, "custom_field_gid")
        return await self._run(lambda s: _definition(self._field(s, field_gid)))

    async def add_setting(self, project_gid: str, field_gid: str) -> None:
        await self._run(self._add_setting, project_gid, field_gid)

    async def put_values(self, project_gid: str, values: Mapping[str, Any]) -> None:
        await self._run(self._put_values, project_gid, dict(values))

    # ---- one transaction each

    @staticmethod
    def _field(s: Session, gid: str) -> CustomFieldRow:
        row = s.get(CustomFieldRow, gid)
        if row is None:
            raise NotFound("custom_field_gid", f"no custom field {gid}")
        return row

    def _project_fields(self, s: Session, project_gid: str) -> ProjectFields:
        project = _project(s, project_gid)
        rows = s.execute(select(CustomFieldRow, ProjectFieldRow.value).join(
            ProjectFieldRow, ProjectFieldRow.field_gid == CustomFieldRow.gid
        ).where(ProjectFieldRow.project_gid == project_gid).order_by(CustomFieldRow.gid))  # fmt: skip
        return ProjectFields(project.workspace_gid, [_entry(r, v) for r, v in rows])

    def _add_setting(self, s: Session, project_gid: str, field_gid: str) -> None:
        project = _project(s, project_gid)
        row = self._field(s, check_gid(field_gid, "custom_field"))
        if row.workspace_gid != project.workspace_gid:
            raise InvalidArgument("custom_field", f"custom field {field_gid} is not in the project's workspace")
        if s.get(ProjectFieldRow, (project_gid, field_gid)) is not None:
            raise InvalidArgument("custom_field", f"custom field {field_gid} is already on project {project_gid}")
        s.add(ProjectFieldRow(project_gid=project_gid, field_gid=field_gid, value=None))

    def _put_values(self, s: Session, project_gid: str, values: dict[str, Any]) -> None:
        _project(s, project_gid)
        checked: list[tuple[ProjectFieldRow, Any]] = []
        for gid, value in values.items():  # all checked before any is written, as Asana refuses the whole PUT
            setting = s.get(ProjectFieldRow, (project_gid, gid))
            if setting is None:
                raise InvalidArgument("custom_fields", f"Custom field with ID {gid} is not on given object")
            checked.append((setting, _checked(self._field(s, gid), value)))
        for setting, value in checked:
            setting.value = value


def create_custom_field(s: Session, workspace_gid: str, name: str, kind: str, *, precision: int | None = None,
                        currency_code: str | None = None, options: list[str] | None = None) -> str:  # fmt: skip
    """Define a workspace custom field (names are unique per workspace, as in Asana); its gid."""
    check_text(name, "name", 1024)
    if kind not in KINDS:
        raise InvalidArgument("resource_subtype", f"{kind!r}: the sandbox keeps {', '.join(KINDS)} fields")
    if s.get(WorkspaceRow, workspace_gid) is None:
        raise NotFound("workspace", f"no workspace {workspace_gid}")
    taken = s.scalar(select(CustomFieldRow.gid).where(CustomFieldRow.workspace_gid == workspace_gid,
                                                      CustomFieldRow.name == name))  # fmt: skip
    if taken is not None:
        raise InvalidArgument("name", f"a custom field named {name!r} already exists in this workspace")
    enum = [{"gid": new_gid(), "resource_type": "enum_option", "name": o, "enabled": True} for o in options or []]
    row = CustomFieldRow(gid=new_gid(), workspace_gid=workspace_gid, name=name, kind=kind,
                         precision=precision if kind == "number" else None, currency_code=currency_code,
                         enum_options=enum)  # fmt: skip
    s.add(row)
    s.flush()
    return row.gid
