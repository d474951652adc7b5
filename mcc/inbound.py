"""Wiring of inbound sync: webhook secrets sealed with the connection-secret key, the Asana reader the processor
uses, and the receiver. Only this composition root knows the settings and the key."""

from __future__ import annotations

import dataclasses
from typing import Any

from mcc.wiring import App
from sync.durable import WEBHOOKS_QUEUE, DurableConfig
from sync.process import AsanaReader
from sync.receiver import Receiver
from sync.webhook_secrets import WebhookSecrets


def webhook_secrets(app: App) -> WebhookSecrets:
    """Webhook secrets stored encrypted under the same key as connection secrets (``mcc connect``)."""
    from mcc.secrets import encrypt, resolve
    from spine.repositories.connections import ConnectionOut

    def seal(secret: str) -> str:
        return encrypt(app.settings, secret)

    def open_(ref: str | None, ciphertext: str | None) -> str:
        conn = ConnectionOut(tenant_id="-", system="webhook", url="-", workspace_gid=None, secret="sealed",
                             secret_ref=ref, secret_ciphertext=ciphertext)  # fmt: skip
        return resolve(app.settings, conn)

    return WebhookSecrets(app.sessions, seal, open_)


def asana_reader(app: App) -> AsanaReader:
    """Reads Asana tasks/projects for the processor with a new backend per delivery (closed after it, so no HTTP
    client outlives the event loop it was made in)."""
    return AsanaReader(app.new_asana_backend)


def worker_config(app: App) -> DurableConfig:
    """The DBOS config of a webhook worker: a few deliveries at a time (within the connection pool; SQLite
    serialises their writes, PostgreSQL row locks keep two workers off one delivery), polled often."""
    config = app.durable_config()
    return dataclasses.replace(config, worker_concurrency={WEBHOOKS_QUEUE: 8},
                               polling_interval_sec=min(config.polling_interval_sec, 0.1))  # fmt: skip


def receiver(app: App, on_stored: Any = None) -> Receiver:
    """The webhook receiver of this process."""
    return Receiver(app.sessions, webhook_secrets(app), on_stored)
