"""Connectors to external systems, one package per system (``workfront``, ``asana``): REST client and transport,
wire models, typed errors derived from ``connectors.errors``, the embedded sandbox, webhook parsing and the mapping
of their statuses to the canonical model. Used by the MCP servers and the sync engine alike; imports nothing of
ours but ``spine``."""
