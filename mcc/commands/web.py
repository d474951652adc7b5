"""``mcc web``: serve the web app; ``mcc users set-password``: give a directory user a sign-in password."""

from __future__ import annotations

import secrets
import sys
from typing import Annotated

import typer

from mcc.commands.directory import ActorOpt, TenantOpt, _audited, _fail
from mcc.output import console, err_console
from mcc.wiring import App, open_app
from spine.errors import SpineError


def web(
    host: Annotated[str | None, typer.Option(help="Listen address (default settings.web_host, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default settings.web_port, 8000).")] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the demo world and give demo users without one a password.")
    ] = False,
) -> None:
    """Serve the web app (chat, approvals, campaigns, audit) with uvicorn."""
    import uvicorn

    from mcc.web.app import create_web_app

    with open_app() as app:
        if demo:
            _prepare_demo(app)
        s = app.settings
        host, port = host or s.web_host, port or s.web_port
        console.print(f"MCC web app on http://{host}:{port}  (Ctrl-C stops it)")
        served = create_web_app(app)
        served.state.chat_warm_up = True  # a served app loads the chat model at start-up (test clients do not)
        uvicorn.run(served, host=host, port=port, log_level="info", proxy_headers=False)


def _prepare_demo(app: App) -> None:
    """Demo world plus playbooks; each demo user without a password gets a fresh one, printed once here."""
    from mcc.demo_world import load_demo_world
    from mcc.web.passwords import Passwords
    from spine.demo import DEMO_TENANT
    from spine.demo_data import OTHER_TENANT
    from spine.repositories import open_store
    from spine.repositories.credentials import CredentialRepository

    load_demo_world(app)
    console.print(f"playbooks: {app.ingest_default_playbooks()}")
    hasher, created = Passwords(), []
    for tenant in (DEMO_TENANT, OTHER_TENANT):
        with open_store(app.sessions, tenant) as store:
            creds = CredentialRepository(store.session, tenant)
            for user in store.directory.list_users():
                if not creds.has_password(user.user_id):
                    password = "demo-" + secrets.token_urlsafe(9)
                    creds.set_password_hash(user.user_id, hasher.hash(password))
                    created.append((tenant, user.user_id, ", ".join(user.groups), password))
    if created:
        console.print("[bold]Demo sign-ins[/bold] (shown once; change with `mcc users set-password`):")
        for tenant, user, groups, password in created:
            console.print(f"  {tenant:8} {user:20} {password}   [dim]{groups}[/dim]", markup=True, highlight=False)
    else:
        console.print("Demo users already have passwords (`mcc users set-password USER` to change one).")


def set_password(
    user_id: Annotated[str, typer.Argument(help="Directory user id.")],
    tenant: TenantOpt = None,
    actor: ActorOpt = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (scripts).")
    ] = False,
) -> None:
    """Set the password a directory user signs in to the web app with (argon2-hashed; never stored in clear)."""
    from mcc.web.passwords import PasswordError, Passwords
    from spine.repositories.credentials import CredentialRepository

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        password_hash = Passwords().hash(password)
    except PasswordError as exc:
        err_console.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from None
    with open_app() as app:
        tid = tenant or app.settings.tenant
        try:
            # The audit row names the user, never the password or its hash.
            _audited(app, actor, tid, "users.set_password", {"user_id": user_id},
                     lambda s: CredentialRepository(s, tid).set_password_hash(user_id, password_hash))  # fmt: skip
        except SpineError as exc:
            raise _fail(exc) from None
    console.print(f"password set for {user_id} ({tid})")
