"""Per-tenant notification channels and the notification outbox (messages decided now, sent later, retried).

The outbox row is written in the transaction that decided the message (the sweep), so a message is never lost and
never sent twice for one event (``dedupe_key``); a sender claims due rows with a conditional update (one sender
wins each row) and records the outcome. Sending itself (HTTP, SMTP) is the composition root's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from spine.db import transaction, utcnow
from spine.errors import ValidationError
from spine.models.approval_workflow import CHANNEL_KINDS, NotificationChannel, NotificationOutboxItem

MAX_ATTEMPTS = 5
FIRST_RETRY = dt.timedelta(seconds=30)


class ChannelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tenant_id: str
    name: str
    kind: str
    config: dict[str, Any]
    secret_ref: str | None
    secret_ciphertext: str | None
    enabled: bool

    @property
    def system(self) -> str:  # what secret errors name
        return f"notification channel {self.name}"


class OutboxOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str
    dedupe_key: str
    channel: str
    event: str
    approval_id: str | None
    recipients: list[str]
    subject: str
    body: str
    link: str | None
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Draft:
    """One message to send on one channel (recipients: e-mail addresses; empty for a Slack channel)."""

    channel: str
    subject: str
    body: str
    link: str | None = None
    recipients: list[str] = field(default_factory=list)


class ChannelStore:
    """A tenant's notification channels."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sf = session_factory

    def set(
        self, tenant_id: str, name: str, kind: str, config: dict[str, Any], *, secret_ref: str | None = None,
        secret_ciphertext: str | None = None, enabled: bool = True,
    ) -> ChannelOut:  # fmt: skip
        """Create or replace the channel ``name``."""
        if kind not in CHANNEL_KINDS:
            raise ValidationError("kind", f"unknown channel kind {kind!r}", f"use one of {', '.join(CHANNEL_KINDS)}")
        if not name.strip() or len(name) > 64:
            raise ValidationError("name", "the channel name is empty or longer than 64", "name it, e.g. approvals")
        if kind == "slack" and secret_ref is None and secret_ciphertext is None:
            raise ValidationError("webhook", "a Slack channel needs its incoming-webhook URL",
                                  "pass --secret-env VAR, --secret-file PATH or --secret-stdin")  # fmt: skip
        if kind == "email" and not (config.get("host") and config.get("sender")):
            raise ValidationError("host", "an e-mail channel needs an SMTP host and a sender address",
                                  "pass --smtp-host and --sender")  # fmt: skip
        with transaction(self._sf) as s:
            row = s.get(NotificationChannel, (tenant_id, name))
            if row is None:
                row = NotificationChannel(tenant_id=tenant_id, name=name)
                s.add(row)
            row.kind, row.config, row.enabled = kind, dict(config), enabled
            row.secret_ref, row.secret_ciphertext = secret_ref, secret_ciphertext
            s.flush()
            return ChannelOut.model_validate(row)

    def list(self, tenant_id: str) -> list[ChannelOut]:
        with self._sf() as s:
            q = select(NotificationChannel).where(NotificationChannel.tenant_id == tenant_id)
            return [ChannelOut.model_validate(r) for r in s.scalars(q.order_by(NotificationChannel.name))]

    def get(self, tenant_id: str, name: str) -> ChannelOut | None:
        with self._sf() as s:
            row = s.get(NotificationChannel, (tenant_id, name))
            return ChannelOut.model_validate(row) if row is not None else None

    def remove(self, tenant_id: str, name: str) -> bool:
        with transaction(self._sf) as s:
            row = s.get(NotificationChannel, (tenant_id, name))
            if row is None:
                return False
            s.delete(row)
            return True


class Outbox:
    """Notification messages waiting to be sent; claims are leases, so a crashed sender's rows come back."""

    def __init__(
        self, session_factory: sessionmaker[Session], clock: Callable[[], dt.datetime] = utcnow,
        max_attempts: int = MAX_ATTEMPTS, first_retry: dt.timedelta = FIRST_RETRY,
    ) -> None:  # fmt: skip
        self._sf = session_factory
        self._clock = clock
        self.max_attempts = max_attempts
        self._first_retry = first_retry

    def enqueue_in(self, s: Session, tenant_id: str, key: str, event: str, approval_id: str | None,
                   drafts: list[Draft]) -> int:  # fmt: skip
        """Add one row per draft inside the caller's transaction; a row with the same key is kept. Returns how
        many were added."""
        added = 0
        for d in drafts:
            dedupe = f"{key}:{d.channel}"[:200]
            q = select(NotificationOutboxItem.id).where(
                NotificationOutboxItem.tenant_id == tenant_id, NotificationOutboxItem.dedupe_key == dedupe
            )
            exists = s.scalars(q).first()
            if exists is not None:
                continue
            try:
                with s.begin_nested():
                    s.add(NotificationOutboxItem(
                        id=str(uuid.uuid4()), tenant_id=tenant_id, dedupe_key=dedupe, channel=d.channel, event=event,
                        approval_id=approval_id, recipients=list(d.recipients), subject=d.subject, body=d.body,
                        link=d.link, status="pending", attempts=0, next_attempt_at=self._clock(),
                        created_at=self._clock(),
                    ))  # fmt: skip
                added += 1
            except IntegrityError:
                continue  # a concurrent sweep queued it first
        return added

    def claim_due(self, limit: int = 20, lease: dt.timedelta = dt.timedelta(minutes=2)) -> list[OutboxOut]:
        """Pending rows whose time has come, each claimed by this sender for ``lease`` (attempts counted now)."""
        now = self._clock()
        claimed: list[OutboxOut] = []
        with self._sf() as s:
            due = s.scalars(
                select(NotificationOutboxItem)
                .where(NotificationOutboxItem.status == "pending", NotificationOutboxItem.next_attempt_at <= now)
                .order_by(NotificationOutboxItem.next_attempt_at, NotificationOutboxItem.id)
                .limit(limit)
            ).all()
            candidates = [(r.id, r.attempts) for r in due]
        for row_id, attempts in candidates:
            with transaction(self._sf) as s:
                res = s.execute(
                    update(NotificationOutboxItem)
                    .where(NotificationOutboxItem.id == row_id, NotificationOutboxItem.status == "pending",
                           NotificationOutboxItem.attempts == attempts)
                    .values(attempts=attempts + 1, next_attempt_at=now + lease)
                    .execution_options(synchronize_session=False)
                )  # fmt: skip
                if res.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(OutboxOut.model_validate(s.get(NotificationOutboxItem, row_id)))
        return claimed

    def sent(self, row_id: str) -> None:
        with transaction(self._sf) as s:
            row = s.get(NotificationOutboxItem, row_id)
            if row is not None:
                row.status, row.sent_at, row.last_error = "sent", self._clock(), None

    def failed(self, row_id: str, error: str) -> OutboxOut | None:
        """Record a failed attempt: retry later with exponential backoff, or give up after ``max_attempts``."""
        with transaction(self._sf) as s:
            row = s.get(NotificationOutboxItem, row_id)
            if row is None:
                return None
            row.last_error = error[:2000]
            if row.attempts >= self.max_attempts:
                row.status = "failed"
            else:
                row.next_attempt_at = self._clock() + self._first_retry * (2 ** (row.attempts - 1))
            s.flush()
            return OutboxOut.model_validate(row)

    def list(self, tenant_id: str | None = None, approval_id: str | None = None) -> list[OutboxOut]:
        with self._sf() as s:
            q = select(NotificationOutboxItem)
            if tenant_id is not None:
                q = q.where(NotificationOutboxItem.tenant_id == tenant_id)
            if approval_id is not None:
                q = q.where(NotificationOutboxItem.approval_id == approval_id)
            q = q.order_by(NotificationOutboxItem.created_at, NotificationOutboxItem.id)
            return [OutboxOut.model_validate(r) for r in s.scalars(q)]
