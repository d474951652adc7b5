"""The two transports: a Slack incoming webhook (HTTP POST of JSON) and e-mail over SMTP. Blocking: call them from a
worker thread. Errors are ``DeliveryError`` with a message that never contains the secret."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

import httpx

TIMEOUT = 10.0


class DeliveryError(Exception):
    """A message could not be delivered this time (retried later)."""


def send_slack(webhook_url: str, subject: str, body: str, link: str | None) -> None:
    """POST the message to the incoming webhook; Slack answers 200 "ok", anything else is a failure."""
    text = f"*{subject}*\n{body}" + (f"\n<{link}|Open in MCC>" if link else "")
    try:
        resp = httpx.post(webhook_url, json={"text": text}, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"slack webhook unreachable ({type(exc).__name__})") from None
    if resp.status_code != 200:
        raise DeliveryError(f"slack webhook answered {resp.status_code}: {resp.text[:200]}")


def send_email(config: dict[str, Any], password: str | None, recipients: list[str], subject: str, body: str) -> None:
    """Send one message to ``recipients`` through the configured SMTP server (STARTTLS when configured)."""
    msg = EmailMessage()
    msg["From"] = config["sender"]
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg.set_content(body)
    try:
        with smtplib.SMTP(config["host"], int(config.get("port", 25)), timeout=TIMEOUT) as smtp:
            if config.get("starttls"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("username") and password:
                smtp.login(config["username"], password)
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"smtp {config['host']}:{config.get('port', 25)} failed ({type(exc).__name__}: "
                            f"{str(exc)[:200]})") from None  # fmt: skip
