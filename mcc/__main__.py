"""``python -m mcc`` runs the CLI."""

from mcc.cli import main

main()
