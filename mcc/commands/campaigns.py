"""``mcc init``, ``mcc demo`` and ``mcc campaigns list|show``."""

from __future__ import annotations

import io
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from mcc.output import console, err_console, money, pct, print_json, safe
from mcc.settings import load_settings
from mcc.wiring import App, open_app
from spine.errors import SpineError
from spine.repositories import SpineStore, open_store

campaigns_app = typer.Typer(no_args_is_help=True, help="Read campaigns of the canonical spine.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Tenant id (default: settings.tenant).")]


def _fail(exc: SpineError) -> None:
    err_console.print(f"[red]error[/red] {safe(exc)}")
    raise typer.Exit(2)


def _shown_url(url: str) -> str:
    """The database URL with any password masked: what the user sees must never carry a secret."""
    return make_url(url).render_as_string(hide_password=True)


def init() -> None:
    """Create the home directory and bring the database schema to the current version."""
    settings = load_settings()
    with open_app(settings):
        pass
    console.print(f"database ready: {_shown_url(settings.resolved_database_url)}")


def demo(
    json_out: JsonOpt = False,
    skip_knowledge: Annotated[bool, typer.Option(help="Do not ingest the shipped playbooks.")] = False,
    skip_conversation: Annotated[bool, typer.Option(help="Do not run the scripted conversation.")] = False,
) -> None:
    """Create the database, load the demo world, ingest the playbooks, show the campaign overview and run a short
    scripted conversation with the agent team (routing, tool calls, a cited answer, an approval)."""
    from mcc.demo_world import load_demo_world
    from spine.demo import DEMO_TENANT

    with open_app() as app:
        summary = load_demo_world(app)
        report = None if skip_knowledge else app.ingest_default_playbooks()
        if json_out:
            turns = None if skip_conversation else _conversation(app, Console(file=io.StringIO()), not skip_knowledge)
            print_json(
                {"demo": summary, "knowledge": report, "overview": _overview(app, DEMO_TENANT), "conversation": turns}
            )
            return
        verb = "loaded" if summary.created else "already present"
        console.print(
            f"[bold]Demo data {verb}[/bold]: tenants {', '.join(summary.tenants)}; {summary.users} users, "
            f"{summary.campaigns} campaigns, {summary.work_items} work items, {summary.strategies} strategies, "
            f"{summary.measurements:,} measurement rows  ({_shown_url(app.settings.resolved_database_url)})"
        )
        if report is not None:
            console.print(f"[bold]Playbooks[/bold]: {report}")
        _print_overview(_overview(app, DEMO_TENANT), DEMO_TENANT)
        if not skip_conversation:
            model = "Claude" if app.settings.anthropic_api_key else "the offline model"
            console.print(f"\n[bold]A short conversation with the agent team[/bold] ({model})")
            _conversation(app, console, not skip_knowledge)


def _conversation(app: App, out: Console, with_knowledge: bool) -> list[dict[str, object]]:
    import asyncio

    from mcc.demo_conversation import run_demo_conversation

    return asyncio.run(run_demo_conversation(app, out, with_knowledge=with_knowledge))


def _overview(app: App, tenant: str) -> list[dict[str, object]]:
    with open_store(app.sessions, tenant) as store:
        perf = {p.campaign_id: p.metrics for p in store.performance().by_campaign}
        rows = []
        for c in store.campaigns.list(limit=1000):
            m = perf.get(c.id)
            rows.append(
                {
                    "campaign_id": c.id,
                    "name": c.name,
                    "type": c.type,
                    "tier": c.tier,
                    "status": c.status,
                    "launch_date": c.launch_date,
                    "budget_planned": c.budget_planned,
                    "systems": sorted(k for k in c.external_refs),
                    "impressions": m.impressions if m else 0,
                    "ctr": m.ctr if m else None,
                    "roas": m.roas if m else None,
                    "spend": {"amount": m.spend, "currency": m.currency} if m and m.currency else None,
                }
            )
        return rows


def _print_overview(rows: list[dict[str, object]], tenant: str) -> None:
    table = Table(title=f"Campaigns of tenant {safe(tenant)}", header_style="bold")
    for col in ("name", "type", "tier", "status", "launch", "budget", "spend", "impr.", "CTR", "ROAS", "systems"):
        table.add_column(col, overflow="fold")
    for r in rows:
        roas = r["roas"]
        table.add_row(
            safe(r["name"]), safe(r["type"]), str(r["tier"]), safe(r["status"]), str(r["launch_date"]),
            money(r["budget_planned"]), money(r["spend"]), f"{r['impressions']:,}", pct(r["ctr"]),  # type: ignore[arg-type]
            "" if roas is None else f"{roas:.2f}", safe(", ".join(r["systems"])),  # type: ignore[arg-type]
        )  # fmt: skip
    console.print(table)


@campaigns_app.command("list")
def list_campaigns(
    tenant: TenantOpt = None,
    status: Annotated[str | None, typer.Option(help="Filter by status, e.g. in_progress.")] = None,
    type_: Annotated[str | None, typer.Option("--type", help="standard | event | partner | product_launch")] = None,
    tier: Annotated[int | None, typer.Option(min=1, max=3)] = None,
    json_out: JsonOpt = False,
) -> None:
    """List the tenant's campaigns (newest launch first)."""
    with open_app() as app:
        tenant_id = tenant or app.settings.tenant
        try:
            with open_store(app.sessions, tenant_id) as store:
                rows = store.campaigns.list(status=status, type=type_, tier=tier, limit=1000)
        except SpineError as exc:
            _fail(exc)
    if json_out:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} campaigns of {safe(tenant_id)}", header_style="bold")
    for col in ("id", "name", "type", "tier", "status", "launch", "end", "budget"):
        table.add_column(col, overflow="fold")
    for c in rows:
        table.add_row(safe(c.id), safe(c.name), safe(c.type), str(c.tier), safe(c.status), str(c.launch_date),
                      str(c.end_date or ""),
                      money(c.budget_planned))  # fmt: skip
    console.print(table)


@campaigns_app.command("show")
def show_campaign(
    campaign_id: Annotated[str, typer.Argument(help="Canonical campaign id (UUID).")],
    tenant: TenantOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """One campaign: fields, external ids, tracking keys and performance."""
    with open_app() as app:
        tenant_id = tenant or app.settings.tenant
        try:
            with open_store(app.sessions, tenant_id) as store:
                data = _campaign_detail(store, campaign_id)
        except SpineError as exc:
            _fail(exc)
    if json_out:
        print_json(data)
        return
    c = data["campaign"]
    console.print(f"[bold]{safe(c.name)}[/bold]  ({safe(c.id)}, version {c.version})")
    console.print(f"  {safe(c.type)}, tier {c.tier}, status {safe(c.status)} (from {safe(c.status_source)})")
    console.print(
        f"  {c.launch_date} .. {c.end_date or 'evergreen'}; owner {safe(c.owner_id)}; "
        f"channels {safe(', '.join(c.channels))}"
    )
    console.print(f"  budget planned {money(c.budget_planned)}; spent {money(c.budget_spent)}")
    for ref in data["external_ids"]:
        console.print(f"  {safe(ref.system)}: {safe(ref.external_id)}")
    keys = data["tracking_keys"]
    console.print(
        f"  tracking: adobe {keys.adobe_analytics}, google {keys.google_analytics}, internal {keys.internal_metrics}"
    )
    m = data["performance"]
    if m is not None:
        console.print(
            f"  performance: {m.impressions:,} impressions, CTR {pct(m.ctr)}, CVR {pct(m.cvr)}, ROAS {m.roas}"
        )


def _campaign_detail(store: SpineStore, campaign_id: str) -> dict[str, object]:
    campaign = store.campaigns.get(campaign_id)
    perf = next((p.metrics for p in store.performance().by_campaign if p.campaign_id == campaign_id), None)
    return {
        "campaign": campaign,
        "external_ids": store.refs.external_ids("campaign", campaign_id),
        "tracking_keys": store.tracking.get(campaign_id),
        "work_items": store.work_items.list(campaign_id=campaign_id),
        "performance": perf,
    }


def register(app: typer.Typer) -> None:
    """Mount the spine commands on the root app."""
    app.command("init")(init)
    app.command("demo")(demo)
    app.add_typer(campaigns_app, name="campaigns")
