"""``mcc tenants``, ``mcc users`` and ``mcc directory import``: bring a team's tenant and people into MCC.

Every change is written in the same transaction as its audit row (server ``directory``), so the audit log shows
who changed which tenant or person and how. Groups are the ones the policies know; an unknown group is an error
that lists them.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from mcc.output import console, err_console, print_json, safe
from mcc.wiring import App, open_app
from spine.errors import SpineError

T = TypeVar("T")

tenants_app = typer.Typer(no_args_is_help=True, help="Create and list tenants.")
users_app = typer.Typer(no_args_is_help=True, help="Manage the people of a tenant and their groups.")
directory_app = typer.Typer(no_args_is_help=True, help="Import a tenant's people from a YAML or CSV file.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Tenant id (default: settings.tenant).")]
ActorOpt = Annotated[
    str | None, typer.Option("--actor", help="Who makes the change, for the audit log (default: cli:<os user>).")
]


def _actor(actor: str | None) -> str:
    return actor or f"cli:{getpass.getuser()}"


def _fail(exc: SpineError) -> typer.Exit:
    err_console.print(f"[red]error[/red] {safe(str(exc))}")
    return typer.Exit(2)


@contextmanager
def _changing(app: App) -> Iterator[Session]:
    """One transaction for a change and its audit row."""
    with app.sessions() as session, session.begin():
        yield session


def _audited(app: App, actor: str | None, tenant_id: str, tool: str, detail: dict[str, Any],
             change: Callable[[Session], T]) -> T:  # fmt: skip
    from spine.audit import AuditLog

    with _changing(app) as session:
        result = change(session)
        AuditLog(app.sessions).append_in(
            session, tenant_id=tenant_id, actor=_actor(actor), server="directory", tool=tool, decision="executed",
            detail=detail,
        )  # fmt: skip
        return result


# ---------------------------------------------------------------------------------------------------- tenants


@tenants_app.command("create")
def tenants_create(
    slug: Annotated[str, typer.Argument(help="Tenant id: 2-63 of [a-z0-9-], e.g. acme.")],
    name: Annotated[str, typer.Option("--name", help="Display name of the tenant.")],
    kind: Annotated[str, typer.Option("--type", help="org or bu.")] = "org",
    actor: ActorOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a tenant (then add people with `mcc users add` or `mcc directory import`)."""
    from spine.repositories.directory import create_tenant

    with open_app() as app:
        try:
            t = _audited(app, actor, slug, "tenants.create", {"name": name, "type": kind},
                         lambda s: create_tenant(s, slug, name, kind))  # fmt: skip
            out = {"tenant_id": t.id, "name": t.name, "type": t.type}
        except SpineError as exc:
            raise _fail(exc) from None
    if json_out:
        print_json(out)
    else:
        console.print(f"tenant [bold]{safe(slug)}[/bold] created ({safe(name)})")


@tenants_app.command("list")
def tenants_list(json_out: JsonOpt = False) -> None:
    """Every tenant with its number of active users."""
    from spine.repositories.directory import DirectoryRepository, list_tenants

    with open_app() as app, app.sessions() as s:
        rows = [{"tenant_id": t.id, "name": t.name, "type": t.type,
                 "users": len(DirectoryRepository(s, t.id).list_users())} for t in list_tenants(s)]  # fmt: skip
    if json_out:
        print_json(rows)
        return
    table = Table("tenant", "name", "type", "users")
    for r in rows:
        table.add_row(safe(r["tenant_id"]), safe(r["name"]), r["type"], str(r["users"]))
    console.print(table)


@tenants_app.command("show")
def tenants_show(slug: Annotated[str, typer.Argument(help="Tenant id.")], json_out: JsonOpt = False) -> None:
    """One tenant and its people."""
    from spine.repositories.directory import DirectoryRepository, get_tenant

    with open_app() as app, app.sessions() as s:
        try:
            t = get_tenant(s, slug)
        except SpineError as exc:
            raise _fail(exc) from None
        users = DirectoryRepository(s, slug).list_users()
        out = {"tenant_id": t.id, "name": t.name, "type": t.type, "users": [u.model_dump() for u in users]}
    if json_out:
        print_json(out)
        return
    console.print(f"[bold]{safe(t.id)}[/bold]  {safe(t.name)}  ({t.type}, {len(users)} users)")
    _print_users(users)


# ---------------------------------------------------------------------------------------------------- users

GroupOpt = Annotated[list[str], typer.Option("--group", help="A group (repeat for several).")]


@users_app.command("add")
def users_add(
    user_id: Annotated[str, typer.Argument(help="User id, e.g. maya.chen.")],
    groups: GroupOpt,
    tenant: TenantOpt = None,
    email: Annotated[str | None, typer.Option("--email", help="E-mail address.")] = None,
    display_name: Annotated[str | None, typer.Option("--display-name", help="Name shown to people.")] = None,
    workfront_id: Annotated[str | None, typer.Option("--workfront-id", help="Workfront user ID (32 hex).")] = None,
    asana_gid: Annotated[str | None, typer.Option("--asana-gid", help="Asana user gid (digits).")] = None,
    actor: ActorOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Add a person to a tenant with their groups (a removed person of that id comes back)."""
    from spine.repositories.directory import DirectoryRepository

    with open_app() as app:
        tid = tenant or app.settings.tenant
        spec = {"user_id": user_id, "groups": groups, "email": email or f"{user_id}@{tid}.invalid",
                "display_name": display_name or user_id, "workfront_user_id": workfront_id,
                "asana_user_gid": asana_gid}  # fmt: skip
        try:
            user = _audited(app, actor, tid, "users.add", {"user_id": user_id, "groups": sorted(groups)},
                            lambda s: DirectoryRepository(s, tid).add_user(spec))  # fmt: skip
        except SpineError as exc:
            raise _fail(exc) from None
    _print_user(user, json_out, "added")


@users_app.command("list")
def users_list(
    tenant: TenantOpt = None,
    group: Annotated[str | None, typer.Option("--group", help="Only members of this group.")] = None,
    include_removed: Annotated[bool, typer.Option("--all", help="Also removed users.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """People of a tenant with their groups and linked identities."""
    from spine.repositories.directory import DirectoryRepository, get_tenant

    with open_app() as app, app.sessions() as s:
        tid = tenant or app.settings.tenant
        try:
            get_tenant(s, tid)
            users = DirectoryRepository(s, tid).list_users(group, include_removed=include_removed)
        except SpineError as exc:
            raise _fail(exc) from None
    if json_out:
        print_json([u.model_dump() for u in users])
    else:
        _print_users(users)


@users_app.command("show")
def users_show(user_id: str, tenant: TenantOpt = None, json_out: JsonOpt = False) -> None:
    """One person: groups, identities, whether active."""
    from spine.repositories.directory import DirectoryRepository

    with open_app() as app, app.sessions() as s:
        try:
            user = DirectoryRepository(s, tenant or app.settings.tenant).get_user(user_id, include_removed=True)
        except SpineError as exc:
            raise _fail(exc) from None
    _print_user(user, json_out, None)


@users_app.command("set-groups")
def users_set_groups(user_id: str, groups: GroupOpt, tenant: TenantOpt = None, actor: ActorOpt = None,
                     json_out: JsonOpt = False) -> None:  # fmt: skip
    """Replace a person's groups (takes effect on their next call)."""
    from spine.repositories.directory import DirectoryRepository

    with open_app() as app:
        tid = tenant or app.settings.tenant
        try:
            user = _audited(app, actor, tid, "users.set_groups", {"user_id": user_id, "groups": sorted(groups)},
                            lambda s: DirectoryRepository(s, tid).set_groups(user_id, groups))  # fmt: skip
        except SpineError as exc:
            raise _fail(exc) from None
    _print_user(user, json_out, "groups set")


@users_app.command("set-identity")
def users_set_identity(
    user_id: str,
    tenant: TenantOpt = None,
    workfront_id: Annotated[str | None, typer.Option("--workfront-id", help="Workfront user ID; '-' unlinks.")] = None,
    asana_gid: Annotated[str | None, typer.Option("--asana-gid", help="Asana user gid; '-' unlinks.")] = None,
    actor: ActorOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Link (or with '-' unlink) a person's Workfront user and Asana user."""
    from spine.repositories.directory import DirectoryRepository

    changes: dict[str, Any] = {}
    if workfront_id is not None:
        changes["workfront_user_id"] = None if workfront_id == "-" else workfront_id
    if asana_gid is not None:
        changes["asana_user_gid"] = None if asana_gid == "-" else asana_gid
    if not changes:
        err_console.print("[red]error[/red] nothing to change. Fix: pass --workfront-id and/or --asana-gid")
        raise typer.Exit(2)
    with open_app() as app:
        tid = tenant or app.settings.tenant
        try:
            user = _audited(app, actor, tid, "users.set_identity", {"user_id": user_id, **changes},
                            lambda s: DirectoryRepository(s, tid).update_user(user_id, **changes))  # fmt: skip
        except SpineError as exc:
            raise _fail(exc) from None
    _print_user(user, json_out, "identity set")


@users_app.command("remove")
def users_remove(user_id: str, tenant: TenantOpt = None, actor: ActorOpt = None, json_out: JsonOpt = False) -> None:
    """Remove a person: they can no longer act; their audit history, approvals and campaigns stay."""
    from spine.repositories.directory import DirectoryRepository

    with open_app() as app:
        tid = tenant or app.settings.tenant
        try:
            user = _audited(app, actor, tid, "users.remove", {"user_id": user_id},
                            lambda s: DirectoryRepository(s, tid).remove_user(user_id))  # fmt: skip
        except SpineError as exc:
            raise _fail(exc) from None
    _print_user(user, json_out, "removed")


# ---------------------------------------------------------------------------------------------------- import


@directory_app.command("import")
def directory_import(
    file: Annotated[Path, typer.Argument(help="YAML (.yaml/.yml) or CSV (.csv) file of users.")],
    tenant: TenantOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would change; change nothing.")] = False,
    actor: ActorOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Create or update the people in FILE (idempotent: a second import of the same file changes nothing)."""
    from spine.audit import AuditLog
    from spine.directory_import import apply_directory, load_directory_file

    with open_app() as app:
        try:
            spec = load_directory_file(file)
            tid = tenant or spec.tenant or app.settings.tenant
            with app.sessions() as session:
                tx = session.begin()
                report = apply_directory(session, tid, spec, dry_run=dry_run)
                if dry_run or not report.changed:
                    tx.rollback()
                else:
                    detail = {"file": file.name, "created": report.created, "updated": sorted(report.updated),
                              "tenant_created": report.tenant_created}  # fmt: skip
                    AuditLog(app.sessions).append_in(
                        session, tenant_id=tid, actor=_actor(actor), server="directory", tool="directory.import",
                        decision="executed", detail=detail,
                    )  # fmt: skip
                    tx.commit()
        except SpineError as exc:
            raise _fail(exc) from None
    if json_out:
        print_json(report)
        return
    verb = "would change" if dry_run else "changed"
    console.print(
        f"[bold]{safe(tid)}[/bold]: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.not_in_file)} not in the file (left as they are)"
        + ("; tenant created" if report.tenant_created else "")
        + (f" ({verb} nothing)" if not report.changed else f" ({'dry run: nothing written' if dry_run else verb})")
    )
    for uid, fields in report.updated.items():
        console.print(f"  {safe(uid)}: {', '.join(fields)}")


def _print_users(users: list[Any]) -> None:
    table = Table("user", "name", "groups", "workfront", "asana", "active")
    for u in users:
        table.add_row(safe(u.user_id), safe(u.display_name), ", ".join(u.groups), u.workfront_user_id or "",
                      u.asana_user_gid or "", "yes" if u.active else "removed")  # fmt: skip
    console.print(table)


def _print_user(user: Any, json_out: bool, verb: str | None) -> None:
    if json_out:
        print_json(user)
        return
    head = f"{verb}: " if verb else ""
    console.print(f"{head}[bold]{safe(user.user_id)}[/bold] ({safe(user.display_name)}, {safe(user.email)})  "
                  f"groups: {', '.join(user.groups) or 'none'}  workfront: {user.workfront_user_id or '-'}  "
                  f"asana: {user.asana_user_gid or '-'}  {'active' if user.active else 'removed'}")  # fmt: skip
