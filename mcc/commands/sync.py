"""``mcc sync``: inbound sync from Workfront and Asana: conflicts to resolve, the polling fallback, the inbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import json
from typing import Annotated

import typer
from rich.table import Table

from mcc.output import console, err_console, print_json, safe
from mcc.wiring import open_app

app = typer.Typer(no_args_is_help=True, help="Sync with Workfront and Asana: conflicts, polling, the webhook inbox.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Tenant id (default: settings.tenant).")]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="Who decides (default: cli:<os user>).")]


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error[/red] {safe(message)}")
    return typer.Exit(2)


@app.command("conflicts")
def conflicts(tenant: TenantOpt = None, all_: Annotated[bool, typer.Option("--all", help="Resolved ones too.")] = False,
              json_out: JsonOpt = False) -> None:  # fmt: skip
    """Conflicts that a person must resolve (MANUAL rule): both values, the field and the entity."""
    from sync.conflicts import list_conflicts

    with open_app() as app_:
        rows = list_conflicts(app_.sessions, tenant or app_.settings.tenant, None if all_ else "open")
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print("no open conflicts")
        return
    for r in rows:  # one line each, so the id can be copied whole into `mcc sync resolve`
        console.print(f"{r['id']}  {r['status']}  {r['entity_type']} {r['canonical_id']} {r['field']}: "
                      f"mcc={safe(json.dumps(r['mcc_value']))} {r['system']}={safe(json.dumps(r['external_value']))}",
                      soft_wrap=True)  # fmt: skip


@app.command("resolve")
def resolve(
    conflict_id: Annotated[str, typer.Argument(help="Conflict id (from `mcc sync conflicts`).")],
    take: Annotated[str, typer.Option("--take", help="mcc, external, or the value to keep (JSON or text).")],
    tenant: TenantOpt = None,
    actor: ActorOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Resolve one conflict by keeping MCC's value, the external value, or a value of your own."""
    from spine.errors import SpineError
    from sync.conflicts import resolve as do_resolve

    with open_app() as app_:
        try:
            out = do_resolve(app_.sessions, app_.audit_log(), tenant or app_.settings.tenant, conflict_id, take,
                             actor or f"cli:{getpass.getuser()}")  # fmt: skip
        except SpineError as exc:
            raise _fail(str(exc)) from None
    if json_out:
        print_json(out)
    else:
        console.print(f"conflict {out['id']} resolved: {out['field']} = {safe(out['resolution']['value'])}")


_SINCE_HELP = "ISO date/time (default: where the system's last pull began, less 5 minutes; first pull: 24 h ago)."


def _since(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"--since: {value!r} is not an ISO date or date-time (e.g. 2026-12-01T08:00)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@app.command("pull")
def pull(
    tenant: TenantOpt = None,
    since: Annotated[str | None, typer.Option("--since", help=_SINCE_HELP)] = None,
    system: Annotated[str | None, typer.Option("--system", help="workfront or asana (default: both).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Polling fallback: apply what changed in the linked projects since --since (lastUpdateDate/modified_at)."""
    from connectors.errors import ConnectorError
    from sync.pull import default_since
    from sync.pull import pull as do_pull

    given = _since(since) if since is not None else None
    systems = [system] if system else ["workfront", "asana"]
    if any(s not in ("workfront", "asana") for s in systems):
        raise _fail("--system: use workfront or asana")
    reports = []
    with open_app() as app_:
        tid = tenant or app_.settings.tenant

        async def run() -> None:
            try:
                for s in systems:
                    when = given or default_since(app_.sessions, tid, s, dt.datetime.now(dt.UTC))
                    backend = app_.workfront_backend(tid) if s == "workfront" else app_.asana_backend(tid)
                    reports.append(await do_pull(app_.sessions, app_.audit_log(), tid, s, backend, when))
            finally:
                await app_.aclose_backends()

        try:
            asyncio.run(run())
        except ConnectorError as exc:
            raise _fail(f"[{exc.code}] {exc}") from None
    rows = [{"system": r.system, "since": r.since, "read": r.read, **r.outcome} for r in reports]
    if json_out:
        print_json(rows)
        return
    for r in rows:
        counts = ", ".join(f"{len(v)} {k}" for k, v in r.items() if isinstance(v, list))
        console.print(f"{r['system']}: {r['read']} changed object(s) since {r['since']}; {counts or 'nothing to do'}")


@app.command("inbox")
def inbox_list(
    tenant: TenantOpt = None,
    status: Annotated[str | None, typer.Option("--status", help="received, processed, failed or ignored.")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    json_out: JsonOpt = False,
) -> None:
    """The newest webhook deliveries with what processing did (unknown ids, conflicts, errors)."""
    from sync import inbox

    with open_app() as app_:
        rows = inbox.listing(app_.sessions, tenant or app_.settings.tenant, status, limit)
    if json_out:
        print_json(rows)
        return
    table = Table("id", "system", "status", "attempts", "received", "summary / error")
    for r in rows:
        what = r["error"] or ", ".join(f"{len(v)} {k}" for k, v in (r["summary"] or {}).items())
        table.add_row(r["id"], r["system"], r["status"], str(r["attempts"]), r["received_at"], safe(what))
    console.print(table)


@app.command("process")
def process_now(json_out: JsonOpt = False) -> None:
    """Process every delivery still waiting in the inbox, here and now (what the queue worker does)."""
    from mcc.inbound import asana_reader
    from sync.process import process_pending

    with open_app() as app_:
        done = process_pending(app_.sessions, app_.audit_log(), asana_reader(app_))
    if json_out:
        print_json(done)
    else:
        console.print(", ".join(f"{n} {s}" for s, n in done.items()) or "nothing waiting")


@app.command("retry")
def retry(inbox_id: str, json_out: JsonOpt = False) -> None:
    """Put a failed delivery back in the queue."""
    from sync import inbox

    with open_app() as app_:
        ok = inbox.retry(app_.sessions, inbox_id)
    if json_out:
        print_json({"id": inbox_id, "requeued": ok})
    elif not ok:
        raise _fail(f"inbox_id: {inbox_id} is not a failed delivery")
    else:
        console.print(f"{inbox_id} queued again; `mcc sync process` or the worker picks it up")


@app.command("worker")
def worker(
    sweep_every: Annotated[float, typer.Option("--sweep-every", help="Seconds between inbox sweeps.")] = 0.25,
    until_idle: Annotated[bool, typer.Option("--until-idle", help="Exit once the inbox has nothing waiting.")] = False,
    batch: Annotated[int, typer.Option("--batch", min=1, max=1000, help="Deliveries per workflow.")] = 200,
) -> None:
    """A DBOS worker of the sync engine (run several against PostgreSQL; give each its own MCC_DBOS_EXECUTOR_ID).
    It recovers its unfinished workflows, queues what waits in the inbox, plans MCC's campaign changes out every
    5 s, and runs every queue: webhook deliveries, outbound propagation, campaign setup."""
    import time

    from mcc.inbound import worker_config
    from mcc.workers import Sweeper
    from sync import inbox

    with open_app() as app_, app_.workers(worker_config(app_), inbox_batch=batch) as workers:
        sweep = Sweeper(app_, workers)
        err_console.print(f"mcc: sync worker: {sweep()} waiting deliveries queued")
        try:
            while True:
                time.sleep(sweep_every)
                if until_idle and not inbox.pending_ids(app_.sessions, 1):
                    return
                sweep()
        except KeyboardInterrupt:
            return
