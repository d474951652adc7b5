"""The ``mcc`` command line: one typer app that mounts each area's command group."""

from __future__ import annotations

import typer

from mcc.commands import (
    approvals_workflow,
    campaigns,
    chat,
    connect,
    directory,
    evals,
    governance,
    imports,
    knowledge,
    measurements,
    serve,
    sync_outbound,
    web,
    webhooks,
    workflows,
)
from mcc.commands import sync as sync_cmd

app = typer.Typer(
    name="mcc",
    help="Marketing Command Center: campaign spine, guarded MCP tool servers and the agent team.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)

# Top-level commands (init, demo) live with the spine commands; groups mount below.
campaigns.register(app)
app.command("serve")(serve.serve)
app.command("web")(web.web)
chat.register(app)
app.add_typer(governance.policy_app, name="policy", help="Evaluate tool calls against the policies.")
approvals_workflow.register(governance.approvals_app)
app.add_typer(governance.approvals_app, name="approvals", help="List and resolve pending approvals.")
app.add_typer(approvals_workflow.notifications_app, name="notifications", help="Approval notification channels.")
app.add_typer(governance.audit_app, name="audit", help="Verify and read the hash-chained audit log.")
app.add_typer(directory.tenants_app, name="tenants", help="Create and list tenants.")
directory.users_app.command("set-password")(web.set_password)
app.add_typer(directory.users_app, name="users", help="Manage people, their groups and system identities.")
app.add_typer(directory.directory_app, name="directory", help="Import people from a YAML or CSV file.")
app.add_typer(connect.app, name="connect", help="Connect a tenant to its Workfront and Asana.")
app.add_typer(imports.app, name="import", help="Backfill existing projects and tasks into the spine.")
app.add_typer(measurements.app, name="measurements", help="Import analytics measurements into the spine.")
app.add_typer(evals.app, name="eval", help="Run eval suites that score agent behaviour.")
app.add_typer(knowledge.app, name="knowledge", help="Ingest and search the playbook knowledge base.")
app.add_typer(workflows.app, name="workflows", help="Durable campaign-setup workflows: list, show, run a worker.")
sync_outbound.register(sync_cmd.app)
app.add_typer(sync_cmd.app, name="sync", help="Sync with Workfront and Asana: conflicts, pull, push, errors, inbox.")
app.add_typer(webhooks.app, name="webhooks", help="Subscribe connected systems to the webhook receiver.")


@app.callback()
def _quiet_libraries() -> None:
    """Library chatter (index builds, model loads) stays out of command output; warnings still show."""
    import logging

    for name in ("bm25s", "sentence_transformers", "chromadb", "httpx", "httpx2"):
        logging.getLogger(name).setLevel(logging.WARNING)


def main() -> None:
    """Console-script entry point."""
    app()
