"""Custom fields of the Asana wire server, in Asana's shapes: workspace definitions (``GET
/workspaces/{gid}/custom_fields``, ``GET /custom_fields/{gid}``), custom field settings (``POST
/projects/{gid}/addCustomFieldSetting``) and values set with ``PUT /projects/{gid}`` ``{"custom_fields": {gid:
value}}``; a project's ``custom_fields`` renders each attached field with its ``number_value`` / ``text_value`` /
``enum_value`` and ``display_value``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.requests import Request

    from tests.wire.asana_server import AsanaWireApp, AsanaWireState


def _error(status: int, message: str) -> Exception:
    from tests.wire.asana_server import WireError

    return WireError(status, message)


def add_custom_field(state: AsanaWireState, workspace: str, name: str, kind: str, *, precision: int = 0,
                     currency_code: str | None = None, options: list[str] | None = None) -> str:  # fmt: skip
    """Define a workspace custom field (test setup, as an admin would in Asana); its gid."""
    gid = state.gid()
    enum = [{"gid": state.gid(), "resource_type": "enum_option", "name": o, "enabled": True} for o in options or []]
    state.custom_fields[gid] = {
        "gid": gid, "resource_type": "custom_field", "name": name, "resource_subtype": kind, "type": kind,
        "precision": precision if kind == "number" else None, "enum_options": enum if kind == "enum" else None,
        "format": ("currency" if currency_code else "custom") if kind == "number" else None,
        "currency_code": currency_code, "ws": workspace,
    }  # fmt: skip
    return gid


def render_definition(cf: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cf.items() if k != "ws" and v is not None}


def render_values(state: AsanaWireState, project: dict[str, Any]) -> list[dict[str, Any]]:
    """The project's ``custom_fields``: each attached field with its value."""
    out = []
    for gid, value in project.setdefault("cf", {}).items():
        cf = state.custom_fields[gid]
        entry = {k: cf[k] for k in ("gid", "resource_type", "name", "resource_subtype", "type")}
        kind = cf["resource_subtype"]
        if kind == "number":
            entry["number_value"] = value
            entry["precision"] = cf["precision"]
            entry["display_value"] = None if value is None else f"{value:.{cf['precision']}f}"
        elif kind == "enum":
            option = next((o for o in cf["enum_options"] if o["gid"] == value), None)
            entry["enum_value"] = option
            entry["display_value"] = option["name"] if option else None
        else:
            entry["text_value"] = entry["display_value"] = value
        out.append(entry)
    return out


def set_values(state: AsanaWireState, project: dict[str, Any], values: Any) -> None:
    """``custom_fields`` of a project PUT: every value checked first, as Asana refuses the whole request."""
    if not isinstance(values, dict):
        raise _error(400, "custom_fields: Must be an object mapping custom field gids to values")
    attached = project.setdefault("cf", {})
    checked = {}
    for gid, value in values.items():
        if gid not in state.custom_fields:
            raise _error(404, f"custom_fields: Unknown object: {gid}")
        if gid not in attached:
            raise _error(400, f"custom_fields: Custom field with ID {gid} is not on given object")
        cf = state.custom_fields[gid]
        kind = cf["resource_subtype"]
        if value is None:
            checked[gid] = None
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _error(400, f"custom_fields: Number value expected for custom field {gid}")
            checked[gid] = round(float(value), cf["precision"])
        elif kind == "enum":
            if not any(o["gid"] == value and o["enabled"] for o in cf["enum_options"]):
                raise _error(400, f"custom_fields: Enum option {value} is not valid for custom field {gid}")
            checked[gid] = value
        elif not isinstance(value, str):
            raise _error(400, f"custom_fields: Text value expected for custom field {gid}")
        else:
            checked[gid] = value
    attached.update(checked)


def workspace_fields(app: AsanaWireApp, request: Request, user: str, body: Any) -> tuple[int, Any]:
    ws = app.find(app.state.workspaces, request.path_params["gid"], "workspace")["gid"]
    items = [cf for cf in app.state.custom_fields.values() if cf["ws"] == ws]
    return 200, app.page(request, items, render_definition)


def get_field(app: AsanaWireApp, request: Request, user: str, body: Any) -> tuple[int, Any]:
    cf = app.find(app.state.custom_fields, request.path_params["gid"], "custom_field")
    return 200, {"data": render_definition(cf)}


def add_setting(app: AsanaWireApp, request: Request, user: str, body: dict[str, Any]) -> tuple[int, Any]:
    project = app.find(app.state.projects, request.path_params["gid"], "project")
    unknown = set(body) - {"custom_field", "is_important", "insert_before", "insert_after"}
    if unknown:
        raise _error(400, f"{sorted(unknown)[0]}: Unknown property")
    if "custom_field" not in body:
        raise _error(400, "custom_field: Missing input")
    cf = app.find(app.state.custom_fields, body["custom_field"], "custom_field")
    if cf["ws"] != project["ws"]:
        raise _error(400, "custom_field: Custom field is not in the project's workspace")
    attached = project.setdefault("cf", {})
    if cf["gid"] in attached:
        raise _error(400, "custom_field: Custom field is already on this project")
    attached[cf["gid"]] = None
    setting = {"gid": app.state.gid(), "resource_type": "custom_field_setting", "is_important":
               bool(body.get("is_important")), "project": {"gid": project["gid"], "resource_type": "project",
               "name": project["name"]}, "custom_field": render_definition(cf)}  # fmt: skip
    return 200, {"data": setting}
