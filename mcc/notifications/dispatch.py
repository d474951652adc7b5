"""Drain the notification outbox: send each due message on its channel, record success, or schedule a retry.

Runs outside any approval's transaction (the CLI sweep, the web server's periodic task), so a slow or failing
Slack or SMTP server delays only its own message and never an approval.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from mcc.notifications.senders import DeliveryError, send_email, send_slack
from mcc.settings import Settings
from spine.notifications import ChannelOut, ChannelStore, Outbox, OutboxOut

log = logging.getLogger("mcc.notifications")


def channel_secret(settings: Settings, channel: ChannelOut) -> str | None:
    """The channel's secret in clear (webhook URL, SMTP password), for the sender only; None when it has none."""
    from mcc.secrets import resolve

    if channel.secret_ref is None and channel.secret_ciphertext is None:
        return None
    return resolve(settings, channel)  # type: ignore[arg-type]  (same secret fields as a connection)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def deliver_one(settings: Settings, channel: ChannelOut, item: OutboxOut) -> None:
    """Send ``item`` on ``channel``; raises ``DeliveryError`` (or a secret error) when it did not go out."""
    secret = channel_secret(settings, channel)
    if channel.kind == "slack":
        if secret is None:
            raise DeliveryError(f"channel {channel.name} has no webhook URL")
        send_slack(secret, item.subject, item.body, item.link)
    else:
        send_email(channel.config, secret, item.recipients, item.subject, item.body)


def deliver_due(settings: Settings, sessions: sessionmaker[Session], outbox: Outbox, limit: int = 50) -> DeliveryReport:
    """One pass over due messages (blocking: run it in a worker thread from async code)."""
    report = DeliveryReport()
    channels = ChannelStore(sessions)
    for item in outbox.claim_due(limit):
        channel = channels.get(item.tenant_id, item.channel)
        try:
            if channel is None or not channel.enabled:
                raise DeliveryError(f"channel {item.channel} is gone or disabled")
            deliver_one(settings, channel, item)
        except Exception as exc:  # any failure: retried later, logged, never raised to the caller
            after = outbox.failed(item.id, str(exc))
            gave_up = after is not None and after.status == "failed"
            log.warning("notification %s (%s, approval %s) attempt %d failed%s: %s", item.id, item.channel,
                        item.approval_id, item.attempts, "; giving up" if gave_up else "; will retry", exc)  # fmt: skip
            if gave_up:
                report.failed += 1
            else:
                report.retrying += 1
            continue
        outbox.sent(item.id)
        report.sent += 1
    return report
