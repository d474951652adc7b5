"""The Workfront MCP server: its tools and their wiring to the guard (the backends live in ``connectors.workfront``)."""
