"""The shared guard every MCP server runs tool calls through: identity, validation, policy, approvals, audit."""
