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


class ChromaURLError(KnowledgeError, ValueError):
    """A Chroma server URL that cannot be used as written (the message says how to write it)."""

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(
            f"chroma_url {url!r}: {problem}. Fix: write it as http://HOST:PORT or https://HOST:PORT/PATH "
            "(port and path optional; the port is 8000 for http and 443 for https when left out)"
        )
        self.url = url
        self.problem = problem


class VectorStoreUnavailable(KnowledgeError):
    """The Chroma server at the configured URL does not answer (down, wrong address, or not a Chroma server)."""

    def __init__(self, url: str, cause: str) -> None:
        super().__init__(
            f"no Chroma server answers at {url} ({cause}). Fix: start one there (`chroma run --host HOST --port PORT "
            "--path DIR`) or correct the URL; without a URL the knowledge base uses a local persistent store"
        )
        self.url = url
        self.cause = cause
