"""People across systems for the tool servers: an assignee given as an MCC user id of the caller's tenant becomes
that person's Workfront user ID or Asana user gid (the directory's identity map), and the users an external
system lists are labelled with the MCC user each one is linked to."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, WithJsonSchema
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mcp_servers.guard.toolkit import ToolFailure
from spine.models.core import User
from spine.repositories.directory import IDENTITY_COLUMNS

System = Literal["workfront", "asana"]
MCC_USER_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,127}$")
SYSTEM_ID_RE: dict[str, re.Pattern[str]] = {
    "workfront": re.compile(r"^[0-9a-f]{32}$"),
    "asana": re.compile(r"^[0-9]{1,20}$"),
}
_NAMES = {"workfront": ("a Workfront user ID (32 hex)", "--workfront-id", "search_users"),
          "asana": ("an Asana user gid (digits)", "--asana-gid", "list_users")}  # fmt: skip


def _person(system: System) -> Any:
    def check(value: Any) -> Any:
        # A readable message instead of pydantic's "should match pattern".
        if not isinstance(value, str) or not (SYSTEM_ID_RE[system].match(value) or MCC_USER_RE.match(value)):
            raise ValueError(f"{value!r} is neither {_NAMES[system][0]} nor an MCC user id such as 'maya.chen'")
        return value

    return check


_PERSON_SCHEMA = {"type": "string", "maxLength": 128, "pattern": MCC_USER_RE.pattern}
WorkfrontPerson = Annotated[str, BeforeValidator(_person("workfront")), WithJsonSchema(_PERSON_SCHEMA)]
AsanaPerson = Annotated[str, BeforeValidator(_person("asana")), WithJsonSchema(_PERSON_SCHEMA)]


class PeopleMap:
    """The identity map of the directory (``users.workfront_user_id`` / ``users.asana_user_gid``), per tenant."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def external_id(self, tenant_id: str, system: System, value: str, field: str) -> str:
        """``value`` when it already is the system's own id; else the id linked to the MCC user ``value`` of the
        tenant. An unknown or unlinked user is a ToolFailure naming ``field`` and the fix."""
        if SYSTEM_ID_RE[system].match(value):
            return value
        what, flag, finder = _NAMES[system]
        with self._sessions() as s:
            user = s.get(User, (tenant_id, value))
            linked = getattr(user, IDENTITY_COLUMNS[system]) if user is not None and user.active else None
            if user is None or not user.active:
                raise ToolFailure(
                    f"{value!r} is not a user of your tenant", field=field,
                    fix=f"pass {what} (find one with {finder}) or the id of an active MCC user of your tenant",
                )  # fmt: skip
        if linked is None:
            raise ToolFailure(
                f"MCC user {value!r} has no {system.title()} identity", field=field,
                fix=f"an admin links it: mcc users set-identity {value} {flag} ID; or pass {what} (see {finder})",
            )  # fmt: skip
        return str(linked)

    def mcc_users(self, tenant_id: str, system: System, external_ids: Iterable[str]) -> dict[str, str]:
        """External id -> the active MCC user of the tenant linked to it, for the ids that have one."""
        wanted = {i for i in external_ids if isinstance(i, str)}
        if not wanted:
            return {}
        column = getattr(User, IDENTITY_COLUMNS[system])
        stmt = select(column, User.user_id).where(
            User.tenant_id == tenant_id, User.active.is_(True), column.in_(wanted)
        )
        with self._sessions() as s:
            return {ext: uid for ext, uid in s.execute(stmt)}
