"""The ONNX Runtime embedding backend: parity with sentence-transformers, the export cache (reuse, atomic writes,
damaged files) and a process that embeds without importing torch. Slow: exports and loads the real model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from knowledge.chunking import chunk_document
from knowledge.embedding import Embedder, default_model_path
from knowledge.errors import UnsupportedModel
from knowledge.onnx_embedding import FP32_FILE, INT8_FILE, read_layout, write_atomically
from knowledge.parsing import parse_file
from knowledge.service import default_playbooks_dir

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "sentence_transformers")


@pytest.fixture(scope="module")
def chunk_texts() -> list[str]:
    docs = [parse_file(src) for src in sorted(default_playbooks_dir().glob("*.md"))]
    texts = [c.index_text for doc in docs for c in chunk_document(doc)]
    assert len(texts) > 100
    return texts


@pytest.fixture(scope="module")
def onnx_vectors(real_embedder: Embedder, chunk_texts: list[str]) -> np.ndarray:
    return real_embedder.encode(chunk_texts)


def _export_dir(cache: Path) -> Path:
    (key_dir,) = (cache / "embeddings").iterdir()
    return key_dir


@pytest.mark.slow
def test_onnx_matches_sentence_transformers(real_embedder: Embedder, onnx_vectors: np.ndarray, chunk_texts) -> None:  # type: ignore[no-untyped-def]
    assert real_embedder.backend == "onnx" and real_embedder.dimension == 384
    reference = Embedder(backend="torch", precision="fp32").encode(chunk_texts)
    assert onnx_vectors.shape == reference.shape == (len(chunk_texts), 384) and onnx_vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    assert (onnx_vectors * reference).sum(axis=1).min() >= 0.9999


@pytest.mark.slow
def test_int8_is_close_to_fp32_and_keeps_neighbours(onnx_cache_dir: Path, onnx_vectors: np.ndarray, chunk_texts):  # type: ignore[no-untyped-def]
    int8 = Embedder(precision="int8", cache_dir=onnx_cache_dir).encode(chunk_texts)
    cosine = (int8 * onnx_vectors).sum(axis=1)
    assert cosine.mean() >= 0.98 and cosine.min() >= 0.9
    # every chunk's int8 vector is still nearest to its own fp32 vector
    assert (np.argmax(int8 @ onnx_vectors.T, axis=1) == np.arange(len(chunk_texts))).all()
    names = sorted(p.name for p in _export_dir(onnx_cache_dir).iterdir())
    assert names == sorted([FP32_FILE, INT8_FILE])  # quantized from the one export; no temp file left


@pytest.mark.slow
def test_a_second_embedder_reuses_the_export(real_embedder: Embedder, onnx_cache_dir: Path) -> None:
    model = _export_dir(onnx_cache_dir) / FP32_FILE
    before = model.stat().st_mtime_ns
    again = Embedder(cache_dir=onnx_cache_dir)
    assert np.allclose(again.encode_query("subject line length"), real_embedder.encode_query("subject line length"))
    assert model.stat().st_mtime_ns == before and not any(p.name.endswith(".tmp") for p in model.parent.iterdir())


@pytest.mark.slow
def test_a_damaged_export_is_made_again(real_embedder: Embedder, onnx_cache_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(onnx_cache_dir / "embeddings", cache / "embeddings")
    model = _export_dir(cache) / FP32_FILE
    size = model.stat().st_size
    with open(model, "r+b") as fh:
        fh.truncate(size // 3)  # what a disk fault or a non-atomic copy would leave
    emb = Embedder(cache_dir=cache)
    assert np.allclose(emb.encode_query("brand colours"), real_embedder.encode_query("brand colours"), atol=1e-6)
    assert model.stat().st_size == size and emb.export_seconds > 0
    assert sorted(p.name for p in model.parent.iterdir()) == [FP32_FILE]


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    dest = tmp_path / "model.onnx"
    dest.write_bytes(b"good")

    def crash(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise RuntimeError("export died")

    with pytest.raises(RuntimeError, match="export died"):
        write_atomically(dest, crash)
    assert dest.read_bytes() == b"good" and [p.name for p in tmp_path.iterdir()] == ["model.onnx"]
    write_atomically(dest, lambda tmp: tmp.write_bytes(b"new"))
    assert dest.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


@pytest.mark.slow
def test_a_process_that_only_embeds_never_imports_torch(real_embedder: Embedder, onnx_cache_dir: Path) -> None:
    script = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        from knowledge.service import KnowledgeBase
        from knowledge.embedding import Embedder
        vector = Embedder(cache_dir=Path({str(onnx_cache_dir)!r})).encode_query("who approves co-branded materials?")
        print(json.dumps({{"vector": vector.tolist(), "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["heavy"] == []
    assert np.allclose(out["vector"], real_embedder.encode_query("who approves co-branded materials?"), atol=1e-6)


def _model_dir(tmp_path: Path, modules: list[str], pooling: dict[str, object]) -> Path:
    """A model directory with the packaged model's files but the given modules and pooling config."""
    src = default_model_path()
    tmp_path.mkdir(parents=True)
    for name in ("config.json", "sentence_bert_config.json", "tokenizer.json"):
        shutil.copy(src / name, tmp_path / name)
    mods = [{"idx": i, "name": str(i), "path": f"{i}_{m}" if i else "", "type": f"sentence_transformers.models.{m}"}
            for i, m in enumerate(modules)]  # fmt: skip
    (tmp_path / "modules.json").write_text(json.dumps(mods))
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 384, **pooling}))
    return tmp_path


def test_layouts_the_onnx_backend_would_not_reproduce_are_refused(tmp_path: Path) -> None:
    mean = {"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}
    assert read_layout(_model_dir(tmp_path / "ok", ["Transformer", "Pooling"], mean)).max_seq_length == 256
    with pytest.raises(UnsupportedModel, match="embedding_backend=torch"):
        read_layout(_model_dir(tmp_path / "dense", ["Transformer", "Pooling", "Dense", "Normalize"], mean))
    with pytest.raises(UnsupportedModel, match="not plain mean pooling"):
        read_layout(_model_dir(tmp_path / "cls", ["Transformer", "Pooling"], {"pooling_mode_cls_token": True}))
    mean_and_max = {**mean, "pooling_mode_max_tokens": True}
    with pytest.raises(UnsupportedModel, match="not plain mean pooling"):
        read_layout(_model_dir(tmp_path / "both", ["Transformer", "Pooling"], mean_and_max))
    with pytest.raises(UnsupportedModel, match=r"modules\.json"):
        read_layout(tmp_path / "ok" / "1_Pooling")


def test_bad_backend_or_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="bf16 needs backend torch"):
        Embedder(precision="bf16")
    with pytest.raises(ValueError, match="backend"):
        Embedder(backend="tensorflow")
    assert Embedder(backend="torch", precision="bf16").effective_precision == "bf16"
    assert Embedder().effective_precision == "fp32"
