"""Per-tenant connections to external systems (Workfront, Asana): where to reach them and how to find the secret.

The secret itself is never stored in clear: ``secret_ref`` names where it lives outside the database
(``env:VAR`` or ``file:/path``), or ``secret_ciphertext`` holds it encrypted with a key that is kept outside the
database (the composition root owns the key and the decryption).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from spine.db import Base, UTCDateTime, utcnow


class Connection(Base):
    __tablename__ = "connections"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    system: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    workspace_gid: Mapped[str | None] = mapped_column(String(32))
    secret_ref: Mapped[str | None] = mapped_column(String(500))
    secret_ciphertext: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
