"""``mcc webhooks``: subscribe a tenant's connected Workfront and Asana to MCC's webhook receiver."""

from __future__ import annotations

import asyncio
import getpass
from typing import Annotated

import typer

from mcc.output import console, err_console, print_json, safe
from mcc.wiring import App, open_app

app = typer.Typer(no_args_is_help=True, help="Create and list the webhooks that feed inbound sync.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Tenant id (default: settings.tenant).")]
PUBLIC_HELP = "Base URL where `mcc serve webhooks` is reachable from the systems (e.g. https://mcc.example.com)."


async def _subscribe(app_: App, tid: str, systems: list[str], public_url: str) -> list[dict[str, object]]:
    from mcc.inbound import webhook_secrets
    from mcc.secrets import resolve
    from spine.repositories import SpineStore
    from sync.apply_spine import linked_project_ids
    from sync.subscribe import subscribe_asana, subscribe_workfront

    secrets = webhook_secrets(app_)
    out = []
    for system in systems:
        conn = app_.connection(tid, system)
        if conn is None:
            raise ValueError(f"{system}: tenant {tid} has no {system} connection (the sandbox has no webhooks). "
                             f"Fix: mcc connect {system} --tenant {tid} ...")  # fmt: skip
        secret = resolve(app_.settings, conn)
        if system == "asana":
            with app_.sessions() as s:
                projects = linked_project_ids(SpineStore(s, tid), "asana")
            done = await subscribe_asana(secrets, conn.url, secret, tid, public_url, projects)
        else:
            done = await subscribe_workfront(secrets, conn.url, secret, tid, public_url)
        out.append({"system": system, "target": done.target, "created": done.created, "existing": done.existing})
    return out


@app.command("subscribe")
def subscribe(
    public_url: Annotated[str, typer.Option("--public-url", help=PUBLIC_HELP)],
    tenant: TenantOpt = None,
    system: Annotated[
        str | None, typer.Option("--system", help="workfront or asana (default: every connected).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create the subscriptions on the tenant's connected systems (run `mcc serve webhooks` first: Asana calls
    the receiver during the request)."""
    from connectors.errors import ConnectorError
    from mcc.secrets import SecretError
    from spine.repositories.connections import ConnectionRepository

    if not public_url.startswith(("https://", "http://")):
        raise typer.BadParameter("--public-url must be an http(s) URL")
    with open_app() as app_:
        tid = tenant or app_.settings.tenant
        with app_.sessions() as s:
            connected = [c.system for c in ConnectionRepository(s, tid).list()]
        systems = [system] if system else connected
        if not systems:
            err_console.print(f"[red]error[/red] tenant {safe(tid)} has no connections; run `mcc connect` first")
            raise typer.Exit(2)
        try:
            results = asyncio.run(_subscribe(app_, tid, systems, public_url))
        except (ConnectorError, SecretError, ValueError) as exc:
            err_console.print(f"[red]error[/red] {safe(str(exc))}")
            raise typer.Exit(2) from None
        app_.audit_log().append(tenant_id=tid, actor=f"cli:{getpass.getuser()}", server="sync",
                                tool="webhooks.subscribe", decision="executed",
                                detail=[{k: r[k] for k in ("system", "created")} for r in results])  # fmt: skip
    if json_out:
        print_json(results)
        return
    for r in results:
        console.print(f"{r['system']}: {len(r['created'])} created, {len(r['existing'])} already there -> "  # type: ignore[arg-type]
                      f"{safe(r['target'])}")  # fmt: skip


@app.command("list")
def list_hooks(tenant: TenantOpt = None, json_out: JsonOpt = False) -> None:
    """The tenant's webhooks and whether each is active (never their secrets)."""
    from mcc.inbound import webhook_secrets

    with open_app() as app_:
        rows = webhook_secrets(app_).hooks(tenant or app_.settings.tenant)
    if json_out:
        print_json(rows)
        return
    for r in rows:
        console.print(f"{r['system']} {safe(r['hook'])}: {r['status']} {safe(r['external_id'] or '')}")
