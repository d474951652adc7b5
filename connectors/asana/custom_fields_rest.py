"""The REST client's ``ProjectFieldsSource``: Asana's custom field endpoints, through the client's rate limiter,
retries (429 Retry-After included) and error mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.asana.custom_fields import CustomField, ProjectFields
from connectors.asana.models import check_gid

if TYPE_CHECKING:
    from connectors.asana.client import AsanaRestClient

FIELD_OPT = "name,resource_subtype,type,precision,format,currency_code,enum_options.name,enum_options.enabled"
VALUE_OPT = (
    "workspace,custom_fields.name,custom_fields.resource_subtype,custom_fields.type,custom_fields.number_value,"
    "custom_fields.text_value,custom_fields.enum_value.name,custom_fields.display_value"
)


class RestProjectFields:
    """Custom fields of projects over the REST API (``field_gids``: canonical field -> explicit gid)."""

    def __init__(self, client: AsanaRestClient, field_gids: Mapping[str, str] | None = None) -> None:
        self.client = client
        self.field_gids = dict(field_gids or {})

    async def project_fields(self, project_gid: str) -> ProjectFields:
        check_gid(project_gid, "project_gid")
        out = await self.client._request("GET", f"/projects/{project_gid}", params={"opt_fields": VALUE_OPT},
                                         fields={"project": "project_gid"}, default_field="project_gid")  # fmt: skip
        data = out["data"]
        ws = data.get("workspace") or {}
        return ProjectFields(str(ws.get("gid", "")), list(data.get("custom_fields") or []))

    async def workspace_fields(self, workspace_gid: str) -> list[CustomField]:
        check_gid(workspace_gid, "workspace_gid")
        found: list[CustomField] = []
        params: dict[str, Any] = {"limit": 100, "opt_fields": FIELD_OPT}
        while True:  # every page: a workspace may hold hundreds of custom fields
            out = await self.client._request("GET", f"/workspaces/{workspace_gid}/custom_fields", params=params,
                                             fields={"workspace": "workspace_gid"},
                                             default_field="workspace_gid")  # fmt: skip
            found += [CustomField.model_validate(x) for x in out["data"]]
            nxt = out.get("next_page")
            if not nxt or not nxt.get("offset"):
                return found
            params = {**params, "offset": nxt["offset"]}

    async def get_field(self, field_gid: str) -> CustomField:
        check_gid(field_gid, "custom_field_gid")
        out = await self.client._request("GET", f"/custom_fields/{field_gid}", params={"opt_fields": FIELD_OPT},
                                         fields={"custom_field": "custom_field_gid"},
                                         default_field="custom_field_gid")  # fmt: skip
        return CustomField.model_validate(out["data"])

    async def add_setting(self, project_gid: str, field_gid: str) -> None:
        # Not retried after a possible success: a second add of the same field is refused by Asana.
        await self.client._request("POST", f"/projects/{project_gid}/addCustomFieldSetting",
                                   data={"custom_field": field_gid, "is_important": True},
                                   fields={"project": "project_gid"}, default_field="custom_field")  # fmt: skip

    async def put_values(self, project_gid: str, values: Mapping[str, Any]) -> None:
        await self.client._request("PUT", f"/projects/{project_gid}", params={"opt_fields": "custom_fields.name"},
                                   data={"custom_fields": dict(values)}, fields={"project": "project_gid"},
                                   default_field="custom_fields")  # fmt: skip
