"""The offline deterministic model: embedding + keyword routing, slot filling and templated answers composed from
tool results, so the whole agent graph runs without an API key or network.

Public API: ``OfflineModel`` (the ChatModel), ``MiniLMEncoder`` / ``HashingEncoder`` / ``TextEncoder`` (routing
embeddings), ``Router`` (intents and request splitting).
"""

from agents.offline.encoder import HashingEncoder, MiniLMEncoder, TextEncoder
from agents.offline.model import OfflineModel
from agents.offline.router import Router

__all__ = ["HashingEncoder", "MiniLMEncoder", "OfflineModel", "Router", "TextEncoder"]
