"""MCC's campaign fields that Asana keeps as project custom fields: tier and planned budget.

Asana has no project field for either, so a workspace holds two custom fields, found by name ("MCC Tier",
"MCC Budget Planned", mirroring Workfront's ``DE:`` names) or by an explicit gid from the settings. A custom field
lives in the workspace (``GET /workspaces/{gid}/custom_fields``), is attached to a project by a custom field setting
(``POST /projects/{gid}/addCustomFieldSetting``) and gets its value with ``PUT /projects/{gid}`` and
``{"custom_fields": {field_gid: value}}``: a number for a number field, a string for a text field, an enum option's
gid for a single-select field. ``sync_mcc_fields`` does all of that through a ``ProjectFieldsSource`` (REST client or
sandbox), writing only the values that differ, so sending the same values again changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from connectors.asana.errors import AsanaError, InvalidArgument
from connectors.errors import NotFoundError

TIER_FIELD = "MCC Tier"
BUDGET_FIELD = "MCC Budget Planned"
# Canonical campaign field -> the name of its Asana custom field.
MCC_FIELDS: Mapping[str, str] = {"tier": TIER_FIELD, "budget_planned": BUDGET_FIELD}
GIDS_SETTING = "MCC_ASANA_CUSTOM_FIELD_GIDS"
SUPPORTED = {"tier": ("number", "text", "enum"), "budget_planned": ("number", "text")}


class CustomField(BaseModel):
    """A workspace custom field definition (the parts MCC needs to write a value of the right shape)."""

    model_config = ConfigDict(extra="ignore")

    gid: str
    name: str
    resource_subtype: str | None = None
    type: str | None = None  # deprecated by Asana in favour of resource_subtype; older answers carry only this
    precision: int | None = None
    format: str | None = None
    currency_code: str | None = None
    enum_options: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.resource_subtype or self.type or "text"


@dataclass
class ProjectFields:
    """One project's workspace and its custom field entries (``custom_fields`` of the project, values included)."""

    workspace_gid: str
    entries: list[dict[str, Any]] = field(default_factory=list)


class ProjectFieldsSource(Protocol):
    """What ``sync_mcc_fields`` needs from a backend; the REST client and the sandbox each provide one."""

    field_gids: Mapping[str, str]  # canonical field -> explicit custom field gid (overrides the name lookup)

    async def project_fields(self, project_gid: str) -> ProjectFields: ...

    async def workspace_fields(self, workspace_gid: str) -> list[CustomField]: ...

    async def get_field(self, field_gid: str) -> CustomField: ...

    async def add_setting(self, project_gid: str, field_gid: str) -> None: ...

    async def put_values(self, project_gid: str, values: Mapping[str, Any]) -> None: ...


class MissingCustomField(AsanaError, NotFoundError):
    """The workspace has no custom field for an MCC campaign field; nothing was written for it."""

    status = 404

    def __init__(self, canonical: str, workspace_gid: str) -> None:
        name = MCC_FIELDS[canonical]
        kinds = " or ".join(SUPPORTED[canonical])
        super().__init__(
            f"the Asana workspace {workspace_gid} has no custom field named {name!r}, so the campaign's {canonical} "
            "cannot be sent to the project",
            field=name,
        )
        self.fix = (
            f"create a custom field named {name!r} ({kinds}) in the Asana workspace, or set its gid in "
            f'{GIDS_SETTING} (for example {{"{canonical}": "<custom field gid>"}}), then run '
            "`mcc sync push --retry-errors`"
        )


def _money(value: Mapping[str, Any]) -> tuple[Decimal, str]:
    try:
        return Decimal(str(value["amount"])).quantize(Decimal("0.01")), str(value["currency"])
    except (KeyError, TypeError, InvalidOperation):
        raise InvalidArgument("budget_planned", f"{value!r} is not an amount with a currency") from None


def wire_value(canonical: str, cf: CustomField, value: Any) -> Any:
    """The value to PUT for ``value`` of the canonical field into custom field ``cf`` (None clears it)."""
    if value is None:
        return None
    kind = cf.kind
    if kind not in SUPPORTED[canonical]:
        raise InvalidArgument(cf.name, f"custom field {cf.name!r} is a {kind} field; MCC writes "
                              f"{' or '.join(SUPPORTED[canonical])} fields: change its type or point "
                              f"{GIDS_SETTING} at another field")  # fmt: skip
    if canonical == "tier":
        if kind == "number":
            return int(value)
        if kind == "text":
            return str(value)
        wanted = {str(value), f"tier {value}"}
        for option in cf.enum_options:
            if str(option.get("name", "")).strip().lower() in wanted and option.get("enabled", True):
                return option["gid"]
        raise InvalidArgument(cf.name, f"custom field {cf.name!r} has no enabled option named '{value}' or "
                              f"'Tier {value}': add one in Asana")  # fmt: skip
    amount, currency = _money(value)
    if kind == "text":
        return f"{amount} {currency}"
    if cf.currency_code and cf.currency_code.upper() != currency.upper():
        raise InvalidArgument(cf.name, f"custom field {cf.name!r} holds {cf.currency_code} amounts but the budget "
                              f"is in {currency}: use a field in {currency} or a text field")  # fmt: skip
    return float(amount)


def current_value(entry: Mapping[str, Any]) -> Any:
    """A project's custom field entry -> its value in the shape ``wire_value`` produces."""
    kind = entry.get("resource_subtype") or entry.get("type") or "text"
    if kind == "number":
        return entry.get("number_value")
    if kind == "enum":
        enum = entry.get("enum_value")
        return enum.get("gid") if isinstance(enum, dict) else None
    return entry.get("text_value")


def _same(have: Any, want: Any) -> bool:
    if isinstance(have, int | float) and isinstance(want, int | float) and not isinstance(have, bool):
        return abs(float(have) - float(want)) < 0.005
    return bool(have == want)


async def resolve_fields(source: ProjectFieldsSource, workspace_gid: str, wanted: list[str]) -> dict[str, CustomField]:
    """Canonical field -> its custom field: the explicit gid when configured, else the workspace's field of that name
    (case-insensitive); MissingCustomField naming the first one missing."""
    out: dict[str, CustomField] = {}
    by_name: dict[str, CustomField] | None = None
    for canonical in wanted:
        gid = source.field_gids.get(canonical)
        if gid:
            out[canonical] = await source.get_field(gid)
            continue
        if by_name is None:
            by_name = {cf.name.strip().lower(): cf for cf in await source.workspace_fields(workspace_gid)}
        found = by_name.get(MCC_FIELDS[canonical].lower())
        if found is None:
            raise MissingCustomField(canonical, workspace_gid)
        out[canonical] = found
    return out


async def sync_mcc_fields(source: ProjectFieldsSource, project_gid: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Make the project's MCC custom fields hold ``values`` (canonical field -> canonical value); attaches a field
    to the project first when needed and writes only what differs. Returns custom field name -> value written."""
    unknown = set(values) - set(MCC_FIELDS)
    if unknown:
        raise InvalidArgument(sorted(unknown)[0], f"not an MCC custom field; known: {', '.join(MCC_FIELDS)}")
    if not values:
        return {}
    project = await source.project_fields(project_gid)
    fields = await resolve_fields(source, project.workspace_gid, sorted(values))
    wanted = {c: wire_value(c, fields[c], v) for c, v in values.items()}  # every value checked before any write
    entries = {str(e.get("gid")): e for e in project.entries}
    put: dict[str, Any] = {}
    sent: dict[str, Any] = {}
    for canonical, value in sorted(wanted.items()):
        cf = fields[canonical]
        entry = entries.get(cf.gid)
        if entry is None:
            if value is None:
                continue  # not on the project and nothing to hold: nothing to do
            await source.add_setting(project_gid, cf.gid)
        elif _same(current_value(entry), value):
            continue
        put[cf.gid] = value
        sent[cf.name] = value
    if put:
        await source.put_values(project_gid, put)
    return sent
