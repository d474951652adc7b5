"""CLI command groups, one module per area; each exposes a typer ``app`` registered in ``mcc.cli``."""
