"""``mcc policy check``, ``mcc approvals list|show|approve|reject`` and ``mcc audit verify|checkpoint|tail``.

Approvals are listed and resolved through the spine MCP server in-process, so the CLI is held to exactly the
rules (and leaves exactly the audit rows) that an MCP client would.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from mcc.output import console, err_console, print_json
from mcc.wiring import App, open_app

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

policy_app = typer.Typer(no_args_is_help=True, help="Evaluate tool calls against the policies.")
approvals_app = typer.Typer(no_args_is_help=True, help="List and resolve pending approvals.")
audit_app = typer.Typer(no_args_is_help=True, help="Verify and read the hash-chained audit log.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
AsOpt = Annotated[str | None, typer.Option("--as", help="Acting user (default: settings.user).")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Tenant (default: settings.tenant).")]
EXIT_DENY, EXIT_APPROVAL = 1, 10


def _fail(message: str) -> typer.Exit:
    from rich.markup import escape

    # Tool errors start with "[code]": escaped, or rich would take it for markup and drop it.
    err_console.print(f"[red]error[/red] {escape(message)}")
    return typer.Exit(2)


# ---------------------------------------------------------------------------------------------- policy check
@policy_app.command("check")
def policy_check(
    call: Annotated[str, typer.Argument(help="SERVER.TOOL, e.g. spine.create_campaign")],
    arguments: Annotated[str, typer.Argument(help="The tool arguments as a JSON object.")] = "{}",
    as_user: AsOpt = None,
    tenant: TenantOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Evaluate a tool call without executing it and print the decision with its reasons.

    Exit code: 0 allow, 10 require_approval, 1 deny, 2 bad input.
    """
    server, sep, tool = call.partition(".")
    if not sep or not server or not tool:
        raise _fail(f"call: {call!r} is not SERVER.TOOL (e.g. spine.create_campaign)")
    try:
        args = json.loads(arguments)
    except json.JSONDecodeError as exc:
        raise _fail(f"arguments: not valid JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(args, dict):
        raise _fail('arguments: must be a JSON object, e.g. \'{"name": "Spring launch"}\'')
    with open_app() as app:
        result = _check(app, server, tool, args, as_user, tenant)
    if json_out:
        print_json(result)
    else:
        _print_check(result)
    effect = result["effect"]
    raise typer.Exit(0 if effect == "allow" else EXIT_APPROVAL if effect == "require_approval" else EXIT_DENY)


def _check(app: App, server: str, tool: str, args: dict[str, Any], user: str | None, tenant: str | None) -> dict:
    from policies.model import ToolCall
    from spine.errors import SpineError

    try:
        principal = app.principal(user, tenant)
    except SpineError as exc:
        raise _fail(str(exc)) from None
    from mcc.wiring import SERVER_NAMES
    from mcp_servers.guard.identity import FixedPrincipal

    # Built once for both checks (schema generation is the slow part); hypothetical servers have none.
    served = app.server(server, FixedPrincipal(principal)) if server in SERVER_NAMES else None
    problems = _schema_problems(served, tool, args)
    call_args = _business_arguments(served, tool, args)
    finder = app.resource_tenant(server)
    resource_tenant = finder(tool, call_args) if finder is not None else None
    tool_call = ToolCall(server, tool, call_args, resource_tenant)
    decision = app.policy_engine.decide(principal, tool_call, commit_rate=False)
    out: dict[str, Any] = {
        "call": f"{server}.{tool}",
        "principal": {
            "user_id": principal.user_id,
            "tenant_id": principal.tenant_id,
            "groups": sorted(principal.groups),
        },
        "effect": "deny" if problems else decision.effect,
        "mode": decision.mode,
        "rule_ids": (["input.validation"] if problems else []) + list(decision.rule_ids),
        "reasons": [{"rule_id": "input.validation", "message": m} for m in problems]
        + [{"rule_id": r.rule_id, "message": r.message} for r in decision.reasons],
        "required_group": decision.required_group,
        "redactions": [f"{h.kind}@{h.path}" for h in decision.redactions],
    }
    if decision.would_have is not None:
        out["would_have"] = decision.would_have.effect
    return out


def _business_arguments(served: MCPServer | None, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """The call without its control arguments (as the guard decides on it); hypothetical tools have none."""
    from mcp_servers.guard.sdk_adapter import served_tool

    defn = served_tool(served, tool) if served is not None else None
    return {k: v for k, v in args.items() if defn is None or k not in defn.input_model.control_fields}


def _schema_problems(served: MCPServer | None, tool: str, args: dict[str, Any]) -> list[str]:
    """Validate against the served tool's input schema, as the server would; hypothetical tools have none."""
    import jsonschema
    from mcp import Client

    if served is None:
        return []

    async def schema() -> dict[str, Any] | None:
        async with Client(served) as client:
            tools = {t.name: t.input_schema for t in (await client.list_tools()).tools}
        return tools.get(tool)

    found = asyncio.run(schema())
    if found is None:
        return []  # not served: the engine decides (an unknown tool is denied, fail closed)
    validator = jsonschema.Draft202012Validator(found)
    return [f"{'.'.join(map(str, e.absolute_path)) or 'arguments'}: {e.message}" for e in validator.iter_errors(args)]


def _print_check(result: dict[str, Any]) -> None:
    colour = {"allow": "green", "deny": "red", "require_approval": "yellow"}[result["effect"]]
    p = result["principal"]
    console.print(f"[bold {colour}]{result['effect'].upper()}[/bold {colour}]  {result['call']}  as {p['user_id']} "
                  f"({p['tenant_id']}; {', '.join(p['groups']) or 'no groups'})  mode={result['mode']}")  # fmt: skip
    if result.get("would_have") and result["would_have"] != result["effect"]:
        console.print(f"  log_only: would have been [bold]{result['would_have']}[/bold]")
    if result["required_group"]:
        console.print(f"  approver group: {result['required_group']}")
    for reason in result["reasons"]:
        console.print(f"  - {reason['rule_id']}: {reason['message']}")
    for r in result["redactions"]:
        console.print(f"  - redacts {r}")


# ------------------------------------------------------------------------------------------------- approvals
async def spine_call(app: App, user: str | None, tenant: str | None, tool: str, args: dict[str, Any]) -> Any:
    """One spine-server tool call as ``user``, in-process and guarded; a tool error exits with code 2."""
    from mcp import Client

    from mcp_servers.guard.identity import FixedPrincipal

    async with Client(app.spine_server(FixedPrincipal(app.principal(user, tenant)))) as client:
        result = await client.call_tool(tool, args)
    if result.is_error:
        text = result.content[0].text if result.content else "tool error"
        raise _fail(text.removeprefix(f"Error executing tool {tool}: "))
    return result.structured_content


def _run(work: Callable[[App], Awaitable[Any]]) -> Any:
    """Run ``work`` on a fresh app; a spine error (unknown user, tenant...) exits with code 2."""
    from spine.errors import SpineError

    with open_app() as app:
        try:
            return asyncio.run(work(app))
        except SpineError as exc:
            raise _fail(str(exc)) from None


def _run_spine(tool: str, args: dict[str, Any], user: str | None, tenant: str | None) -> Any:
    return _run(lambda app: spine_call(app, user, tenant, tool, args))


@approvals_app.command("list")
def approvals_list(
    status: Annotated[
        str, typer.Option(help="pending | approved | in_use | rejected | consumed | expired | all")
    ] = "pending",
    group: Annotated[str | None, typer.Option(help="Only approvals this group must resolve.")] = None,
    as_user: AsOpt = None,
    tenant: TenantOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Approvals of the tenant, pending ones by default."""
    args: dict[str, Any] = {"status": None if status == "all" else status}
    if group:
        args["group"] = group
    rows = _run_spine("list_approvals", args, as_user, tenant)["approvals"]
    if json_out:
        print_json(rows)
        return
    table = Table(title=f"Approvals ({status})")
    for col in ("approval_id", "status", "call", "requester", "group", "reason", "expires_at"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["approval_id"], r["status"], f"{r['server']}.{r['tool']}", r["requester"],
                      r["required_group"], r["reason"][:60], r["expires_at"][:16])  # fmt: skip
    console.print(table if rows else f"no {status} approvals")


@approvals_app.command("show")
def approvals_show(
    approval_id: Annotated[str, typer.Argument()], as_user: AsOpt = None, tenant: TenantOpt = None,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """One approval: the exact call it holds, requester, approver group, status, expiry and note."""
    row = _run_spine("get_approval", {"approval_id": approval_id}, as_user, tenant)
    if json_out:
        print_json(row)
        return
    for key in ("approval_id", "status", "server", "tool", "requester", "required_group", "reason", "rule_ids",
                "created_at", "expires_at", "resolved_by", "resolved_at", "note"):  # fmt: skip
        console.print(f"[bold]{key}[/bold]: {row[key]}")
    if row.get("on_behalf_of"):
        console.print(f"[bold]on_behalf_of[/bold]: {row['on_behalf_of']}")
    if row.get("edits"):
        from spine.approval_edits import summary

        console.print(f"[bold]approved with edits[/bold]: {summary(row['edits'])}")
    console.print("[bold]arguments[/bold]:")
    print_json(row["arguments"])


def _resolve(decision: str, approval_id: str, as_user: str | None, tenant: str | None, note: str | None,
             json_out: bool) -> None:  # fmt: skip
    args: dict[str, Any] = {"approval_id": approval_id, "decision": decision}
    if note:
        args["note"] = note

    async def resolve_and_resume(app: App) -> tuple[Any, Any]:
        from mcc.commands.chat import resume_after_resolution

        row = await spine_call(app, as_user, tenant, "resolve_approval", args)
        # The requester's conversation waiting on this approval continues now (approved: the call runs once).
        return row, await resume_after_resolution(app, row, tenant)

    row, resumed = _run(resolve_and_resume)
    if json_out:
        print_json({**row, "resumed_thread": resumed.model_dump(mode="json") if resumed else None})
        return
    line = f"approval {row['approval_id']} is now [bold]{row['status']}[/bold] (by {row['resolved_by']})"
    if row["status"] == "approved" and resumed is None:
        line += f"; {row['requester']} may re-send {row['server']}.{row['tool']} with approval_id"
    console.print(line)
    if resumed is not None:
        console.print(f"resumed conversation {resumed.thread_id} of {row['requester']}: {resumed.reply}")


@approvals_app.command("approve")
def approvals_approve(
    approval_id: Annotated[str, typer.Argument()], as_user: AsOpt = None, tenant: TenantOpt = None,
    note: Annotated[str | None, typer.Option(help="Kept with the approval.")] = None, json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """Approve a pending approval (member of the required group, never the requester)."""
    _resolve("approve", approval_id, as_user, tenant, note, json_out)


@approvals_app.command("reject")
def approvals_reject(
    approval_id: Annotated[str, typer.Argument()], as_user: AsOpt = None, tenant: TenantOpt = None,
    note: Annotated[str | None, typer.Option(help="Why; kept and shown to the requester.")] = None,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """Reject a pending approval; the same call will not be asked for again."""
    _resolve("reject", approval_id, as_user, tenant, note, json_out)


# ----------------------------------------------------------------------------------------------------- audit
@audit_app.command("verify")
def audit_verify(
    against: Annotated[
        Path | None,
        typer.Option("--against", help="A checkpoint file from `mcc audit checkpoint`: also detect truncation and "
                     "wipes back past it.", exists=True, dir_okay=False),
    ] = None,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """Walk the whole keyed hash chain; report every edited, deleted, reordered or unkeyed row and a forged head;
    with --against, also a chain that lost what the checkpoint saw. Exit 1 when tampered."""
    from spine.audit_checkpoint import Checkpoint, verify_against

    checkpoint = None
    if against is not None:
        try:
            checkpoint = Checkpoint.model_validate_json(against.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise _fail(f"--against: {against} is not a checkpoint file ({type(exc).__name__})") from None
    with open_app() as app:
        log = app.audit_log()
        report = log.verify()
        if checkpoint is not None:
            report.problems.extend(verify_against(log, checkpoint))
            report.ok = not report.problems
    if json_out:
        print_json({"ok": report.ok, "checked": report.checked, "last_seq": report.last_seq,
                    "problems": [p._asdict() for p in report.problems]})  # fmt: skip
    elif report.ok:
        console.print(f"[green]audit log intact[/green]: {report.checked} rows, last seq {report.last_seq}")
    else:
        console.print(f"[red]audit log tampered[/red]: {len(report.problems)} problem(s) in {report.checked} rows")
        for p in report.problems:
            console.print(f"  seq {p.seq}: {p.kind}: {p.message}")
    raise typer.Exit(0 if report.ok else 1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    out: Annotated[
        str,
        typer.Option("--out", help="File to write (JSON), or '-' for stdout to pipe it to an external sink. Keep it "
                     "where the database's administrators cannot rewrite it."),
    ] = "-",
) -> None:  # fmt: skip
    """Seal the chain head and write a checkpoint (head seq, hash, count, time) signed with the audit key."""
    from spine.audit_checkpoint import make_checkpoint
    from spine.db import utcnow

    with open_app() as app:
        cp = make_checkpoint(app.audit_log(), utcnow())
    text = cp.model_dump_json(indent=2) + "\n"
    if out == "-":
        typer.echo(text, nl=False)
        return
    Path(out).write_text(text, encoding="utf-8")
    console.print(f"checkpoint written to {out}: seq {cp.seq}, {cp.count} rows")


@audit_app.command("tail")
def audit_tail(
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 20,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (default: all).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """The most recent audit rows, oldest first."""
    with open_app() as app:
        rows = app.audit_log().tail(tenant, limit=limit)
    data = [{"seq": r.seq, "at": r.at, "tenant_id": r.tenant_id, "actor": r.actor, "call": f"{r.server}.{r.tool}",
             "decision": r.decision, "rule_ids": r.rule_ids, "approval_id": r.approval_id,
             "fingerprint": r.fingerprint, "detail": r.detail} for r in rows]  # fmt: skip
    if json_out:
        print_json(data)
        return
    table = Table(title="Audit log")
    for col in ("seq", "at", "tenant", "actor", "call", "decision", "rules", "approval"):
        table.add_column(col)
    for d in data:
        table.add_row(str(d["seq"]), d["at"].isoformat(timespec="seconds"), d["tenant_id"] or "-", d["actor"],
                      d["call"], d["decision"], ", ".join(d["rule_ids"]), (d["approval_id"] or "")[:8])  # fmt: skip
    console.print(table)
