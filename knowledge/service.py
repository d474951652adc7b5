"""KnowledgeBase: the facade used by the CLI and the MCP knowledge server (ingest, search, documents, answers)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from knowledge.answerability import WordVectors
from knowledge.chunking import DEFAULT_MAX_CHARS, DEFAULT_OVERLAP, chunk_document
from knowledge.embedding import Embedder
from knowledge.errors import BadInputFile, VectorStoreUnavailable
from knowledge.focus import question_parts
from knowledge.grounding import DEFAULT_MIN_RELEVANCE, compose_answer, with_part_hits
from knowledge.models import Chunk, DocumentInfo, GroundedAnswer, IngestReport, ParsedDocument, SearchHit, SkippedFile
from knowledge.parsing import DEFAULT_MAX_BYTES, discover_files, file_sha256, normalize_tier, parse_file
from knowledge.retrieval import HybridRetriever, Mode
from knowledge.store import ChunkStore, make_client, parse_chroma_url

ProgressFn = Callable[[int, int, str], None]  # (files done, files total, current path)
EMBED_GROUP = 1024  # chunks embedded together across files
DEFAULT_PLAYBOOKS_DIR = Path(__file__).resolve().parent / "playbooks"


def default_playbooks_dir() -> Path:
    """The product's own default playbooks shipped inside the package."""
    return DEFAULT_PLAYBOOKS_DIR


class KnowledgeBase:
    """Playbook knowledge base over one Chroma collection. All configuration is explicit."""

    def __init__(
        self,
        persist_dir: str | Path | None = None,
        chroma_url: str | None = None,
        model_name_or_path: str | Path | None = None,
        *,
        embedder: Any | None = None,
        collection: str = "mcc_playbooks",
        max_chars: int = DEFAULT_MAX_CHARS,
        overlap: int = DEFAULT_OVERLAP,
        max_file_bytes: int = DEFAULT_MAX_BYTES,
        min_relevance: float = DEFAULT_MIN_RELEVANCE,
        client: Any | None = None,
    ) -> None:
        if persist_dir is not None:
            Path(persist_dir).mkdir(parents=True, exist_ok=True)
        self.client = client or make_client(str(persist_dir) if persist_dir else None, chroma_url)
        # set when the store is a Chroma server: its URL names it in errors
        self.server_url = parse_chroma_url(chroma_url).url if chroma_url and client is None else None
        self.store = ChunkStore(self.client, collection)
        # the model loads lazily on the first encode, never at construction
        self.embedder = embedder if embedder is not None else Embedder(model_name_or_path)
        self.retriever = HybridRetriever(self.store, self.embedder)
        self.word_vectors = WordVectors(self.embedder.encode)  # single-word embeddings for the answerability check
        self.max_chars = max_chars
        self.overlap = overlap
        self.max_file_bytes = max_file_bytes
        self.min_relevance = min_relevance

    # ------------------------------------------------------------------ ingest
    def ingest(self, paths: list[str | Path], progress: ProgressFn | None = None) -> IngestReport:
        """Ingest files/directories incrementally: unchanged skipped, changed replaced, deleted removed.

        Bad files (unreadable, empty, binary, huge, unsupported) are reported in ``skipped`` and the run goes on.
        """
        try:
            with self._server_answers():
                return self._ingest(paths, progress)
        finally:
            self.retriever.invalidate()  # even after a crash: part of the store may have changed

    def _ingest(self, paths: list[str | Path], progress: ProgressFn | None) -> IngestReport:
        t0 = time.perf_counter()
        report = IngestReport()
        self.store.reconcile()
        manifest = self.store.manifest()
        files = discover_files([Path(p) for p in paths])
        pending: list[tuple[ParsedDocument, list[Chunk]]] = []
        pending_chunks = 0
        embed_s = 0.0
        for n, path in enumerate(files, start=1):
            if progress:
                progress(n - 1, len(files), str(path))
            doc = self._parse_if_changed(path, manifest, report)
            if doc is None:
                continue
            chunks = chunk_document(doc, self.max_chars, self.overlap)
            pending.append((doc, chunks))
            pending_chunks += len(chunks)
            if pending_chunks >= EMBED_GROUP:  # embed several files at once: fewer, fuller batches
                embed_s += self._embed_and_write(pending, manifest, report)
                pending, pending_chunks = [], 0
        if pending:
            embed_s += self._embed_and_write(pending, manifest, report)
        for source in sorted(set(manifest) - {str(f.resolve()) for f in files}):
            if not Path(source).exists():
                report.chunks_deleted += self.store.delete_source(source)
                self.store.remove_manifest(source)
                report.removed.append(source)
        if progress:
            progress(len(files), len(files), "")
        report.seconds = time.perf_counter() - t0
        report.embed_seconds = embed_s
        report.model_load_seconds = float(getattr(self.embedder, "load_seconds", 0.0))
        return report

    def _parse_if_changed(self, path: Path, manifest: dict, report: IngestReport) -> ParsedDocument | None:
        """The parsed document when the file is new or changed; None when unchanged or skipped."""
        source = str(path.resolve())
        try:
            if not path.exists():
                raise BadInputFile(str(path), "no such file")
            if path.is_file() and path.stat().st_size <= self.max_file_bytes:
                old = manifest.get(source)
                if old is not None and old.file_hash == file_sha256(path.read_bytes()):
                    report.unchanged.append(source)
                    return None
            doc = parse_file(path, self.max_file_bytes)
        except BadInputFile as exc:
            report.skipped.append(SkippedFile(path=str(path), reason=exc.reason))
            return None
        except OSError as exc:
            report.skipped.append(SkippedFile(path=str(path), reason=f"unreadable ({exc})"))
            return None
        doc.source_path = source
        return doc

    def _embed_and_write(
        self, group: list[tuple[ParsedDocument, list[Chunk]]], manifest: dict, report: IngestReport
    ) -> float:
        """Embed a group of files (reusing stored vectors of unchanged text), write it; the embedding seconds.

        (Writing in a background thread was measured: on 2 cores it only slows the embedding down.)"""
        keys = {id(c): hashlib.sha256(c.index_text.encode()).hexdigest() for _, cs in group for c in cs}
        reuse: dict[str, np.ndarray] = {}
        for doc, _ in group:
            if doc.source_path in manifest:
                reuse.update(self.store.embeddings_by_key(doc.source_path))
        # each distinct text once: repeated boilerplate sections and unchanged text cost nothing
        todo = {keys[id(c)]: c.index_text for _, cs in group for c in cs if keys[id(c)] not in reuse}
        te = time.perf_counter()
        fresh = self.embedder.encode(list(todo.values())) if todo else np.zeros((0, 0))
        embed_s = time.perf_counter() - te
        vectors = dict(reuse)
        vectors.update(zip(todo, fresh, strict=True))
        all_chunks = [c for _, cs in group for c in cs]
        embeddings = np.stack([vectors[keys[id(c)]] for c in all_chunks]).astype(np.float32)
        self._write_group(group, all_chunks, embeddings, [keys[id(c)] for c in all_chunks], manifest, report)
        return embed_s

    def _write_group(
        self, group: list[tuple[ParsedDocument, list[Chunk]]], chunks: list[Chunk], embeddings: np.ndarray,
        embed_keys: list[str], manifest: dict, report: IngestReport,
    ) -> None:  # fmt: skip
        # order matters for crash safety: drop old chunks, write new chunks, then the manifest entries
        for doc, _ in group:
            if doc.source_path in manifest:
                report.chunks_deleted += self.store.delete_source(doc.source_path)
        self.store.upsert_chunks(chunks, embeddings, embed_keys)
        self.store.put_manifests([(doc, len(cs)) for doc, cs in group])
        for doc, cs in group:
            report.chunks_written += len(cs)
            (report.updated if doc.source_path in manifest else report.added).append(doc.source_path)

    # ------------------------------------------------------------------ read
    def search(
        self, query: str, k: int = 5, domain: str | None = None, tier: str | None = None, mode: Mode = "hybrid"
    ) -> list[SearchHit]:
        """Hybrid search; ``domain``/``tier`` filter exactly ('Tier 1', 'T1' and 1 all mean tier '1');
        each hit carries its citation and the scores of each retriever."""
        tier = normalize_tier(tier) if tier is not None and str(tier).strip().lower() != "all" else tier
        with self._server_answers():
            return self.retriever.search(query, k=k, domain=domain, tier=tier, mode=mode)

    def get_document(self, doc_id: str) -> DocumentInfo | None:
        """A stored document by doc id (first source file with that id), or None."""
        with self._server_answers():
            manifest = self.store.manifest()
        for entry in sorted(manifest.values(), key=lambda e: e.source_path):
            if entry.doc_id == doc_id:
                return DocumentInfo(
                    doc_id=entry.doc_id, title=entry.title, domain=entry.domain, tier=entry.tier,
                    source_path=entry.source_path, file_hash=entry.file_hash, chunk_count=entry.chunk_count,
                    sections=entry.sections, text=entry.text,
                )  # fmt: skip
        return None

    def list_documents(self) -> list[DocumentInfo]:
        """Every stored document (without repeating the text of each: ``text`` holds the first 200 chars)."""
        with self._server_answers():
            manifest = self.store.manifest()
        return [
            DocumentInfo(
                doc_id=e.doc_id,
                title=e.title,
                domain=e.domain,
                tier=e.tier,
                source_path=e.source_path,
                file_hash=e.file_hash,
                chunk_count=e.chunk_count,
                sections=e.sections,
                text=e.text[:200],
            )
            for e in sorted(manifest.values(), key=lambda e: e.doc_id)
        ]

    def answer(self, question: str, k: int = 5, domain: str | None = None, tier: str | None = None) -> GroundedAnswer:
        """An extractive answer built only from retrieved chunks, with citations, or a plain 'not in the playbooks'."""
        hits = self.search(question, k=k, domain=domain, tier=tier)  # k >= 5 gives the composer enough to choose
        parts = question_parts(question)
        if len(parts) > 1:  # "X, and Y?": each part's best section joins the pool, so the answer can combine them
            hits = with_part_hits(hits, [self.search(p, k=2, domain=domain, tier=tier) for p in parts])
        with self._server_answers():  # the vocabulary may re-read the store
            return compose_answer(
                question, hits, min_relevance=self.min_relevance, vocabulary=self.retriever.vocabulary,
                surface=self.retriever.surface, idf=self.retriever.idf, embed=self.embedder.encode,
                words=self.word_vectors,
            )  # fmt: skip

    @contextmanager
    def _server_answers(self) -> Iterator[None]:
        """A Chroma server that stops answering mid-call raises ``VectorStoreUnavailable``, not a socket error."""
        try:
            yield
        except httpx.TransportError as exc:
            if self.server_url is None:
                raise
            raise VectorStoreUnavailable(self.server_url, f"{type(exc).__name__}: {exc}") from exc
