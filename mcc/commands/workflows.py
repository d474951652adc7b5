"""``mcc workflows``: the durable campaign-setup workflows (list, show each step's state) and a worker that runs
them (and every other queue of the sync engine) until stopped."""

from __future__ import annotations

import dataclasses
import time
from typing import Annotated

import typer
from rich.table import Table

from mcc.output import console, err_console, print_json, safe
from mcc.wiring import open_app
from sync.setup_client import SetupRun

app = typer.Typer(no_args_is_help=True, help="Durable campaign-setup workflows: list, show, run a worker.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _row(run: SetupRun) -> dict[str, object]:
    return dataclasses.asdict(run)


@app.command("list")
def list_workflows(
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="At most this many, newest first.")] = 50,
    json_out: JsonOpt = False,
) -> None:
    """The campaign-setup workflows, newest first, with how many of their steps are done."""
    with open_app() as app_:
        runs = app_.campaign_setup.list(limit)
    if json_out:
        print_json([_row(r) for r in runs])
        return
    table = Table("workflow", "status", "steps done", "campaign", "system", "created")
    for r in runs:
        done = sum(1 for s in r.steps if s.state == "done")
        created = r.created_at.isoformat() if r.created_at else "-"
        table.add_row(r.workflow_id, r.status, f"{done}/{len(r.steps)}", safe(r.result.get("campaign_id") or "-"),
                      safe(r.result.get("system") or "-"), created)  # fmt: skip
    console.print(table)


@app.command("show")
def show_workflow(workflow_id: Annotated[str, typer.Argument(help="campaign-setup-<request id>")],
                  json_out: JsonOpt = False) -> None:  # fmt: skip
    """One workflow: its status, result or error, and the state of each step."""
    with open_app() as app_:
        run = app_.campaign_setup.get(workflow_id)
    if run is None:
        err_console.print(f"[red]error[/red] workflow_id: no workflow {safe(workflow_id)!r}; see `mcc workflows list`")
        raise typer.Exit(2)
    if json_out:
        print_json(_row(run))
        return
    console.print(f"{run.workflow_id}  [bold]{run.status}[/bold]")
    for key, value in run.result.items():
        console.print(f"  {key}: {safe(value)}")
    if run.error:
        console.print(f"  [red]error[/red]: {safe(run.error)}")
    table = Table("step", "state", "attempts", "finished", "error")
    for s in run.steps:
        table.add_row(s.name, s.state, str(s.attempts), s.finished_at.isoformat() if s.finished_at else "-",
                      safe(s.error or ""))  # fmt: skip
    console.print(table)


@app.command("worker")
def worker() -> None:
    """Run the sync engine's queues (campaign setup, webhook deliveries, outbound changes) in this process until
    Ctrl-C; unfinished workflows of this executor (MCC_DBOS_EXECUTOR_ID) are recovered at start."""
    from mcc.workers import Sweeper

    with open_app() as app_, app_.workers() as workers:
        console.print(f"worker {app_.settings.dbos_executor_id} running; Ctrl-C stops it")
        sweep = Sweeper(app_, workers)
        try:
            while True:
                time.sleep(1)
                sweep()
        except KeyboardInterrupt:
            console.print("stopping")
