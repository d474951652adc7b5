"""``mcc connect``: per-tenant connections to Workfront and Asana.

A tenant with a connection is served by the real REST API of its own Workfront / Asana (tools, agents and sync
alike); a tenant without one keeps the embedded sandbox. Secrets never enter the database in clear: they are named
by reference (``--api-key-env VAR``, ``--api-key-file PATH``) or read from standard input and stored encrypted with
a key kept outside the database (``MCC_SECRET_KEY`` or ``$MCC_HOME/secret.key``). Every change is audited.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mcc.output import console, err_console, print_json, safe
from mcc.wiring import App, open_app
from spine.errors import SpineError

app = typer.Typer(no_args_is_help=True, help="Connect a tenant to its Workfront and Asana.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Tenant id (default: settings.tenant).")]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="Who makes the change (default: cli:<os user>).")]
ASANA_API = "https://app.asana.com/api/1.0"
STDIN_HELP = "Read the secret from stdin and store it encrypted (key outside the database)."


def _secret_source(app_: App, env: str | None, file: Path | None, stdin: bool, what: str) -> dict[str, str]:
    """Exactly one of env / file / stdin: a reference to store, or the secret encrypted."""
    from mcc.secrets import encrypt

    given = [x for x in (env, file, stdin or None) if x]
    if len(given) != 1:
        raise typer.BadParameter(f"give exactly one of --{what}-env, --{what}-file, --{what}-stdin")
    if env:
        return {"secret_ref": f"env:{env}"}
    if file:
        return {"secret_ref": f"file:{file.expanduser().resolve()}"}
    return {"secret_ciphertext": encrypt(app_.settings, sys.stdin.readline())}


def _store(system: str, tenant: str | None, url: str, source: dict[str, str], workspace: str | None,
           actor: str | None, json_out: bool, app_: App) -> None:  # fmt: skip
    from spine.audit import AuditLog
    from spine.repositories.connections import ConnectionRepository

    tid = tenant or app_.settings.tenant
    try:
        with app_.sessions() as session, session.begin():
            conn = ConnectionRepository(session, tid).set(system, url, workspace_gid=workspace, **source)
            AuditLog(app_.sessions).append_in(
                session, tenant_id=tid, actor=actor or f"cli:{getpass.getuser()}", server="connections",
                tool=f"connect.{system}", decision="executed", detail={"url": conn.url, "secret": conn.secret},
            )  # fmt: skip
    except SpineError as exc:
        err_console.print(f"[red]error[/red] {safe(str(exc))}")
        raise typer.Exit(2) from None
    if json_out:
        print_json(conn.public())
    else:
        console.print(f"{safe(tid)}: {system} connected at {safe(conn.url)} (secret: {safe(conn.secret)}); "
                      f"check it with `mcc connect check --tenant {safe(tid)}`")  # fmt: skip


@app.command("workfront")
def connect_workfront(
    url: Annotated[str, typer.Option("--url", help="e.g. https://acme.my.workfront.com")],
    tenant: TenantOpt = None,
    api_key_env: Annotated[str | None, typer.Option("--api-key-env", help="Env var holding the API key.")] = None,
    api_key_file: Annotated[Path | None, typer.Option("--api-key-file", help="File holding the API key.")] = None,
    api_key_stdin: Annotated[bool, typer.Option("--api-key-stdin", help=STDIN_HELP)] = False,
    actor: ActorOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Connect the tenant to its Workfront (replaces an earlier connection)."""
    with open_app() as app_:
        source = _secret_source(app_, api_key_env, api_key_file, api_key_stdin, "api-key")
        _store("workfront", tenant, url, source, None, actor, json_out, app_)


@app.command("asana")
def connect_asana(
    workspace: Annotated[str, typer.Option("--workspace", help="Asana workspace gid (digits).")],
    tenant: TenantOpt = None,
    url: Annotated[str, typer.Option("--url", help="API base URL.")] = ASANA_API,
    token_env: Annotated[str | None, typer.Option("--token-env", help="Env var holding the access token.")] = None,
    token_file: Annotated[Path | None, typer.Option("--token-file", help="File holding the access token.")] = None,
    token_stdin: Annotated[bool, typer.Option("--token-stdin", help=STDIN_HELP)] = False,
    actor: ActorOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Connect the tenant to its Asana workspace (replaces an earlier connection)."""
    with open_app() as app_:
        source = _secret_source(app_, token_env, token_file, token_stdin, "token")
        _store("asana", tenant, url, source, workspace, actor, json_out, app_)


@app.command("list")
def connect_list(tenant: TenantOpt = None, json_out: JsonOpt = False) -> None:
    """The tenant's connections (where each secret lives; never the secret)."""
    from spine.repositories.connections import ConnectionRepository

    with open_app() as app_, app_.sessions() as session:
        rows = [c.public() for c in ConnectionRepository(session, tenant or app_.settings.tenant).list()]
    if json_out:
        print_json(rows)
        return
    table = Table("system", "url", "workspace", "secret")
    for r in rows:
        table.add_row(str(r["system"]), safe(r["url"]), str(r["workspace_gid"] or ""), safe(r["secret"]))
    console.print(table)


@app.command("remove")
def connect_remove(system: str, tenant: TenantOpt = None, actor: ActorOpt = None, json_out: JsonOpt = False) -> None:
    """Remove a connection: the tenant goes back to its sandbox for that system."""
    from spine.audit import AuditLog
    from spine.repositories.connections import ConnectionRepository

    with open_app() as app_:
        tid = tenant or app_.settings.tenant
        try:
            with app_.sessions() as session, session.begin():
                gone = ConnectionRepository(session, tid).remove(system)
                AuditLog(app_.sessions).append_in(
                    session, tenant_id=tid, actor=actor or f"cli:{getpass.getuser()}", server="connections",
                    tool="connect.remove", decision="executed", detail={"system": system},
                )  # fmt: skip
        except SpineError as exc:
            err_console.print(f"[red]error[/red] {safe(str(exc))}")
            raise typer.Exit(2) from None
    if json_out:
        print_json(gone.public())
    else:
        console.print(f"{safe(tid)}: {system} connection removed")


@app.command("check")
def connect_check(tenant: TenantOpt = None, json_out: JsonOpt = False) -> None:
    """One cheap authenticated call per connected system; exit 1 when any fails (the exact error is shown)."""
    from spine.repositories.connections import ConnectionRepository

    with open_app() as app_:
        tid = tenant or app_.settings.tenant
        with app_.sessions() as session:
            systems = [c.system for c in ConnectionRepository(session, tid).list()]
        results = asyncio.run(_check_all(app_, tid, systems))
    if json_out:
        print_json(results)
    elif not results:
        console.print(f"{safe(tid)}: no connections (the sandboxes serve this tenant)")
    for r in results if not json_out else []:
        mark = "[green]ok[/green]" if r["ok"] else "[red]failed[/red]"
        console.print(f"{r['system']}: {mark} {safe(r['detail'])}")
    if any(not r["ok"] for r in results):
        raise typer.Exit(1)


async def _check_all(app_: App, tenant: str, systems: list[str]) -> list[dict[str, Any]]:
    from connectors.errors import ConnectorError

    out = []
    for system in systems:
        try:
            backend = app_.workfront_backend(tenant) if system == "workfront" else app_.asana_backend(tenant)
            detail, ok = await backend.check_access(), True
        except ConnectorError as exc:
            detail, ok = f"[{exc.code}] {exc}" + (f" Fix: {exc.fix}" if exc.fix else ""), False
        out.append({"system": system, "ok": ok, "detail": detail})
    await app_.aclose_backends()
    return out
