"""Tables of the embedded Asana sandbox (its own metadata, not the spine's) and its opaque paging tokens."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from connectors.asana.errors import InvalidArgument
from spine.db import UTCDateTime

GID_LEN = 16


def new_gid() -> str:
    """A 16-digit numeric-string gid starting "12", like Asana's own (12xxxxxxxxxxxxxx).

    The leading 1 matters: 16 digits starting 2-6 can pass the Luhn check and read as a card number, which
    the guard's response check blocks.
    """
    return str(12 * 10 ** (GID_LEN - 2) + secrets.randbelow(10 ** (GID_LEN - 2)))


class SandboxBase(DeclarativeBase):
    """Declarative base of the sandbox file; deliberately separate from the spine's Base."""

    metadata = MetaData()


class MetaRow(SandboxBase):
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class WorkspaceRow(SandboxBase):
    __tablename__ = "workspaces"
    gid: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(1024))


class UserRow(SandboxBase):
    __tablename__ = "users"
    gid: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(1024))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    workspace_gid: Mapped[str] = mapped_column(ForeignKey("workspaces.gid"))


class TeamRow(SandboxBase):
    __tablename__ = "teams"
    gid: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(1024))
    workspace_gid: Mapped[str] = mapped_column(ForeignKey("workspaces.gid"))


class ProjectRow(SandboxBase):
    __tablename__ = "projects"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gid: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(1024))
    notes: Mapped[str] = mapped_column(Text, default="")
    workspace_gid: Mapped[str] = mapped_column(ForeignKey("workspaces.gid"))
    team_gid: Mapped[str | None] = mapped_column(ForeignKey("teams.gid"), nullable=True)
    due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    start_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    modified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SectionRow(SandboxBase):
    __tablename__ = "sections"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gid: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(1024))
    project_gid: Mapped[str] = mapped_column(ForeignKey("projects.gid"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class TaskRow(SandboxBase):
    __tablename__ = "tasks"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gid: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(1024))
    notes: Mapped[str] = mapped_column(Text, default="")
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    assignee_gid: Mapped[str | None] = mapped_column(ForeignKey("users.gid"), nullable=True, index=True)
    due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    start_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    workspace_gid: Mapped[str] = mapped_column(ForeignKey("workspaces.gid"))
    parent_gid: Mapped[str | None] = mapped_column(ForeignKey("tasks.gid"), nullable=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    modified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class MembershipRow(SandboxBase):
    __tablename__ = "memberships"
    task_gid: Mapped[str] = mapped_column(ForeignKey("tasks.gid"), primary_key=True)
    project_gid: Mapped[str] = mapped_column(ForeignKey("projects.gid"), primary_key=True)
    section_gid: Mapped[str] = mapped_column(ForeignKey("sections.gid"), index=True)
    position: Mapped[float] = mapped_column(Float)


class StoryRow(SandboxBase):
    __tablename__ = "stories"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gid: Mapped[str] = mapped_column(String(20), unique=True)
    task_gid: Mapped[str] = mapped_column(ForeignKey("tasks.gid"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_by_gid: Mapped[str | None] = mapped_column(ForeignKey("users.gid"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class IdempotencyRow(SandboxBase):
    __tablename__ = "idempotency_keys"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    operation: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    gid: Mapped[str] = mapped_column(String(20))


# ---------------------------------------------------------------- opaque offsets

_BAD_OFFSET = "offset is not a token this query returned (tampered, expired or from another query); start over"


def scope_of(*parts: object) -> str:
    """A short digest of a query's identity, bound into its offsets."""
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def encode_offset(secret: bytes, scope: str, after_seq: int) -> str:
    """Opaque, signed cursor: base64url(payload).base64url(hmac)."""
    payload = base64.urlsafe_b64encode(json.dumps({"s": scope, "a": after_seq}).encode()).rstrip(b"=")
    sig = base64.urlsafe_b64encode(hmac.new(secret, payload, hashlib.sha256).digest()[:12]).rstrip(b"=")
    return f"{payload.decode()}.{sig.decode()}"


def decode_offset(secret: bytes, scope: str, token: object) -> int:
    """The cursor inside `token`; InvalidArgument naming `offset` if it was altered or belongs elsewhere."""
    if not isinstance(token, str) or token.count(".") != 1 or len(token) > 512:
        raise InvalidArgument("offset", _BAD_OFFSET)
    payload, sig = token.split(".")
    want = base64.urlsafe_b64encode(hmac.new(secret, payload.encode(), hashlib.sha256).digest()[:12])
    if not hmac.compare_digest(want.rstrip(b"=").decode(), sig):
        raise InvalidArgument("offset", _BAD_OFFSET)
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        after = int(data["a"])
        ok = data["s"] == scope
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument("offset", _BAD_OFFSET) from None
    if not ok:
        raise InvalidArgument("offset", _BAD_OFFSET)
    return after
