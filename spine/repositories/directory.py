"""Tenants and the per-tenant principal directory (users and groups)."""

from __future__ import annotations

from collections.abc import Iterable

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


class DirectoryRepository(TenantScoped):
    """Users and group memberships of one tenant."""

    def add_user(self, data: UserIn | dict) -> UserOut:
        """Add a user with its groups; an existing user id in this tenant is an error."""
        spec = parse(UserIn, data)
        groups = _check_groups(spec.groups)
        if self.session.get(User, (self.tenant_id, spec.user_id)) is not None:
            raise ValidationError("user_id", f"user {spec.user_id!r} already exists", "pick another user_id")
        self.session.add(
            User(tenant_id=self.tenant_id, user_id=spec.user_id, display_name=spec.display_name, email=spec.email)
        )
        self.session.flush()
        for g in groups:
            self.session.add(GroupMembership(tenant_id=self.tenant_id, user_id=spec.user_id, group_name=g))
        self.session.flush()
        return self.get_user(spec.user_id)

    def has_user(self, user_id: str) -> bool:
        return self.session.get(User, (self.tenant_id, user_id)) is not None

    def unknown_users(self, user_ids: Iterable[str]) -> list[str]:
        """The ids, in order, that name no user of this tenant (a user of another tenant is unknown here)."""
        wanted = [u for u in user_ids if isinstance(u, str)]
        stmt = select(User.user_id).where(User.tenant_id == self.tenant_id, User.user_id.in_(set(wanted)))
        known = set(self.session.scalars(stmt)) if wanted else set()
        return [u for u in user_ids if not isinstance(u, str) or u not in known]

    def get_user(self, user_id: str) -> UserOut:
        """The user with its groups; NotFound when not in this tenant."""
        user = self.session.get(User, (self.tenant_id, user_id))
        if user is None:
            raise NotFoundError("user", user_id)
        return UserOut(
            tenant_id=user.tenant_id,
            user_id=user.user_id,
            display_name=user.display_name,
            email=user.email,
            groups=self.groups_of(user_id),
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

    def list_users(self, group: str | None = None) -> list[UserOut]:
        ids = (
            self.members(group)
            if group
            else sorted(self.session.scalars(select(User.user_id).where(User.tenant_id == self.tenant_id)))
        )
        return [self.get_user(u) for u in ids]

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
