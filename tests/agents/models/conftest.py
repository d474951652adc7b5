from tests.wire.anthropic_server import anthropic_wire_server

__all__ = ["anthropic_wire_server"]
