"""Fixtures of the knowledge tests: a fast deterministic embedder, the real model once per session, fixtures."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from knowledge.service import KnowledgeBase, default_playbooks_dir

# The project corpus (../shared/corpus) when present; the identical copies shipped in the package otherwise.
_SHARED = Path(__file__).resolve().parents[3] / "shared" / "corpus"
CORPUS_DIR = _SHARED / "playbooks" if (_SHARED / "playbooks").is_dir() else default_playbooks_dir()
QA_DEV = Path(__file__).resolve().parents[2] / "knowledge" / "eval" / "qa_dev.yaml"


class HashingEmbedder:
    """Deterministic bag-of-words vectors (hashing trick): fast stand-in for tests that do not judge quality."""

    load_seconds = 0.0

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for tok in re.findall(r"[a-z0-9]+", text.lower()):
                out[row, int(hashlib.md5(tok.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


def minimal_pdf(lines: list[str]) -> bytes:
    """A small valid one-page PDF whose content stream draws ``lines`` (test fixture; parsing stays pypdf's)."""
    ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({escaped}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def write_playbook(
    directory: Path, name: str, title: str, body: str, domain: str = "general", tier: str = "all"
) -> Path:
    """A Markdown playbook with front matter."""
    path = directory / f"{name}.md"
    path.write_text(
        f"---\ntitle: {title}\ndoc_id: {name}\ndomain: {domain}\ntier: {tier}\n---\n\n# {title}\n\n{body}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def fake_kb(tmp_path: Path) -> KnowledgeBase:
    """A knowledge base on a fresh persistent Chroma dir with the hashing embedder."""
    return KnowledgeBase(persist_dir=tmp_path / "chroma", embedder=HashingEmbedder())


@pytest.fixture(scope="session")
def onnx_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedding cache for the whole test session: the ONNX export (seconds) happens once, by real_embedder."""
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="session")
def real_embedder(onnx_cache_dir: Path):
    """The packaged all-MiniLM-L6-v2 on the default (ONNX) backend, exported and loaded once per test session."""
    from knowledge.embedding import Embedder

    emb = Embedder(cache_dir=onnx_cache_dir)
    emb.encode(["warm up"])
    return emb


@pytest.fixture(scope="session")
def dev_kb(real_embedder, tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The shared 14-document corpus ingested once per session with the real model."""
    kb = KnowledgeBase(persist_dir=tmp_path_factory.mktemp("devkb"), embedder=real_embedder)
    report = kb.ingest([CORPUS_DIR])
    assert len(report.added) == 14 and not report.skipped
    return kb
