"""``mcc serve NAME --transport stdio|http``: run one guarded MCP server standalone.

Over stdio the principal is one user of the tenant's directory (``--as``, default from settings): that is how
Claude Desktop starts it. Over streamable HTTP every request carries a bearer token that maps to a user of a
tenant (settings ``http_tokens``); the server is stateless so replicas can sit behind any load balancer.
On both transports a malformed message or a batch is answered with a JSON-RPC error, never dropped, and a GET on
the stateless HTTP endpoint is a 405 (``mcp_servers.guard.transport``).
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

import anyio
import typer
from rich.markup import escape

from mcc.output import err_console
from mcc.settings import Settings, load_settings
from mcc.wiring import SERVER_NAMES, App, open_app

ServerName = Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVER_NAMES)}.")]


def parse_grants(tokens: dict[str, str]) -> dict[str, tuple[str, str]]:
    """``token -> 'tenant/user'`` from settings into ``token -> (tenant, user)``; a clear error on a bad entry."""
    grants: dict[str, tuple[str, str]] = {}
    for i, (token, owner) in enumerate(tokens.items()):
        tenant, sep, user = owner.partition("/")
        if not sep or not tenant or not user:
            # Never echo the token itself: it is a secret.
            raise ValueError(f"http_tokens: entry #{i + 1} maps to {owner!r}; write it as 'tenant/user_id'")
        if len(token) < 16:
            raise ValueError(f"http_tokens: entry #{i + 1} (for {owner}) is shorter than 16 characters")
        grants[token] = (tenant, user)
    return grants


def http_app(app: App, name: str, settings: Settings, host: str, port: int):  # type: ignore[no-untyped-def]
    """The Starlette app of one server over stateless streamable HTTP with bearer-token auth."""
    from mcp.server.auth.settings import AuthSettings

    from mcp_servers.guard.identity import BearerTokens, TokenGrant

    grants = parse_grants(settings.http_tokens)
    if not grants:
        raise ValueError(
            'http_tokens: no bearer tokens configured; set MCC_HTTP_TOKENS=\'{"<token>": "acme/maya.chen"}\' '
            "or an [http_tokens] table in settings.toml"
        )
    tokens = BearerTokens({t: TokenGrant(user, tenant) for t, (tenant, user) in grants.items()}, app.groups_of)
    auth = AuthSettings(issuer_url=f"http://{host}:{port}", resource_server_url=None, required_scopes=["mcc"])
    from mcp_servers.guard.transport import TransportEdges

    server = app.server(name, tokens, token_verifier=tokens, auth=auth)
    return TransportEdges(server.streamable_http_app(stateless_http=True, json_response=True, host=host))


def serve(
    name: ServerName,
    transport: Annotated[Literal["stdio", "http"], typer.Option(help="stdio (one user) or streamable HTTP.")] = "stdio",
    as_user: Annotated[str | None, typer.Option("--as", help="stdio principal (default: settings.user).")] = None,
    tenant: Annotated[str | None, typer.Option(help="Tenant of --as (default: settings.tenant).")] = None,
    host: Annotated[str | None, typer.Option(help="HTTP bind address (default: settings.http_host).")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port (default: settings.http_port).")] = None,
) -> None:
    """Run one guarded MCP server (spine, workfront, asana, knowledge) over stdio or streamable HTTP."""
    settings = load_settings()
    # stdout belongs to the MCP protocol over stdio: logs go to stderr only.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if name not in SERVER_NAMES:
        err_console.print(f"[red]error[/red] server: unknown MCP server {name!r}; use one of {', '.join(SERVER_NAMES)}")
        raise typer.Exit(2)
    with open_app(settings) as app:
        try:
            from policies.loader import PolicyLoadError

            try:
                app.policy_engine  # noqa: B018  (parse and validate the policies before serving anything)
            except PolicyLoadError as exc:
                err_console.print(f"[red]error[/red] policies: {exc}; the server does not start with broken policies")
                raise typer.Exit(2) from None
            if name == "knowledge":
                # Load the embedding model and index before accepting calls, so the first call is not the slow one.
                app.knowledge.search("warm up", k=1)
            if transport == "stdio":
                from mcp_servers.guard.identity import FixedPrincipal
                from mcp_servers.guard.transport import run_stdio

                principal = app.principal(as_user, tenant)
                server = app.server(name, FixedPrincipal(principal))
                anyio.run(run_stdio, server)
                return
            import uvicorn

            h, p = host or settings.http_host, port or settings.http_port
            starlette_app = http_app(app, name, settings, h, p)
            err_console.print(f"mcc: {name} server on http://{h}:{p}/mcp (stateless, bearer tokens)")
            uvicorn.run(starlette_app, host=h, port=p, log_level="warning")
        except ValueError as exc:
            err_console.print(f"[red]error[/red] {escape(str(exc))}")
            raise typer.Exit(2) from None
        except Exception as exc:
            from knowledge.errors import KnowledgeError
            from spine.errors import SpineError

            if isinstance(exc, SpineError | KnowledgeError):  # e.g. the Chroma server at MCC_CHROMA_URL is down
                err_console.print(f"[red]error[/red] {escape(str(exc))}")
                raise typer.Exit(2) from None
            raise
