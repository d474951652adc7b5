"""Agent layer: the model interface, the LangGraph supervisor and agents, acting only through MCP clients."""
