"""``mcc sync push`` and ``mcc sync errors``: send MCC-owned campaign changes out, and show what failed.

``push`` plans the tenant's new MCC changes (outbox -> pending field versions), enqueues one durable workflow per
linked project on the DBOS ``outbound`` queue and waits for them; a restarted ``push`` first finishes what a killed
one left. ``errors`` lists the error log (step, kind, message, fix).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from mcc.output import console, err_console, print_json, safe
from mcc.wiring import open_app

TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Tenant id (default: settings.tenant).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def register(sync_app: typer.Typer) -> None:
    """Mount ``push`` and ``errors`` on the ``mcc sync`` group."""
    sync_app.command("push")(push)
    sync_app.command("errors")(errors)


def push(
    tenant: TenantOpt = None,
    retry_errors: Annotated[bool, typer.Option("--retry-errors", help="Send failed propagations again.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Propagate MCC-owned campaign changes (name, description, tier, budget, dates) to the linked projects."""
    from dbos import DBOS

    with open_app() as app_:
        tid = tenant or app_.settings.tenant
        results: dict[str, str] = {}
        if retry_errors:
            from sync.outbound_state import retry_errors as reset

            with app_.sessions() as session, session.begin():
                reset(session, tid)
        with app_.workers() as workers:
            for wf_id in workers.outbound.enqueue_pending(workers.durable.outbound, tid):
                results[wf_id] = str(DBOS.retrieve_workflow(wf_id).get_result(polling_interval_sec=0.2))
    failed = sum(1 for r in results.values() if r == "error")
    if json_out:
        print_json({"tenant": tid, "propagations": results, "failed": failed})
    else:
        console.print(f"{len(results)} propagations, {failed} failed" + (". See: mcc sync errors" if failed else ""))
    if failed:
        raise typer.Exit(1)


def errors(
    tenant: TenantOpt = None,
    step: Annotated[str | None, typer.Option("--step", help="Only steps starting with this (e.g. outbound.).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """The error log of the tenant, oldest first: when, step, campaign, kind, message and the fix if known."""
    from spine.repositories import SpineStore

    with open_app() as app_, app_.sessions() as session:
        tid = tenant or app_.settings.tenant
        rows = [e for e in SpineStore(session, tid).errors.list() if step is None or e.step.startswith(step)]
    if json_out:
        print_json([e.model_dump(mode="json") for e in rows])
        return
    if not rows:
        err_console.print("no errors")
        return
    table = Table("when", "step", "campaign", "kind", "message", "fix")
    for e in rows:
        fix = (e.error_details or {}).get("fix") or ""
        table.add_row(e.created_at.strftime("%Y-%m-%d %H:%M:%S"), safe(e.step), e.campaign_id or "",
                      safe(e.error_type or ""), safe(e.error_message), safe(fix))  # fmt: skip
    console.print(table)
