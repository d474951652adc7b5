"""``mcc chat`` (interactive, streamed) and ``mcc ask`` (one shot, ``--json`` for scripts): the agent team.

Both build the four MCP servers for the acting user in-process (``App.servers_for``), the configured model
(``App.chat_model``: Claude with ANTHROPIC_API_KEY, else the offline model) and the conversation checkpoints and
store (PostgreSQL when the database is PostgreSQL, else ``$MCC_HOME/checkpoints.db``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from mcc.output import console, err_console, print_json
from mcc.settings import Settings
from mcc.wiring import App, open_app

if TYPE_CHECKING:  # the agent stack (langgraph, mcp client) loads only when chat/ask run, not for every command
    from agents.assistant import Assistant, ChatEvent, TurnResult

AsOpt = Annotated[str | None, typer.Option("--as", help="Acting user (default: settings.user).")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Tenant (default: settings.tenant).")]
ThreadOpt = Annotated[str | None, typer.Option("--thread", help="Continue (or, without a message, check) a thread.")]
_STATUS_STYLE = {"ok": "green", "approval_required": "yellow", "error": "red", "rejected": "red"}
HELP = (
    "/resume    check the pending approval and continue when it is resolved\n"
    "/approvals list pending approvals of your tenant\n"
    "/new       start a new conversation\n"
    "/usage     tokens of the last turn and of this session (input, output, cache read, cache write)\n"
    "/thread    show the current thread id\n"
    "/quit      leave (Ctrl-D works too)"
)


def checkpoint_url(settings: Settings) -> str:
    """Where conversations persist: the PostgreSQL database itself, or a SQLite file next to the spine's."""
    url = settings.resolved_database_url
    if url.startswith(("postgresql", "postgres")):
        return url
    return f"sqlite:///{settings.home / 'checkpoints.db'}"


@asynccontextmanager
async def open_assistant(app: App, as_user: str | None, tenant: str | None) -> AsyncIterator[Assistant]:
    """An open ``Assistant`` for ``as_user`` over this process's servers, model and checkpoints."""
    from agents.assistant import Assistant, UserInfo
    from agents.checkpoints import open_checkpointer, open_store

    principal = app.principal(as_user, tenant)
    model = app.chat_model()
    user = UserInfo(user_id=principal.user_id, tenant_id=principal.tenant_id, groups=sorted(principal.groups))
    try:
        url = checkpoint_url(app.settings)
        async with (
            open_checkpointer(url) as saver,
            open_store(url) as store,
            Assistant(
                model, app.servers_for(principal), saver, user, store=store, work_routing=app.work_routing()
            ) as assistant,
        ):
            yield assistant
    finally:
        await app.aclose_backends()
        aclose = getattr(model, "aclose", None)
        if aclose is not None:
            await aclose()


async def resume_after_resolution(
    app: App, approval: Mapping[str, Any], tenant: str | None = None
) -> TurnResult | None:
    """After an approval was resolved (CLI, MCP tool or web): resume the requester's thread waiting on it.

    ``approval`` is the spine's approval record (``approval_id``, ``requester``); the thread resumes as the
    requester, because only the requester may re-send the approved call. None when no thread waits on it.
    """
    async with open_assistant(app, approval["requester"], approval.get("tenant_id") or tenant) as assistant:
        return await assistant.resume_waiting(approval["approval_id"])


class TurnPrinter:
    """Shows a turn live: which agent acts, each tool call and its outcome, the reply as it streams."""

    def __init__(self, *, in_chat: bool = False) -> None:
        self.streamed = False
        self.in_chat = in_chat
        self.usage: list[dict[str, int]] = []  # each finished turn's token usage, for /usage

    def __call__(self, event: ChatEvent) -> None:
        if event.kind == "route":
            agents = ", ".join(p["agent"] for p in event.data.get("parts", []))
            console.print(f"[dim]→ routed to {agents}[/dim]")
        elif event.kind == "agent":
            console.print(f"[bold cyan]{event.agent}[/bold cyan] [dim]{escape(event.data.get('request', ''))}[/dim]")
        elif event.kind == "tool":
            d = event.data
            style = _STATUS_STYLE.get(d["result_status"], "white")
            verdict = "denied" if d["decision"] == "deny" else d["result_status"]
            console.print(f"  [dim]tool[/dim] {escape(d['server'])}.{escape(d['tool'])} [{style}]{verdict}[/{style}]")
        elif event.kind == "approval":
            group, approval_id = escape(event.data["required_group"]), event.data["approval_id"]
            console.print(f"  [yellow]waits for approval[/yellow] by {group} (approval id {approval_id})")
        elif event.kind == "text" and event.final:
            console.print(event.text, end="", markup=False, highlight=False, soft_wrap=True)
            self.streamed = True

    def finish(self, turn: TurnResult) -> None:
        """End the turn's output: the reply when it was not streamed, and any pending approval."""
        if self.streamed:
            console.print()
        if turn.waiting or not self.streamed:
            console.print(turn.reply, markup=False, highlight=False)
        self.streamed = False
        self.usage.append(turn.usage.model_dump())
        for a in turn.approvals:
            if a.status == "pending":
                group = escape(a.required_group)
                see = "/resume" if self.in_chat else f"`mcc ask --thread {turn.thread_id}`"
                console.print(
                    f"[yellow]pending approval[/yellow] {a.approval_id} ({escape(a.tool)}, group {group}): once a "
                    f"member of {group} approves it (`mcc approvals approve {a.approval_id} --as USER`) this "
                    f"conversation continues; {see} shows where it stands"
                )


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error[/red] {escape(message)}")
    return typer.Exit(2)


def ask(
    message: Annotated[
        str | None, typer.Argument(help="What to ask; omit with --thread to see where it stands.")
    ] = None,
    thread: ThreadOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the turn as JSON.")] = False,
    as_user: AsOpt = None,
    tenant: TenantOpt = None,
) -> None:
    """Ask the agent team once. Prints the reply (or JSON: thread_id, reply, route, tool_calls, approvals, waiting,
    usage: the turn's tokens)."""
    if not message and not thread:
        raise _fail("message: give a message, or --thread ID to see where a thread stands")
    printer = None if json_out else TurnPrinter()

    async def run(app: App) -> TurnResult:
        async with open_assistant(app, as_user, tenant) as assistant:
            if message:
                return await assistant.send(message, thread, on_event=printer)
            assert thread is not None
            return await assistant.status(thread, on_event=printer)

    with open_app() as app:
        turn = _run(app, run)
    if json_out:
        print_json(turn.model_dump(mode="json"))
    elif printer is not None:
        printer.finish(turn)
        console.print(f"[dim]thread {turn.thread_id}[/dim]")


def chat(thread: ThreadOpt = None, as_user: AsOpt = None, tenant: TenantOpt = None) -> None:
    """Chat with the agent team: the reply streams, agents and tool calls show as they act. /help for commands."""
    with open_app() as app:
        _run(app, lambda a: _chat_loop(a, thread, as_user, tenant))


def _run(app: App, main: Any) -> Any:
    from agents.assistant import AssistantError
    from agents.models.base import ModelError
    from spine.errors import SpineError

    try:
        return asyncio.run(main(app))
    except (AssistantError, SpineError, ModelError) as exc:
        raise _fail(str(exc)) from None


async def _chat_loop(app: App, thread: str | None, as_user: str | None, tenant: str | None) -> None:
    from agents.assistant import AssistantError
    from agents.models.base import ModelError

    async with open_assistant(app, as_user, tenant) as assistant:
        user = assistant.user
        console.print(
            f"[bold]MCC chat[/bold] as {user.user_id} ({user.tenant_id}), model {assistant.model.name}; "
            "/help lists commands"
        )
        printer = TurnPrinter(in_chat=True)
        if thread:
            printer.finish(await assistant.status(thread, on_event=printer))
        while True:
            try:
                line = (await asyncio.to_thread(input, "you> ")).strip()
            except (EOFError, KeyboardInterrupt):
                console.print()
                return
            if not line:
                continue
            if line.startswith("/"):
                if line in ("/quit", "/exit"):
                    return
                thread = await _command(line, assistant, thread, printer)
                continue
            try:  # a thread waiting on an approval answers too; the waiting call keeps waiting
                turn = await assistant.send(line, thread, on_event=printer)
            except (AssistantError, ModelError) as exc:
                err_console.print(f"[red]error[/red] {escape(str(exc))}")
                continue
            thread = turn.thread_id
            printer.finish(turn)


async def _command(line: str, assistant: Assistant, thread: str | None, printer: TurnPrinter) -> str | None:
    """Run one slash command; returns the thread id to continue with."""
    from agents.assistant import AssistantError

    if line == "/new":
        console.print("[dim]new conversation[/dim]")
        return None
    if line == "/thread":
        console.print(thread or "[dim]no thread yet[/dim]")
    elif line == "/resume":
        if thread is None:
            console.print("[dim]nothing to resume: no conversation yet[/dim]")
        else:
            try:
                turn = await assistant.status(thread, on_event=printer)
            except AssistantError as exc:
                err_console.print(f"[red]error[/red] {escape(str(exc))}")
                return thread
            if turn.waiting:
                console.print("[yellow]still waiting[/yellow] for the approval to be resolved")
            printer.finish(turn)
    elif line == "/approvals":
        await _print_approvals(assistant)
    elif line == "/usage":
        console.print(usage_text(printer.usage))
    else:
        console.print(HELP)
    return thread


def usage_text(turns: list[dict[str, int]]) -> str:
    """Token usage of the last turn and of the whole session, one line each."""
    if not turns:
        return "no turn yet"

    def line(label: str, u: dict[str, int]) -> str:
        return (
            f"{label}: {u.get('input_tokens', 0)} input, {u.get('output_tokens', 0)} output, "
            f"{u.get('cache_read_input_tokens', 0)} cache read, {u.get('cache_creation_input_tokens', 0)} "
            f"cache write tokens in {u.get('model_calls', 0)} model call(s)"
        )

    total = {k: sum(t.get(k, 0) for t in turns) for k in turns[-1]}
    return f"{line('last turn', turns[-1])}\n{line(f'session ({len(turns)} turns)', total)}"


async def _print_approvals(assistant: Assistant) -> None:
    from mcp import Client

    spine = assistant.servers.get("spine")
    if spine is None:
        console.print("[dim]no spine server connected[/dim]")
        return
    async with Client(spine) as client:
        result = await client.call_tool("list_approvals", {"status": "pending"})
    if result.is_error:
        err_console.print(f"[red]error[/red] {escape(result.content[0].text if result.content else 'failed')}")
        return
    rows = result.structured_content["approvals"]
    if not rows:
        console.print("[dim]no pending approvals[/dim]")
        return
    table = Table(title="Pending approvals")
    for col in ("approval id", "call", "requester", "group", "reason"):
        table.add_column(col)
    for r in rows:
        cells = (r["approval_id"], f"{r['server']}.{r['tool']}", r["requester"], r["required_group"], r["reason"])
        table.add_row(*(escape(c) for c in cells))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Mount ``mcc chat`` and ``mcc ask`` on the root app."""
    app.command("chat")(chat)
    app.command("ask")(ask)
