"""``mcc approvals sweep|edit|delegate|delegations|undelegate`` and ``mcc notifications set|list|test|remove``.

The sweep notifies approvers of new requests, escalates stale ones to the next group up, expires overdue ones and
tells their requesters, then sends what is due (retrying failures later); running it again does nothing new.
Notification secrets (Slack webhook URL, SMTP password) are kept as a reference or encrypted, never in clear.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mcc.output import console, err_console, print_json, safe
from mcc.wiring import App, open_app

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
AsOpt = Annotated[str | None, typer.Option("--as", help="Acting user (default: settings.user).")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Tenant (default: settings.tenant).")]
notifications_app = typer.Typer(no_args_is_help=True, help="Where approval notifications go (Slack, e-mail).")


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error[/red] {safe(message)}")
    return typer.Exit(2)


def _guarded(work: Any) -> Any:
    from connectors.errors import ConnectorError
    from spine.errors import SpineError

    try:
        return work()
    except (SpineError, ConnectorError) as exc:
        raise _fail(str(exc)) from None


def register(approvals_app: typer.Typer) -> None:
    """Mount the workflow commands on ``mcc approvals``."""
    approvals_app.command("sweep")(approvals_sweep)
    approvals_app.command("edit")(approvals_edit)
    approvals_app.command("delegate")(approvals_delegate)
    approvals_app.command("delegations")(approvals_delegations)
    approvals_app.command("undelegate")(approvals_undelegate)


def approvals_sweep(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant (default: all).")] = None,
    no_send: Annotated[bool, typer.Option("--no-send", help="Queue messages but do not send them.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Notify, escalate, expire and tell requesters; then send due notifications. Idempotent."""
    from mcc.approvals_service import sweep

    with open_app() as app:
        report, delivery = _guarded(lambda: sweep(app, tenant, deliver=not no_send))
    out = {"sweep": vars(report), "delivery": vars(delivery) if delivery else None}
    if json_out:
        print_json(out)
    else:
        console.print(f"notified {report.notified}, escalated {report.escalated}, expired {report.expired}, "
                      f"requesters told {report.expiry_told}; {report.queued} messages queued"
                      + (f"; sent {delivery.sent}, retrying {delivery.retrying}, failed {delivery.failed}"
                         if delivery else ""))  # fmt: skip


def _parse_set(pairs: list[str]) -> list[tuple[str, Any]]:
    out = []
    for p in pairs:
        path, sep, value = p.partition("=")
        if not sep or not path:
            raise _fail(f"--set {p!r}: use PATH=VALUE, e.g. budget.amount=20000 or launch_date=2026-06-01")
        out.append((path.strip(), value.strip()))
    return out


def approvals_edit(
    approval_id: Annotated[str, typer.Argument()],
    set_: Annotated[list[str], typer.Option("--set", help="PATH=VALUE: lower an amount or move a date.")],
    note: Annotated[str | None, typer.Option(help="Kept with the approval and shown to the requester.")] = None,
    as_user: AsOpt = None,
    tenant: TenantOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Approve with edits: the edited call is checked by the policy again, and it is what the requester's
    waiting conversation re-sends."""
    from mcc.approvals_service import decide, desk, editable_fields, edited_arguments, resume_waiting
    from spine.approval_edits import ApprovalEditRefused, summary

    edits = _parse_set(set_)
    with open_app() as app:

        def work() -> Any:
            principal = app.principal(as_user, tenant)
            a = desk(app).get(principal.tenant_id, approval_id)
            allowed = {p.removeprefix("arguments."): kind for p, _, kind in editable_fields(a.arguments)}
            for path, _ in edits:
                if path.removeprefix("arguments.") not in allowed:
                    fix = f"edit one of: {', '.join(sorted(allowed)) or 'nothing'}"
                    raise ApprovalEditRefused(f"{path}: not an amount or a date of this call", fix, field=path)
            form = {f"f:arguments.{path.removeprefix('arguments.')}": value for path, value in edits}
            return decide(app, principal, approval_id, "approve", note, edited_arguments(a.arguments, form))

        row = _guarded(work)
        resumed = asyncio.run(resume_waiting(app, row))
    if json_out:
        print_json({"approval_id": row.approval_id, "status": row.status, "edits": row.edits,
                    "arguments": row.arguments, "resumed_thread": getattr(resumed, "thread_id", None)})  # fmt: skip
        return
    console.print(f"approval {row.approval_id} is now [bold]approved with edits[/bold] ({safe(summary(row.edits))})")
    if resumed is not None:
        console.print(f"resumed conversation {resumed.thread_id} of {safe(row.requester)}: {safe(resumed.reply)}")


def _when(value: str | None, default: dt.datetime) -> dt.datetime:
    if value is None:
        return default
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"{value!r} is not an ISO 8601 date or time, e.g. 2026-12-24 or 2026-12-24T18:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def approvals_delegate(
    to: Annotated[str, typer.Option("--to", help="The delegate (must be in an approver group).")],
    until: Annotated[str, typer.Option("--until", help="End of the period (ISO 8601, UTC if no offset).")],
    start: Annotated[str | None, typer.Option("--from", help="Start (default: now).")] = None,
    note: Annotated[str | None, typer.Option(help="e.g. out of office")] = None,
    as_user: AsOpt = None,
    tenant: TenantOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Let --to resolve your approvals for a period (out of office). Audited."""
    from mcc.approvals_service import desk

    with open_app() as app:
        p = _guarded(lambda: app.principal(as_user, tenant))
        now = dt.datetime.now(dt.UTC)
        d = _guarded(lambda: desk(app).delegations.create(p.tenant_id, p.user_id, to, _when(start, now),
                                                          _when(until, now), note))  # fmt: skip
    if json_out:
        print_json(d.model_dump(mode="json"))
    else:
        who = f"{safe(d.delegate)} may resolve {safe(d.delegator)}'s approvals"
        console.print(f"{who} from {d.starts_at:%Y-%m-%d %H:%M}"
                      f" until {d.ends_at:%Y-%m-%d %H:%M} UTC (delegation {d.id})")  # fmt: skip


def approvals_delegations(as_user: AsOpt = None, tenant: TenantOpt = None, json_out: JsonOpt = False) -> None:
    """Delegations you gave or received."""
    from mcc.approvals_service import desk

    with open_app() as app:
        p = _guarded(lambda: app.principal(as_user, tenant))
        rows = desk(app).delegations.list(p.tenant_id, p.user_id)
    if json_out:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table(title="Delegations")
    for col in ("id", "delegator", "delegate", "from", "until", "revoked"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.id, r.delegator, r.delegate, f"{r.starts_at:%Y-%m-%d %H:%M}", f"{r.ends_at:%Y-%m-%d %H:%M}",
                      "yes" if r.revoked_at else "")  # fmt: skip
    console.print(table if rows else "no delegations")


def approvals_undelegate(delegation_id: Annotated[str, typer.Argument()], as_user: AsOpt = None,
                         tenant: TenantOpt = None) -> None:  # fmt: skip
    """End a delegation now (its delegator, or the delegate declining it)."""
    from mcc.approvals_service import desk

    with open_app() as app:
        p = _guarded(lambda: app.principal(as_user, tenant))
        _guarded(lambda: desk(app).delegations.revoke(p.tenant_id, delegation_id, p.user_id))
    console.print(f"delegation {delegation_id} revoked")


# -------------------------------------------------------------------------------------------- notifications
def _secret(app: App, env: str | None, file: Path | None, stdin: bool) -> dict[str, str]:
    from mcc.secrets import encrypt

    given = [x for x in (env, file, stdin or None) if x]
    if len(given) > 1:
        raise typer.BadParameter("give at most one of --secret-env, --secret-file, --secret-stdin")
    if env:
        return {"secret_ref": f"env:{env}"}
    if file:
        return {"secret_ref": f"file:{file.expanduser().resolve()}"}
    if stdin:
        return {"secret_ciphertext": _guarded(lambda: encrypt(app.settings, sys.stdin.readline()))}
    return {}


@notifications_app.command("set")
def notifications_set(
    name: Annotated[str, typer.Argument(help="Channel name, e.g. slack-approvals or approvers-mail")],
    kind: Annotated[str, typer.Option("--kind", help="slack | email")],
    secret_env: Annotated[str | None, typer.Option(help="Env var with the webhook URL / SMTP password.")] = None,
    secret_file: Annotated[Path | None, typer.Option(help="File with the webhook URL / SMTP password.")] = None,
    secret_stdin: Annotated[bool, typer.Option(help="Read the secret from stdin; stored encrypted.")] = False,
    smtp_host: Annotated[str | None, typer.Option(help="E-mail: SMTP host.")] = None,
    smtp_port: Annotated[int, typer.Option(help="E-mail: SMTP port.")] = 587,
    sender: Annotated[str | None, typer.Option(help="E-mail: From address.")] = None,
    username: Annotated[str | None, typer.Option(help="E-mail: SMTP user (password is the secret).")] = None,
    starttls: Annotated[bool, typer.Option(help="E-mail: STARTTLS before login.")] = True,
    disabled: Annotated[bool, typer.Option("--disabled", help="Keep it but send nothing.")] = False,
    tenant: TenantOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Create or replace a notification channel of the tenant. Audited; the secret never prints."""
    from spine.notifications import ChannelStore

    config: dict[str, Any] = {}
    if kind == "email":
        config = {"host": smtp_host, "port": smtp_port, "sender": sender, "starttls": starttls}
        if username:
            config["username"] = username
    with open_app() as app:
        tid = tenant or app.settings.tenant
        source = _secret(app, secret_env, secret_file, secret_stdin)
        ch = _guarded(lambda: ChannelStore(app.sessions).set(tid, name, kind, config, enabled=not disabled, **source))
        app.audit_log().append(tenant_id=tid, actor=f"cli:{getpass.getuser()}", server="notifications",
                               tool=f"channel.{kind}", decision="executed",
                               detail={"name": name, "secret": "reference" if ch.secret_ref else
                                       ("encrypted" if ch.secret_ciphertext else "none")})  # fmt: skip
    shown = {"name": ch.name, "kind": ch.kind, "config": ch.config, "enabled": ch.enabled,
             "secret": ch.secret_ref or ("encrypted" if ch.secret_ciphertext else None)}  # fmt: skip
    if json_out:
        print_json(shown)
    else:
        console.print(
            f"{safe(tid)}: channel {safe(name)} ({kind}) saved; try it with `mcc notifications test {safe(name)}`"
        )


@notifications_app.command("list")
def notifications_list(tenant: TenantOpt = None, json_out: JsonOpt = False) -> None:
    """The tenant's channels (secrets shown only as their reference)."""
    from spine.notifications import ChannelStore

    with open_app() as app:
        rows = ChannelStore(app.sessions).list(tenant or app.settings.tenant)
    shown = [{"name": r.name, "kind": r.kind, "enabled": r.enabled, "config": r.config,
              "secret": r.secret_ref or ("encrypted" if r.secret_ciphertext else None)} for r in rows]  # fmt: skip
    if json_out:
        print_json(shown)
        return
    for r in shown:
        console.print(f"{safe(r['name'])} ({r['kind']}{'' if r['enabled'] else ', disabled'}): "
                      f"{safe(json.dumps(r['config']))} secret={safe(str(r['secret']))}")  # fmt: skip
    if not shown:
        console.print("no notification channels")


@notifications_app.command("test")
def notifications_test(
    name: Annotated[str, typer.Argument()],
    to: Annotated[str | None, typer.Option("--to", help="E-mail: the test recipient.")] = None,
    tenant: TenantOpt = None,
) -> None:
    """Send a test message on the channel now (exit 1 when it fails)."""
    from mcc.notifications.dispatch import deliver_one
    from mcc.notifications.senders import DeliveryError
    from spine.notifications import ChannelStore, OutboxOut

    with open_app() as app:
        tid = tenant or app.settings.tenant
        ch = ChannelStore(app.sessions).get(tid, name)
        if ch is None:
            raise _fail(f"no channel {name!r} in {tid}; add it with `mcc notifications set`")
        if ch.kind == "email" and not to:
            raise _fail("--to: an e-mail test needs a recipient")
        now = dt.datetime.now(dt.UTC)
        item = OutboxOut(id="test", tenant_id=tid, dedupe_key="test", channel=name, event="test", approval_id=None,
                         recipients=[to] if to else [], subject="[MCC] Test notification",
                         body="This channel will receive approval notifications.",
                         link=app.settings.approvals_link_base,
                         status="pending", attempts=1, next_attempt_at=now, last_error=None)  # fmt: skip
        try:
            _guarded(lambda: deliver_one(app.settings, ch, item))
        except DeliveryError as exc:
            err_console.print(f"[red]failed[/red] {safe(str(exc))}")
            raise typer.Exit(1) from None
    console.print(f"test message sent on {safe(name)}")


@notifications_app.command("remove")
def notifications_remove(name: Annotated[str, typer.Argument()], tenant: TenantOpt = None) -> None:
    """Delete a channel."""
    from spine.notifications import ChannelStore

    with open_app() as app:
        gone = ChannelStore(app.sessions).remove(tenant or app.settings.tenant, name)
    console.print(f"channel {safe(name)} removed" if gone else f"no channel {safe(name)}")
