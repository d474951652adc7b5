"""``mcc import``: backfill a team's existing Workfront or Asana projects and tasks into the spine, through review.

``mcc import workfront`` / ``mcc import asana`` read every project and task with the REST client of the tenant's
connection and store one proposal per project (link to a campaign, or create one); ``mcc import review`` lists
them; ``accept`` / ``reject`` (or ``accept --above SCORE``) decide. Re-running is idempotent, and every change is
audited.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from mcc.output import console, err_console, print_json, safe
from mcc.wiring import App, open_app
from spine.errors import SpineError

app = typer.Typer(no_args_is_help=True, help="Backfill existing projects and tasks into the spine.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Tenant id (default: settings.tenant).")]
ABOVE_HELP = "Accept every open proposal scoring at least this (0-1)."


def _audit(app_: App, session: Any, tenant: str, actor: str, tool: str, detail: dict[str, Any]) -> None:
    app_.audit_log().append_in(session, tenant_id=tenant, actor=actor, server="import", tool=tool,
                                      decision="executed", detail=detail)  # fmt: skip


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error[/red] {safe(message)}")
    return typer.Exit(2)


SinceOpt = Annotated[str | None, typer.Option("--since", help="Only projects changed on or after (ISO date).")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Report what would be proposed; store nothing.")]
WorkspaceOpt = Annotated[
    str | None, typer.Option("--workspace", help="Asana workspace gid (default: the connection's).")
]


@app.command("workfront")
def import_workfront(
    tenant: TenantOpt = None, since: SinceOpt = None, dry_run: DryRunOpt = False, json_out: JsonOpt = False
) -> None:
    """Read the tenant's Workfront (its `mcc connect workfront` connection) and propose links to campaigns."""
    from connectors.workfront.client import WorkfrontRestClient
    from sync.backfill_read import read_workfront

    async def read(app_: App, tid: str, since_date: dt.date | None, tick: Any) -> Any:
        backend = app_.workfront_backend(tid)
        assert isinstance(backend, WorkfrontRestClient)  # a connection always gives the REST client
        return await read_workfront(backend, since_date, tick)

    _import("workfront", read, tenant, since, dry_run, json_out)


@app.command("asana")
def import_asana(
    tenant: TenantOpt = None, since: SinceOpt = None, workspace: WorkspaceOpt = None, dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """Read the tenant's Asana workspace (its `mcc connect asana` connection) and propose links to campaigns."""
    from connectors.asana.client import AsanaRestClient
    from sync.backfill_read import read_asana

    async def read(app_: App, tid: str, since_date: dt.date | None, tick: Any) -> Any:
        backend = app_.asana_backend(tid)
        assert isinstance(backend, AsanaRestClient)  # a connection always gives the REST client
        return await read_asana(backend, workspace, since_date, tick)

    _import("asana", read, tenant, since, dry_run, json_out)


def _import(system: str, reader: Any, tenant: str | None, since: str | None, dry_run: bool, json_out: bool) -> None:
    """Read ``system`` with ``reader(app, tenant, since, tick)`` and store (or, dry, only count) the proposals."""
    from connectors.errors import ConnectorError
    from sync.backfill import propose

    try:
        since_date = dt.date.fromisoformat(since) if since else None
    except ValueError:
        raise _fail(f"--since {since!r} is not an ISO date. Fix: e.g. --since 2026-01-01") from None
    with open_app() as app_:
        tid = tenant or app_.settings.tenant
        if app_.connection(tid, system) is None:
            title = system.title()
            raise _fail(f"tenant {tid!r} has no {title} connection. Fix: mcc connect {system} --tenant {tid} ...")

        async def read() -> Any:
            try:
                with Progress(console=err_console, transient=True, disable=json_out) as bar:
                    tasks = {k: bar.add_task(f"reading {k}", total=None) for k in ("projects", "tasks")}
                    return await reader(app_, tid, since_date, lambda what, n: bar.advance(tasks[what], n))
            finally:
                await app_.aclose_backends()

        try:
            projects = asyncio.run(read())
            actor = f"cli:{getpass.getuser()}"
            with app_.sessions() as session:
                tx = session.begin()
                summary = propose(session, tid, projects, dry_run=dry_run, system=system)
                if dry_run:
                    tx.rollback()
                else:
                    detail = {k: v for k, v in vars(summary).items() if k != "proposal_ids"}
                    _audit(app_, session, tid, actor, f"import.{system}", detail | {"since": since})
                    tx.commit()
        except (ConnectorError, SpineError) as exc:
            raise _fail(str(exc)) from None
    out = {k: v for k, v in vars(summary).items() if k != "proposal_ids"} | {"dry_run": dry_run}
    if json_out:
        print_json(out)
        return
    console.print(
        f"{summary.projects} projects, {summary.tasks} tasks read: {summary.exact} exact matches, {summary.fuzzy} "
        f"name/date matches, {summary.new} without a campaign (would create one), {summary.already_linked} "
        f"already linked, {summary.unchanged_decided} decided earlier"
        + (" (dry run: nothing stored)" if dry_run else f". Next: mcc import review --tenant {safe(tid)}")
    )


@app.command("review")
def import_review(
    tenant: TenantOpt = None,
    status: Annotated[str, typer.Option("--status", help="proposed | accepted | rejected | all")] = "proposed",
    json_out: JsonOpt = False,
) -> None:
    """The proposals, best score first: project, proposed campaign (or 'new'), score, why, flags."""
    from sync.backfill import proposals

    with open_app() as app_, app_.sessions() as session:
        rows = proposals(session, tenant or app_.settings.tenant, None if status == "all" else status)
        out = [{"proposal_id": r.id, "system": r.system, "project_id": r.external_id, "project": r.name,
                "campaign_id": r.campaign_id, "score": r.score, "match": r.match_kind, "tasks": len(r.tasks),
                "status": r.status, "flags": r.flags} for r in rows]  # fmt: skip
    if json_out:
        print_json(out)
        return
    table = Table("proposal", "project", "campaign", "score", "match", "tasks", "flags")
    for r in out:
        table.add_row(r["proposal_id"][:8], safe(r["project"]), r["campaign_id"] or "(new)", f"{r['score']:.2f}",
                      r["match"], str(r["tasks"]), ", ".join(r["flags"]))  # fmt: skip
    console.print(table)


@app.command("accept")
def import_accept(
    proposal_ids: Annotated[list[str] | None, typer.Argument(help="Proposal ids (or a unique prefix).")] = None,
    above: Annotated[float | None, typer.Option("--above", "--accept-above", help=ABOVE_HELP)] = None,
    as_user: Annotated[str, typer.Option("--as", help="Who accepts (owner of created campaigns without one).")] = "",
    tenant: TenantOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Apply proposals: link (or create) the campaign and mirror every task as a work item, one transaction each."""
    from sync.backfill import accept, proposals

    if not as_user:
        raise _fail("who accepts? Fix: pass --as USER (a person of the tenant)")
    if not proposal_ids and above is None:
        raise _fail("nothing to accept. Fix: pass proposal ids or --above SCORE")
    with open_app() as app_:
        tid = tenant or app_.settings.tenant
        try:
            app_.principal(as_user, tid)
            with app_.sessions() as session:
                open_rows = proposals(session, tid)
            chosen = _choose(open_rows, proposal_ids or [], above)
            applied = []
            for pid in chosen:
                with app_.sessions() as session, session.begin():
                    done = accept(session, tid, pid, as_user, dt.date.today())
                    _audit(app_, session, tid, as_user, "import.accept", vars(done))
                    applied.append(vars(done))
        except SpineError as exc:
            raise _fail(str(exc)) from None
    if json_out:
        print_json(applied)
        return
    for a in applied:
        verb = "created" if a["campaign_created"] else "linked to"
        console.print(f"{a['proposal_id'][:8]}: {verb} campaign {a['campaign_id']}, {a['work_items']} work items"
                      + (f"  (review: {', '.join(a['flags'])})" if a["flags"] else ""))  # fmt: skip
    console.print(f"{len(applied)} accepted")


@app.command("reject")
def import_reject(
    proposal_ids: Annotated[list[str], typer.Argument(help="Proposal ids (or a unique prefix).")],
    as_user: Annotated[str, typer.Option("--as", help="Who rejects.")] = "",
    tenant: TenantOpt = None,
) -> None:
    """Reject proposals: later imports leave those projects alone."""
    from sync.backfill import proposals, reject

    with open_app() as app_:
        tid = tenant or app_.settings.tenant
        actor = as_user or f"cli:{getpass.getuser()}"
        try:
            with app_.sessions() as session:
                chosen = _choose(proposals(session, tid), proposal_ids, None)
            with app_.sessions() as session, session.begin():
                for pid in chosen:
                    reject(session, tid, pid, actor)
                _audit(app_, session, tid, actor, "import.reject", {"proposal_ids": chosen})
        except SpineError as exc:
            raise _fail(str(exc)) from None
    console.print(f"{len(chosen)} rejected")


def _choose(rows: list[Any], wanted: list[str], above: float | None) -> list[str]:
    from spine.errors import ValidationError

    chosen = [r.id for r in rows if above is not None and r.score >= above]
    for prefix in wanted:
        hits = [r.id for r in rows if r.id.startswith(prefix)]
        if len(hits) != 1:
            why = "matches no open proposal" if not hits else "is ambiguous"
            raise ValidationError("proposal_id", f"{prefix!r} {why}", "copy the id from mcc import review")
        chosen.append(hits[0])
    return list(dict.fromkeys(chosen))
