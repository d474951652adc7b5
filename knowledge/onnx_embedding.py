"""ONNX Runtime backend of the embedder: the sentence-transformers model exported once to an on-disk cache (torch is
imported only for that export), then run with the ``tokenizers`` tokenizer, mean pooling and L2 normalisation in
numpy. A process that only embeds never imports torch, transformers or sentence_transformers."""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.errors import EmbeddingCacheError, UnsupportedModel

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

EXPORT_VERSION = 1  # part of the cache key: bump when the export changes, so old files are not reused
OPSET = 17
FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
STALE_TEMP_SECONDS = 3600  # a temp file this old was left by a killed export, not one in progress


@dataclass(frozen=True)
class ModelLayout:
    """What the ONNX backend reads of a sentence-transformers model directory (Transformer, mean Pooling,
    optional Normalize; the embeddings are always L2-normalised, as the torch backend asks for)."""

    root: Path
    transformer_dir: Path
    max_seq_length: int
    do_lower_case: bool
    dimension: int
    pad_token_id: int


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnsupportedModel(f"cannot read {path}: {exc}; use embedding_backend=torch for this model") from exc


def read_layout(model_dir: Path) -> ModelLayout:
    """The layout of ``model_dir``; UnsupportedModel for any pipeline the ONNX backend would not reproduce exactly."""
    fix = "use embedding_backend=torch for this model"
    modules = _read_json(model_dir / "modules.json")
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise UnsupportedModel(f"{model_dir}: modules {kinds} are not Transformer, Pooling[, Normalize]; {fix}")
    transformer_dir = model_dir / modules[0].get("path", "")
    pooling = _read_json(model_dir / modules[1].get("path", "") / "config.json")
    mode = pooling.get("pooling_mode")  # newer sentence-transformers write one string
    others = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens" and v]
    if not (mode == "mean" or (mode is None and pooling.get("pooling_mode_mean_tokens") and not others)):
        raise UnsupportedModel(f"{model_dir}: pooling {pooling} is not plain mean pooling; {fix}")
    sbert = _read_json(transformer_dir / "sentence_bert_config.json")
    if not (transformer_dir / "tokenizer.json").is_file():
        raise UnsupportedModel(f"{transformer_dir}: no tokenizer.json (fast tokenizer); {fix}")
    config = _read_json(transformer_dir / "config.json")
    return ModelLayout(
        root=model_dir, transformer_dir=transformer_dir, max_seq_length=int(sbert["max_seq_length"]),
        do_lower_case=bool(sbert.get("do_lower_case", False)), dimension=int(pooling["word_embedding_dimension"]),
        pad_token_id=int(config.get("pad_token_id") or 0),
    )  # fmt: skip


def cache_key(layout: ModelLayout) -> str:
    """Names one export: the model's configs verbatim, its weight files by size and mtime, and the export version."""
    h = hashlib.sha256(f"export {EXPORT_VERSION} opset {OPSET} {layout.root.resolve()}\n".encode())
    for name in ("config.json", "modules.json", "sentence_bert_config.json"):
        for path in sorted({layout.root / name, layout.transformer_dir / name}):
            if path.is_file():
                h.update(path.read_bytes())
    for path in sorted(layout.transformer_dir.glob("*.safetensors")) + sorted(layout.transformer_dir.glob("*.bin")):
        st = path.stat()
        h.update(f"{path.name} {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/mcc``, else ``~/.cache/mcc``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "mcc"


def write_atomically(dest: Path, write: Callable[[Path], None]) -> None:
    """Run ``write(temp)`` on a temp file beside ``dest``, then rename it over ``dest``: a crash never leaves a
    half-written ``dest``, and a failed write leaves no temp file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    for old in dest.parent.glob(f".{dest.name}.*.tmp"):  # left by a killed export; a fresh one may be in progress
        if time.time() - old.stat().st_mtime > STALE_TEMP_SECONDS:
            old.unlink(missing_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; the cache is as readable as any other
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())  # the rename must not reach the disk before the bytes do
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def export_fp32(layout: ModelLayout, dest: Path) -> None:
    """Export the transformer (token embeddings, ``last_hidden_state``) to ONNX at ``dest``. Imports torch and
    transformers: several seconds, paid once per model and cache directory."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # no "Loading weights" bar in CLI/JSON output
    try:
        model = AutoModel.from_pretrained(str(layout.transformer_dir)).float().eval()
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in inspect.signature(model.forward).parameters:
        names.append("token_type_ids")

    class Hidden(torch.nn.Module):
        """Keyword arguments only: transformers 5 changed the positional order of forward()."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    feed = batch_inputs(load_tokenizer(layout), layout, ["a short sentence", "and a somewhat longer one here"])
    args = tuple(torch.from_numpy(feed[n]) for n in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]}

    def write(tmp: Path) -> None:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer notices about Python control flow on shapes: expected here
            torch.onnx.export(Hidden(), args, str(tmp), input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes=axes, opset_version=OPSET, dynamo=False)  # fmt: skip

    write_atomically(dest, write)


def quantize_int8(src: Path, dest: Path) -> None:
    """Dynamic int8 quantization of ``src`` into ``dest``, per output channel (no torch needed).

    Measured on the playbook chunks (2-core AVX2 CPU): ~1.3x the ONNX fp32 throughput, cosine to fp32 mean 0.992."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    def write(tmp: Path) -> None:
        # The quantizer logs advice with logging.warning(), which would also give the root logger a stderr handler
        # for good: a placeholder handler and a raised level keep both out of CLI output while it runs.
        root, placeholder = logging.getLogger(), logging.NullHandler()
        level, bare = root.level, not root.handlers
        if bare:
            root.addHandler(placeholder)
        root.setLevel(logging.ERROR)
        try:
            quantize_dynamic(src, tmp, per_channel=True, weight_type=QuantType.QInt8)
        finally:
            root.setLevel(level)
            if bare:
                root.removeHandler(placeholder)

    write_atomically(dest, write)


def load_tokenizer(layout: ModelLayout) -> Tokenizer:
    """The model's fast tokenizer, truncating like sentence-transformers (max_seq_length), padding left to us."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(layout.transformer_dir / "tokenizer.json"))
    tok.enable_truncation(max_length=layout.max_seq_length)
    tok.no_padding()
    return tok


def batch_inputs(tok: Tokenizer, layout: ModelLayout, texts: list[str]) -> dict[str, np.ndarray]:
    """input_ids, attention_mask and token_type_ids (zeros) of ``texts``, right-padded to the longest."""
    encs = tok.encode_batch([t.lower() for t in texts] if layout.do_lower_case else texts)
    width = max(len(e.ids) for e in encs)
    ids = np.full((len(encs), width), layout.pad_token_id, dtype=np.int64)
    mask = np.zeros((len(encs), width), dtype=np.int64)
    for row, enc in enumerate(encs):
        ids[row, : len(enc.ids)] = enc.ids
        mask[row, : len(enc.ids)] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def make_session(path: Path, threads: int) -> onnxruntime.InferenceSession:
    """A CPU session on ``threads`` intra-op threads that sleep when idle (no spin-wait collapse when other
    processes hold the cores)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    opts.log_severity_level = 3  # errors only: no graph-optimisation chatter in CLI output
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


class OnnxEncoder:
    """One model's ONNX session(s) and tokenizer; exports (and quantizes) into ``cache_dir`` on first use.

    One session serves batches and single queries alike: with spinning off, a query on all cores of a busy 2-core
    machine measured no slower than on one thread (p50 26 vs 29 ms with both cores taken; 8-9 ms idle), unlike
    torch's OpenMP pool. ``encode`` may be called from several threads (ORT sessions are thread-safe)."""

    def __init__(self, model_dir: Path, cache_dir: Path, int8: bool, threads: int) -> None:
        self.layout = read_layout(model_dir)
        self.dir = cache_dir / "embeddings" / cache_key(self.layout)
        self.path = self.dir / (INT8_FILE if int8 else FP32_FILE)
        self.int8 = int8
        self.export_seconds = 0.0
        self.tokenizer = load_tokenizer(self.layout)
        self.session = self._open(threads)
        self._names = [i.name for i in self.session.get_inputs()]

    def _ensure_file(self) -> None:
        """Export (and quantize) into the cache unless the file is already there; ``export_seconds`` counts it."""
        t0 = time.perf_counter()
        fp32 = self.dir / FP32_FILE
        if self.path.is_file():
            return
        if not fp32.is_file():
            log.info("exporting the embedding model %s to ONNX at %s (once)", self.layout.root, fp32)
            export_fp32(self.layout, fp32)
        if self.int8:
            quantize_int8(fp32, self.path)
        self.export_seconds += time.perf_counter() - t0

    def _open(self, threads: int) -> onnxruntime.InferenceSession:
        """The session on the cached file; a file that does not load (damaged on disk) is re-made once."""
        self._ensure_file()
        try:
            return make_session(self.path, threads)
        except Exception as exc:  # ORT raises its own exception types (InvalidProtobuf, Fail, ...)
            log.warning("cached ONNX model %s does not load (%s); re-exporting it", self.path, exc)
            for name in (FP32_FILE, INT8_FILE):  # an int8 file is only as good as the fp32 one it came from
                (self.dir / name).unlink(missing_ok=True)
            self._ensure_file()
        try:
            return make_session(self.path, threads)
        except Exception as exc:
            raise EmbeddingCacheError(
                f"the ONNX embedding model {self.path} does not load even after re-exporting it: {exc}; delete "
                f"{self.dir} and retry, or set embedding_backend=torch"
            ) from exc

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """float32 (n, dim) unit vectors; texts are batched by length so batches carry little padding."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.layout.dimension), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            feed = batch_inputs(self.tokenizer, self.layout, [texts[i] for i in idx])
            hidden = self.session.run(None, {n: feed[n] for n in self._names})[0]
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            out[idx] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out
