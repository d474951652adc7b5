"""``mcc measurements import FILE``: load an Adobe Analytics, GA4 or plain CSV export into the spine.

Rows are matched to campaigns by tracking key, appended once (a re-import appends nothing), and each touched
campaign's ``budget_spent`` is rolled up from its spend. The whole file is one transaction: a bad value anywhere
(reported with line and column) writes nothing. Unmatched rows are listed with the key that failed.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mcc.output import console, err_console, print_json, safe
from mcc.wiring import open_app
from spine.errors import SpineError

app = typer.Typer(no_args_is_help=True, help="Import analytics measurements (Adobe Analytics, GA4, CSV).")

FormatOpt = Annotated[
    str | None, typer.Option("--format", help="adobe | ga4 | csv (default: detected from the header).")
]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Tenant id (default: settings.tenant).")]
CurrencyOpt = Annotated[
    str | None, typer.Option("--currency", help="Currency of spend without a currency column (default: campaign's).")
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Check and report; store nothing.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error[/red] {safe(message)}")
    return typer.Exit(2)


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="The export (CSV).", exists=True, dir_okay=False, readable=True)],
    fmt: FormatOpt = None,
    tenant: TenantOpt = None,
    currency: CurrencyOpt = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Import one export file in one transaction; exit 2 (nothing stored) when any row is bad."""
    from sync.measurements import import_measurements
    from sync.measurements_formats import parse_export

    if fmt is not None and fmt not in ("adobe", "ga4", "csv"):
        raise _fail(f"--format {fmt!r} is unknown. Fix: use adobe, ga4 or csv")
    if currency is not None and (len(currency) != 3 or not currency.isalpha() or not currency.isupper()):
        raise _fail(f"--currency {currency!r} is not an ISO 4217 code. Fix: e.g. --currency USD")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise _fail(f"{file} is not UTF-8 text. Fix: export the report as CSV (UTF-8)") from None
    try:
        parsed = parse_export(text, fmt)  # type: ignore[arg-type]
    except ValueError as exc:
        raise _fail(f"{file}: {exc}") from None
    with open_app() as app_:
        tid = tenant or app_.settings.tenant
        try:
            with app_.sessions() as session:
                tx = session.begin()
                report = import_measurements(session, tid, parsed, default_currency=currency,
                                             actor=f"cli:{getpass.getuser()}")  # fmt: skip
                if dry_run or not report.ok:
                    tx.rollback()
                else:
                    app_.audit_log().append_in(
                        session, tenant_id=tid, actor=f"cli:{getpass.getuser()}", server="import",
                        tool="measurements.import", decision="executed",
                        detail={"file": file.name, "format": parsed.format, "imported": report.imported,
                                "already_present": report.already_present, "unmatched": len(report.unmatched)},
                    )  # fmt: skip
                    tx.commit()
        except SpineError as exc:
            raise _fail(str(exc)) from None
    out = report.as_dict() | {"dry_run": dry_run, "stored": report.ok and not dry_run}
    if json_out:
        print_json(out)
    else:
        _print(out)
    if not report.ok:
        raise typer.Exit(2)


def _print(out: dict[str, object]) -> None:
    errors = out["errors"]
    assert isinstance(errors, list)
    if errors:
        for e in errors:
            err_console.print(f"[red]line {e['line']}[/red], column {safe(e['column'])}: {safe(e['message'])}")
        err_console.print(f"{len(errors)} bad rows: nothing stored. Fix them and import the file again.")
        return
    console.print(
        f"{out['rows_read']} rows read ({out['format']}): {out['imported']} imported, {out['already_present']} "
        f"already present, {len(out['unmatched'])} unmatched" + (" (dry run: nothing stored)" if out["dry_run"] else "")  # type: ignore[arg-type]
    )
    unmatched = out["unmatched"]
    assert isinstance(unmatched, list)
    if unmatched:
        table = Table("line", "key", "systems tried", "why", title="Unmatched rows (not imported)")
        for u in unmatched:
            table.add_row(str(u["line"]), safe(u["key"]), ", ".join(u["key_systems"]), u["reason"])
        console.print(table)
    restated = out["restated_lines"]
    if restated:
        console.print(f"lines {restated} differ from the stored rows of the same day; the stored rows were kept")
    spent = out["budget_spent"]
    assert isinstance(spent, dict)
    for cid, amount in spent.items():
        console.print(f"campaign {cid}: budget_spent = {amount}")
