"""Create Asana webhooks (``POST /webhooks`` with resource + target). Asana calls the target with the
X-Hook-Secret handshake while this request is in flight, so the receiver must already be reachable."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.asana.client_wire import error_from_response
from connectors.asana.errors import InvalidArgument


async def create_webhook(base_url: str, token: str, resource: str, target: str, *, timeout: float = 30.0,
                         transport: httpx.AsyncBaseTransport | None = None) -> dict[str, Any]:  # fmt: skip
    """Establish a webhook on ``resource`` (a project or task gid) delivering to ``target``; the webhook object."""
    if not resource.isdigit():
        raise InvalidArgument("resource", f"{resource!r} is not an Asana gid")
    if not target.startswith(("https://", "http://")):
        raise InvalidArgument("target", f"{target!r} is not an http(s) URL")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    async with httpx.AsyncClient(base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout,
                                 transport=transport) as http:  # fmt: skip
        resp = await http.post("webhooks", json={"data": {"resource": resource, "target": target}})
    if resp.status_code not in (200, 201):
        raise error_from_response(resp, {"resource": "resource", "target": "target"}, "target")
    data = resp.json().get("data")
    if not isinstance(data, dict) or "gid" not in data:
        raise InvalidArgument("webhook", "Asana answered without a webhook object")
    return data
