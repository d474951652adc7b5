"""``mcc serve NAME --transport stdio|http``: run one guarded MCP server standalone.

Over stdio the principal is one user of the tenant's directory (``--as``, default from settings): that is how
Claude Desktop starts it. Over streamable HTTP every request carries a bearer token that maps to a user of a
tenant (settings ``http_tokens``); the server is stateless so replicas can sit behind any load balancer.
On both transports a malformed message or a batch is answered with a JSON-RPC error, never dropped, and a GET on
the stateless HTTP endpoint is a 405 (``mcp_servers.guard.transport``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Literal

import anyio
import typer
from rich.markup import escape

from mcc.output import err_console
from mcc.settings import Settings, load_settings
from mcc.wiring import SERVER_NAMES, App, open_app

if TYPE_CHECKING:
    from mcp_servers.guard.oauth import IssuerConfig

ServerName = Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVER_NAMES)}, or webhooks (the receiver).")]


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


def issuer_configs(settings: Settings, resource: str) -> list[IssuerConfig]:
    """The configured OAuth issuers as the verifier's configs; the audience defaults to this server's resource."""
    from mcp_servers.guard.oauth import IssuerConfig

    return [
        IssuerConfig(
            issuer=i.issuer,
            audience=i.audience or resource,
            jwks_url=i.jwks_url,
            jwks_file=i.jwks_file,
            tenant=i.tenant,
            tenant_claim=i.tenant_claim,
            user_claim=i.user_claim,
            user_map=dict(i.users),
            group_claim=i.group_claim,
            group_map=dict(i.groups),
        )
        for i in settings.oauth_issuers
    ]


def http_app(app: App, name: str, settings: Settings, host: str, port: int, tool_prefix: str = ""):  # type: ignore[no-untyped-def]
    """The Starlette app of one server over stateless streamable HTTP: static bearer tokens and/or OAuth 2.1
    access tokens (JWTs) of the configured issuers, with RFC 9728 Protected Resource Metadata."""
    from mcp.server.auth.routes import create_protected_resource_routes
    from mcp.server.auth.settings import AuthSettings
    from pydantic import AnyHttpUrl

    from mcp_servers.guard.identity import BearerTokens, TokenGrant
    from mcp_servers.guard.oauth import AnyOf, JwtVerifier

    grants = parse_grants(settings.http_tokens)
    if not grants and not settings.oauth_issuers:
        raise ValueError(
            'http_tokens: no bearer tokens configured; set MCC_HTTP_TOKENS=\'{"<token>": "acme/maya.chen"}\' '
            "or an [http_tokens] table in settings.toml, or OAuth issuers (oauth_issuers, see README)"
        )
    tokens = BearerTokens({t: TokenGrant(user, tenant) for t, (tenant, user) in grants.items()}, app.groups_of)
    from mcp_servers.guard.transport import TransportEdges

    scopes = list(settings.oauth_scopes)
    if not settings.oauth_issuers:
        auth = AuthSettings(issuer_url=f"http://{host}:{port}", resource_server_url=None, required_scopes=scopes)
        server = app.server(name, tokens, token_verifier=tokens, auth=auth, tool_prefix=tool_prefix)
        return TransportEdges(server.streamable_http_app(stateless_http=True, json_response=True, host=host))
    resource = (settings.resource_url or f"http://{host}:{port}/mcp").replace("{name}", name)
    issuers = issuer_configs(settings, resource)
    verifier = AnyOf(tokens, JwtVerifier(issuers, app.groups_of)) if grants else JwtVerifier(issuers, app.groups_of)
    # The verifier checks each token's audience itself (per issuer), so the SDK's resource check stays off.
    auth = AuthSettings(issuer_url=issuers[0].issuer, resource_server_url=resource, required_scopes=scopes,
                        validate_token_resource=False)  # fmt: skip
    server = app.server(name, tokens, token_verifier=verifier, auth=auth, tool_prefix=tool_prefix)
    starlette_app = server.streamable_http_app(stateless_http=True, json_response=True, host=host)
    # The SDK's metadata names one authorization server; ours names every configured issuer, so it goes first.
    every_issuer = [AnyHttpUrl(i.issuer) for i in issuers]
    metadata = create_protected_resource_routes(AnyHttpUrl(resource), every_issuer, scopes, resource_name=f"MCC {name}")
    starlette_app.router.routes[0:0] = metadata
    return TransportEdges(starlette_app)


def _explain_over_stdio(message: str, max_requests: int = 5) -> None:
    """Answer the client's first requests (``server/discover``, ``initialize``) with a JSON-RPC error carrying
    ``message``, so an MCP client (Claude Desktop) shows why the server did not start, not "server disconnected"."""
    import json
    import sys

    for _ in range(max_requests):
        line = sys.stdin.readline()
        if not line:
            return
        try:
            request = json.loads(line)
        except ValueError:
            return
        if not isinstance(request, dict) or request.get("id") is None:
            continue  # a notification: nothing to answer
        error = {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32603, "message": f"mcc: {message}"}}
        sys.stdout.write(json.dumps(error) + "\n")
        sys.stdout.flush()


def _check_tenant(app: App, tenant_id: str) -> None:
    """A clear error with the fix when the stdio principal's tenant does not exist yet."""
    from spine.errors import UnknownTenantError
    from spine.repositories import get_tenant

    with app.sessions() as session:
        try:
            get_tenant(session, tenant_id)
        except UnknownTenantError:
            raise ValueError(
                f"no tenant {tenant_id!r}: run `mcc demo` (demo tenants) or `mcc tenants create {tenant_id}`"
            ) from None


def _list_tools(app: App, name: str, as_json: bool, tool_prefix: str = "") -> None:
    """Print the tools a server publishes (name, title, hints, description), without serving anything."""
    import json

    from mcp_servers.guard.identity import FixedPrincipal
    from policies.model import Principal

    # Listing needs no caller: an empty principal, never used because no tool is called.
    nobody = FixedPrincipal(Principal(user_id="-", tenant_id="-", groups=frozenset()))
    server = app.server(name, nobody, tool_prefix=tool_prefix)
    tools = anyio.run(server.list_tools)
    if as_json:
        rows = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console

    out = Console(soft_wrap=True)  # one line per description, whatever the terminal width
    for tool in tools:
        hints = tool.annotations
        flags = [f for f, on in (("read-only", hints and hints.read_only_hint), ("destructive", hints and
                 hints.destructive_hint), ("idempotent", hints and hints.idempotent_hint)) if on]  # fmt: skip
        first = (tool.description or "").strip().splitlines()[0] if tool.description else ""
        out.print(f"[bold]{escape(tool.name)}[/bold] — {escape(tool.title or '')} [dim]({', '.join(flags)})[/dim]")
        out.print(f"    {escape(first)}")


_PREFIX_HELP = (
    "Put this before every tool name (e.g. workfront_) for clients that merge servers; policies see the name."
)
_NO_WORKER_HELP = (
    "webhooks only: check, store and acknowledge deliveries without processing them here; run `mcc sync worker` "
    "beside it (same database) to process them."
)


def serve(
    name: ServerName,
    transport: Annotated[Literal["stdio", "http"], typer.Option(help="stdio (one user) or streamable HTTP.")] = "stdio",
    as_user: Annotated[str | None, typer.Option("--as", help="stdio principal (default: settings.user).")] = None,
    tenant: Annotated[str | None, typer.Option(help="Tenant of --as (default: settings.tenant).")] = None,
    host: Annotated[str | None, typer.Option(help="HTTP bind address (default: settings.http_host).")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port (default: settings.http_port).")] = None,
    list_tools: Annotated[bool, typer.Option("--list-tools", help="Print the server's tools and exit.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="With --list-tools: the tools as JSON.")] = False,
    tool_prefix: Annotated[str, typer.Option("--tool-prefix", help=_PREFIX_HELP)] = "",
    no_worker: Annotated[bool, typer.Option("--no-worker", help=_NO_WORKER_HELP)] = False,
) -> None:
    """Run one guarded MCP server (spine, workfront, asana, knowledge) over stdio or streamable HTTP."""
    settings = load_settings()
    # stdout belongs to the MCP protocol over stdio: logs go to stderr only.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    over_stdio = transport == "stdio" and not list_tools

    def fail(message: str) -> typer.Exit:
        err_console.print(f"[red]error[/red] {escape(message)}")
        if over_stdio:
            _explain_over_stdio(message)
        return typer.Exit(2)

    if name == "webhooks":  # not an MCP server: the webhook receiver (and its queue worker)
        from mcc.commands.serve_webhooks import serve_webhooks

        serve_webhooks(settings, host, port, worker=not no_worker)
        return
    if no_worker:
        raise fail("--no-worker: only for `mcc serve webhooks` (MCP servers run no queue worker)")
    if name not in SERVER_NAMES:
        raise fail(f"server: unknown MCP server {name!r}; use one of {', '.join(SERVER_NAMES)}")
    with open_app(settings) as app:
        try:
            from policies.loader import PolicyLoadError

            try:
                app.policy_engine  # noqa: B018  (parse and validate the policies before serving anything)
            except PolicyLoadError as exc:
                raise fail(f"policies: {exc}; the server does not start with broken policies") from None
            if list_tools:
                _list_tools(app, name, json_out, tool_prefix)
                return
            if transport == "stdio":
                from mcp_servers.guard.identity import FixedPrincipal
                from mcp_servers.guard.transport import run_stdio

                _check_tenant(app, tenant or settings.tenant)
                principal = app.principal(as_user, tenant)
                if name == "knowledge":
                    app.knowledge.search("warm up", k=1)  # the first call should not be the slow one
                server = app.server(name, FixedPrincipal(principal), tool_prefix=tool_prefix)
                anyio.run(run_stdio, server)
                return
            import uvicorn

            if name == "knowledge":
                # Load the embedding model and index before accepting calls, so the first call is not the slow one.
                app.knowledge.search("warm up", k=1)
            h, p = host or settings.http_host, port or settings.http_port
            starlette_app = http_app(app, name, settings, h, p, tool_prefix)
            how = "bearer tokens" + (", OAuth" if settings.oauth_issuers else "")
            err_console.print(f"mcc: {name} server on http://{h}:{p}/mcp (stateless, {how})")
            uvicorn.run(starlette_app, host=h, port=p, log_level="warning")
        except ValueError as exc:
            raise fail(str(exc)) from None
        except Exception as exc:
            from knowledge.errors import KnowledgeError
            from spine.errors import SpineError

            if isinstance(exc, SpineError | KnowledgeError):  # e.g. the Chroma server at MCC_CHROMA_URL is down
                raise fail(str(exc)) from None
            raise
