"""Tenants and the per-tenant principal directory (users and groups)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from spine.enums import Group, TenantType
from spine.errors import NotFoundError, UnknownTenantError, ValidationError
from spine.models import GroupMembership, Tenant, User
from spine.repositories.base import TenantScoped
from spine.schemas import UserIn, UserOut, parse

TENANT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
GROUPS: frozenset[str] = frozenset(g.value for g in Group)


def create_tenant(session: Session, tenant_id: str, name: str, type: str = "org") -> Tenant:
    """Create a tenant (ids are short slugs such as ``acme``); an existing id is an error."""
    import re

    if not re.match(TENANT_ID_PATTERN, tenant_id or ""):
        raise ValidationError("tenant_id", f"{tenant_id!r} is not a valid tenant id", "use 2-63 of [a-z0-9-]")
    if type not in {t.value for t in TenantType}:
        raise ValidationError("type", f"{type!r} is not a tenant type", "use 'org' or 'bu'")
    if not name or len(name) > 200:
        raise ValidationError("name", "tenant name must be 1-200 characters", "give a name")
    if session.get(Tenant, tenant_id) is not None:
        raise ValidationError("tenant_id", f"tenant {tenant_id!r} already exists", "pick another id")
    tenant = Tenant(id=tenant_id, name=name, type=type)
    session.add(tenant)
    session.flush()
    return tenant


def get_tenant(session: Session, tenant_id: str) -> Tenant:
    """The tenant, or UnknownTenantError (field ``tenant_id``)."""
    tenant = session.get(Tenant, tenant_id) if isinstance(tenant_id, str) else None
    if tenant is None:
        raise UnknownTenantError(str(tenant_id))
    return tenant


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.id)))


def _check_groups(groups: Iterable[str]) -> list[str]:
    out = []
    for g in groups:
        if g not in GROUPS:
            raise ValidationError("groups", f"{g!r} is not a group", f"use one of {sorted(GROUPS)}")
        out.append(g)
    return sorted(set(out))


IDENTITY_COLUMNS = {"workfront": "workfront_user_id", "asana": "asana_user_gid"}
_KEEP: Any = object()  # update_user: leave this field as it is


class DirectoryRepository(TenantScoped):
    """Users, their group memberships and their identities in Workfront and Asana, of one tenant.

    Removing a user deactivates it and drops its memberships: it can no longer act, and every audit row, approval
    and campaign that names it keeps pointing at a user that still exists (re-adding it reactivates it).
    """

    def add_user(self, data: UserIn | dict) -> UserOut:
        """Add a user with its groups (a removed user of that id is reactivated); an active one is an error."""
        spec = parse(UserIn, data)
        groups = _check_groups(spec.groups)
        get_tenant(self.session, self.tenant_id)  # an unknown tenant is named, not a foreign-key failure
        existing = self.session.get(User, (self.tenant_id, spec.user_id))
        if existing is not None and existing.active:
            raise ValidationError("user_id", f"user {spec.user_id!r} already exists", "pick another user_id")
        self._check_identities(spec.user_id, spec.workfront_user_id, spec.asana_user_gid)
        if existing is None:
            existing = User(tenant_id=self.tenant_id, user_id=spec.user_id)
            self.session.add(existing)
        existing.display_name, existing.email, existing.active = spec.display_name, spec.email, True
        existing.workfront_user_id, existing.asana_user_gid = spec.workfront_user_id, spec.asana_user_gid
        self.session.flush()
        for g in groups:
            self.session.add(GroupMembership(tenant_id=self.tenant_id, user_id=spec.user_id, group_name=g))
        self.session.flush()
        return self.get_user(spec.user_id)

    def has_user(self, user_id: str) -> bool:
        user = self.session.get(User, (self.tenant_id, user_id))
        return user is not None and user.active

    def unknown_users(self, user_ids: Iterable[str]) -> list[str]:
        """The ids, in order, that name no active user of this tenant (a user of another tenant is unknown here)."""
        wanted = [u for u in user_ids if isinstance(u, str)]
        stmt = select(User.user_id).where(
            User.tenant_id == self.tenant_id, User.user_id.in_(set(wanted)), User.active.is_(True)
        )
        known = set(self.session.scalars(stmt)) if wanted else set()
        return [u for u in user_ids if not isinstance(u, str) or u not in known]

    def get_user(self, user_id: str, *, include_removed: bool = False) -> UserOut:
        """The user with its groups; NotFound when not in this tenant (or removed, unless ``include_removed``)."""
        user = self.session.get(User, (self.tenant_id, user_id))
        if user is None or not (user.active or include_removed):
            raise NotFoundError("user", user_id)
        return UserOut(
            tenant_id=user.tenant_id,
            user_id=user.user_id,
            display_name=user.display_name,
            email=user.email,
            groups=self.groups_of(user_id),
            active=user.active,
            workfront_user_id=user.workfront_user_id,
            asana_user_gid=user.asana_user_gid,
        )

    def groups_of(self, user_id: str) -> list[str]:
        stmt = select(GroupMembership.group_name).where(
            GroupMembership.tenant_id == self.tenant_id, GroupMembership.user_id == user_id
        )
        return sorted(self.session.scalars(stmt))

    def members(self, group: str) -> list[str]:
        """User ids in ``group``."""
        _check_groups([group])
        stmt = select(GroupMembership.user_id).where(
            GroupMembership.tenant_id == self.tenant_id, GroupMembership.group_name == group
        )
        return sorted(self.session.scalars(stmt))

    def list_users(self, group: str | None = None, *, include_removed: bool = False) -> list[UserOut]:
        if group:
            ids = self.members(group)
        else:
            stmt = select(User.user_id).where(User.tenant_id == self.tenant_id)
            if not include_removed:
                stmt = stmt.where(User.active.is_(True))
            ids = sorted(self.session.scalars(stmt))
        return [self.get_user(u, include_removed=include_removed) for u in ids]

    def set_groups(self, user_id: str, groups: Iterable[str]) -> UserOut:
        """Replace the user's group memberships."""
        wanted = _check_groups(groups)
        self.get_user(user_id)
        self.session.execute(
            delete(GroupMembership).where(
                GroupMembership.tenant_id == self.tenant_id, GroupMembership.user_id == user_id
            )
        )
        for g in wanted:
            self.session.add(GroupMembership(tenant_id=self.tenant_id, user_id=user_id, group_name=g))
        self.session.flush()
        return self.get_user(user_id)

    def update_user(
        self, user_id: str, *, display_name: Any = _KEEP, email: Any = _KEEP, workfront_user_id: Any = _KEEP,
        asana_user_gid: Any = _KEEP,
    ) -> UserOut:  # fmt: skip
        """Change profile fields or identities (an identity may be set to None to unlink it); others stay."""
        current = self.get_user(user_id)
        merged = {
            "user_id": user_id,
            "display_name": current.display_name if display_name is _KEEP else display_name,
            "email": current.email if email is _KEEP else email,
            "workfront_user_id": current.workfront_user_id if workfront_user_id is _KEEP else workfront_user_id,
            "asana_user_gid": current.asana_user_gid if asana_user_gid is _KEEP else asana_user_gid,
        }
        spec = parse(UserIn, merged)
        self._check_identities(user_id, spec.workfront_user_id, spec.asana_user_gid)
        user = self.session.get(User, (self.tenant_id, user_id))
        assert user is not None  # get_user found it above
        user.display_name, user.email = spec.display_name, spec.email
        user.workfront_user_id, user.asana_user_gid = spec.workfront_user_id, spec.asana_user_gid
        self.session.flush()
        return self.get_user(user_id)

    def remove_user(self, user_id: str) -> UserOut:
        """Deactivate the user and drop its group memberships (its history stays; see the class docstring)."""
        self.get_user(user_id)
        self.session.execute(
            delete(GroupMembership).where(
                GroupMembership.tenant_id == self.tenant_id, GroupMembership.user_id == user_id
            )
        )
        user = self.session.get(User, (self.tenant_id, user_id))
        assert user is not None
        user.active = False
        self.session.flush()
        return self.get_user(user_id, include_removed=True)

    def user_for_identity(self, system: str, external_id: str) -> UserOut | None:
        """The active user linked to ``external_id`` in ``system`` (workfront | asana), or None."""
        if system not in IDENTITY_COLUMNS:
            raise ValidationError("system", f"{system!r} has no user identities", "use workfront or asana")
        column = getattr(User, IDENTITY_COLUMNS[system])
        stmt = select(User.user_id).where(User.tenant_id == self.tenant_id, column == external_id, User.active)
        found = self.session.scalars(stmt).first()
        return self.get_user(found) if found is not None else None

    def identity_of(self, user_id: str, system: str) -> str:
        """The user's id in ``system``; a ValidationError naming the fix when the person is not linked there."""
        user = self.get_user(user_id)
        value = user.workfront_user_id if system == "workfront" else user.asana_user_gid
        if value is None:
            flag = "--workfront-id" if system == "workfront" else "--asana-gid"
            raise ValidationError(
                "user_id", f"{user_id!r} has no {system} identity",
                f"link it: mcc users set-identity {user_id} {flag} ID (or a directory import)",
            )  # fmt: skip
        return value

    def _check_identities(self, user_id: str, workfront_user_id: str | None, asana_user_gid: str | None) -> None:
        """One MCC user per external user: a clear error instead of the database's unique-constraint failure."""
        for system, value in (("workfront", workfront_user_id), ("asana", asana_user_gid)):
            if value is None:
                continue
            column = getattr(User, IDENTITY_COLUMNS[system])
            others = (User.tenant_id == self.tenant_id, column == value, User.user_id != user_id)
            stmt = select(User.user_id).where(*others)
            other = self.session.scalars(stmt).first()
            if other is not None:
                raise ValidationError(
                    IDENTITY_COLUMNS[system], f"{system} user {value} is already linked to {other!r}",
                    f"unlink it from {other!r} first",
                )  # fmt: skip
