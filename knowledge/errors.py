"""Typed errors of the knowledge package."""

from __future__ import annotations


class KnowledgeError(Exception):
    """Base class for knowledge base errors."""


class BadInputFile(KnowledgeError):
    """A file that cannot be ingested (unreadable, empty, binary, huge, unsupported); the run skips it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class ModelNotFound(KnowledgeError):
    """The embedding model named in settings cannot be found locally."""


class UnsupportedModel(KnowledgeError):
    """The embedding model's layout is one the ONNX backend does not reproduce (use the torch backend)."""


class EmbeddingCacheError(KnowledgeError):
    """An exported ONNX model in the cache cannot be loaded even after re-exporting it."""
