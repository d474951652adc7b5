"""``mcc webhooks subscribe``: create the tenant's webhooks on its connected systems.

Asana: one webhook per linked project (resource = the project gid), target
``{public_url}/webhooks/asana/{tenant}?hook={gid}``; the hook is marked as waiting for its handshake first, so
the receiver accepts that handshake and no other. Workfront: one subscription per object (PROJ, TASK) and event
type (CREATE, UPDATE, DELETE) to ``{public_url}/webhooks/workfront/{tenant}``, all carrying the tenant's shared
token as ``authToken`` (generated once, stored sealed)."""

from __future__ import annotations

import asyncio
import secrets as pysecrets
from dataclasses import dataclass, field
from urllib.parse import quote

from connectors.asana.webhook_admin import create_webhook
from connectors.workfront.subscriptions import create_subscription
from sync.webhook_secrets import WebhookSecrets

WORKFRONT_OBJECTS = ("PROJ", "TASK")
WORKFRONT_EVENTS = ("CREATE", "UPDATE", "DELETE")


@dataclass
class Subscribed:
    system: str
    created: list[str] = field(default_factory=list)  # webhook gids / subscription ids
    existing: list[str] = field(default_factory=list)  # what the system already had
    target: str = ""


def target_url(public_url: str, system: str, tenant_id: str, hook: str | None = None) -> str:
    base = f"{public_url.rstrip('/')}/webhooks/{system}/{quote(tenant_id, safe='')}"
    return f"{base}?hook={hook}" if hook else base


async def subscribe_asana(secrets: WebhookSecrets, url: str, token: str, tenant_id: str, public_url: str,
                          project_gids: list[str]) -> Subscribed:  # fmt: skip
    """One webhook per linked Asana project (the receiver must be reachable at ``public_url``)."""
    out = Subscribed("asana", target=target_url(public_url, "asana", tenant_id))
    for gid in project_gids:
        await asyncio.to_thread(secrets.expect_handshake, tenant_id, "asana", gid)
        hook = await create_webhook(url, token, gid, target_url(public_url, "asana", tenant_id, gid))
        await asyncio.to_thread(secrets.set_external_id, tenant_id, "asana", gid, str(hook["gid"]))
        out.created.append(str(hook["gid"]))
    return out


async def subscribe_workfront(secrets: WebhookSecrets, url: str, api_key: str, tenant_id: str,
                              public_url: str) -> Subscribed:  # fmt: skip
    """The six PROJ/TASK subscriptions, authenticated by the tenant's shared token."""
    token = await asyncio.to_thread(secrets.get, tenant_id, "workfront", "default")
    if token is None:
        token = pysecrets.token_urlsafe(32)
        await asyncio.to_thread(secrets.set_secret, tenant_id, "workfront", "default", token)
    target = target_url(public_url, "workfront", tenant_id)
    out = Subscribed("workfront", target=target)
    for code in WORKFRONT_OBJECTS:
        for event in WORKFRONT_EVENTS:
            sub = await create_subscription(url, api_key, code, event, target, token)
            (out.created if sub else out.existing).append(sub or f"{code}:{event}")
    if out.created:
        await asyncio.to_thread(secrets.set_external_id, tenant_id, "workfront", "default", ",".join(out.created))
    return out
