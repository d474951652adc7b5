"""Sign-in credentials of directory users: one password hash per user (argon2, computed by the caller).

The hash format belongs to the composition root (``mcc/web/passwords.py``); the spine only stores it, so a
removed user keeps its row but cannot sign in (the directory says it is inactive). ``sessions_valid_after`` ends
every web session of the user started before it (sign-out, a new password).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from spine.db import Base, UTCDateTime, utcnow


class UserCredential(Base):
    __tablename__ = "user_credentials"
    __table_args__ = (ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.user_id"]),)

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    password_hash: Mapped[str | None] = mapped_column(String(400))  # None: signs in through OIDC only
    # Sessions started before this instant are over (sign-out, password change): a stolen cookie dies with them.
    sessions_valid_after: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
