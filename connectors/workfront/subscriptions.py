"""Create Workfront event subscriptions (``POST /attask/eventsubscription/api/v1/subscriptions``).

Each subscription is one object code and event type with the target ``url`` and an ``authToken`` that Workfront
sends back with every delivery, which is how the receiver knows a message is genuine. Workfront answers 201 with
the new subscription's id at the end of the ``Location`` header, and 409 when the same subscription exists."""

from __future__ import annotations

from typing import Literal

import httpx

from connectors.workfront.errors import InvalidArgument, PermissionDenied, ServerError

PATH = "/attask/eventsubscription/api/v1/subscriptions"


async def create_subscription(
    base_url: str, api_key: str, obj_code: str, event_type: str, url: str, auth_token: str, *,
    auth: Literal["session", "bearer"] = "session", timeout: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> str | None:  # fmt: skip
    """Subscribe ``url`` to ``event_type`` events of ``obj_code``; the subscription id (None: it already existed)."""
    if event_type not in ("CREATE", "UPDATE", "DELETE"):
        raise InvalidArgument("eventType", f"{event_type!r} is not CREATE, UPDATE or DELETE")
    headers = {"sessionID": api_key} if auth == "session" else {"Authorization": f"Bearer {api_key}"}
    body = {"objCode": obj_code, "eventType": event_type, "url": url, "authToken": auth_token}
    async with httpx.AsyncClient(headers=headers, timeout=timeout, transport=transport) as http:
        resp = await http.post(base_url.rstrip("/") + PATH, json=body)
    if resp.status_code == 409:
        return None
    if resp.status_code in (401, 403):
        raise PermissionDenied("Workfront refused the event subscription: a System Administrator's key is needed")
    if resp.status_code in (400, 422):
        raise InvalidArgument("subscription", f"Workfront rejected the subscription: {resp.text[:300]}")
    if resp.status_code != 201:
        raise ServerError(f"Workfront event subscription failed with HTTP {resp.status_code}", status=resp.status_code)
    return resp.headers.get("Location", "").rstrip("/").rsplit("/", 1)[-1] or None
