"""KnowledgeBase: the facade used by the CLI and the MCP knowledge server (ingest, search, documents, answers).

Scope rule: every document is ingested either into one tenant's scope (``ingest(..., tenant_id=...)``) or into
the shared collection (the company's playbooks); every read names an ``Audience`` and sees only its tenant's
documents plus, when the deployment enables it, the shared ones. Ingest never follows a symbolic link out of
the folder being ingested (see ``knowledge.parsing.discover``)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from knowledge.answer_check import AnswerModel
from knowledge.answerability import WordVectors
from knowledge.chunking import DEFAULT_MAX_CHARS, DEFAULT_OVERLAP, chunk_document
from knowledge.embedding import Embedder
from knowledge.errors import BadInputFile, VectorStoreUnavailable
from knowledge.focus import focus_of, question_parts
from knowledge.grounding import (
    DEFAULT_MIN_RELEVANCE,
    compose_answer,
    unit_texts,
    with_amount_hits,
    with_part_hits,
)
from knowledge.models import (
    SHARED_OWNER,
    Audience,
    Chunk,
    DocumentInfo,
    GroundedAnswer,
    IngestReport,
    ParsedDocument,
    SearchHit,
    SkippedFile,
    owner_scope,
    tenant_owner,
)
from knowledge.parsing import DEFAULT_MAX_BYTES, discover, file_sha256, normalize_tier, parse_file
from knowledge.retrieval import HybridRetriever, Mode
from knowledge.store import ChunkStore, make_client, parse_chroma_url

ProgressFn = Callable[[int, int, str], None]  # (files done, files total, current path)
AMOUNT_POOL = 15  # hits searched for a section whose amount range holds the asked amount
EMBED_GROUP = 1024  # chunks embedded together across files
UNIT_CACHE_SIZE = 20_000  # answer-unit embeddings kept (384 float32 each: about 30 MB when full)
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
        answer_model: AnswerModel | None = None,
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
        # answer units recur across questions: embedding each once keeps a grounded answer to one question embed
        self.unit_vectors = WordVectors(self.embedder.encode, max_size=UNIT_CACHE_SIZE)
        self.max_chars = max_chars
        self.overlap = overlap
        self.max_file_bytes = max_file_bytes
        self.min_relevance = min_relevance
        self.answer_model = answer_model or AnswerModel()  # calibrated on the dev questions

    # ------------------------------------------------------------------ ingest
    def ingest(
        self, paths: list[str | Path], progress: ProgressFn | None = None, *, tenant_id: str | None = None
    ) -> IngestReport:
        """Ingest files/directories incrementally into one tenant's scope (``tenant_id``) or, without one, into
        the shared collection: unchanged skipped, changed replaced, deleted removed (within that scope only).

        Bad files (unreadable, empty, binary, huge, unsupported, a symbolic link leading out of the folder) are
        reported in ``skipped`` and the run goes on.
        """
        owner = tenant_owner(tenant_id) if tenant_id is not None else SHARED_OWNER
        try:
            with self._server_answers():
                return self._ingest(paths, progress, owner)
        finally:
            self.retriever.invalidate()  # even after a crash: part of the store may have changed

    def _ingest(self, paths: list[str | Path], progress: ProgressFn | None, owner: str) -> IngestReport:
        t0 = time.perf_counter()
        report = IngestReport()
        self.store.reconcile()
        # this scope's files by source path: another scope's copy of the same file is another document
        manifest = {e.source_path: e for e in self.store.manifest().values() if e.owner == owner}
        found = discover([Path(p) for p in paths])
        files = found.files
        report.skipped.extend(found.refused)
        pending: list[tuple[ParsedDocument, list[Chunk]]] = []
        pending_chunks = 0
        embed_s = 0.0
        for n, path in enumerate(files, start=1):
            if progress:
                progress(n - 1, len(files), str(path))
            doc = self._parse_if_changed(path, manifest, report)
            if doc is None:
                continue
            doc.owner = owner
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
                report.chunks_deleted += self.store.delete_source(source, owner)
                self.store.remove_manifest(source, owner)
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
                reuse.update(self.store.embeddings_by_key(doc.source_path, doc.owner))
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
                report.chunks_deleted += self.store.delete_source(doc.source_path, doc.owner)
        self.store.upsert_chunks(chunks, embeddings, embed_keys)
        self.store.put_manifests([(doc, len(cs)) for doc, cs in group])
        for doc, cs in group:
            report.chunks_written += len(cs)
            (report.updated if doc.source_path in manifest else report.added).append(doc.source_path)

    # ------------------------------------------------------------------ read
    def warm_answers(self, batch: int = 256) -> int:
        """Embed every stored chunk's answer units now (e.g. in a server's start-up thread), so the first grounded
        answers embed only their question. Returns how many units are cached; stops when the cache is full."""
        texts: list[str] = []
        for chunk in self.store.all_chunks():
            texts.extend(unit_texts(chunk.heading_path, chunk.text))
        texts = list(dict.fromkeys(texts))[: UNIT_CACHE_SIZE // 2]  # room left for the questions
        for start in range(0, len(texts), batch):
            self.unit_vectors.get(texts[start : start + batch])
        return len(texts)

    def search(
        self,
        query: str,
        k: int = 5,
        domain: str | None = None,
        tier: str | None = None,
        mode: Mode = "hybrid",
        audience: Audience = Audience(),
    ) -> list[SearchHit]:
        """Hybrid search over what ``audience`` may read (default: the shared collection only); ``domain``/``tier``
        filter exactly ('Tier 1', 'T1' and 1 all mean tier '1'); each hit carries its citation, its scope and the
        scores of each retriever."""
        tier = normalize_tier(tier) if tier is not None and str(tier).strip().lower() != "all" else tier
        with self._server_answers():
            return self.retriever.search(query, k=k, domain=domain, tier=tier, mode=mode, owners=audience.owners)

    def get_document(self, doc_id: str, audience: Audience = Audience()) -> DocumentInfo | None:
        """A document ``audience`` may read, by doc id (the tenant's own before a shared one, then by source
        path), or None: another tenant's document is answered exactly like a missing one."""
        docs = [d for d in self._documents(audience) if d.doc_id == doc_id]
        docs.sort(key=lambda d: (d.scope != "tenant", d.source_path))
        return docs[0] if docs else None

    def list_documents(self, audience: Audience = Audience()) -> list[DocumentInfo]:
        """Every document ``audience`` may read (``text`` holds the first 200 chars only)."""
        docs = self._documents(audience)
        return [d.model_copy(update={"text": d.text[:200]}) for d in sorted(docs, key=lambda d: d.doc_id)]

    def _documents(self, audience: Audience) -> list[DocumentInfo]:
        with self._server_answers():
            manifest = self.store.manifest()
        owners = audience.owners
        out = []
        for e in manifest.values():
            if e.owner not in owners:
                continue
            scope, tenant = owner_scope(e.owner)
            out.append(DocumentInfo(
                doc_id=e.doc_id, title=e.title, domain=e.domain, tier=e.tier, source_path=e.source_path,
                file_hash=e.file_hash, chunk_count=e.chunk_count, sections=e.sections, text=e.text, scope=scope,
                tenant=tenant,
            ))  # fmt: skip
        return out

    def answer(
        self, question: str, k: int = 5, domain: str | None = None, tier: str | None = None,
        audience: Audience = Audience(), gate: bool = True,
    ) -> GroundedAnswer:  # fmt: skip
        """An extractive answer built only from chunks ``audience`` may read, with citations, or a plain 'not in
        the playbooks'. The answerability check sees only that audience's vocabulary. ``gate=False`` is for
        calibrating the answer check only (it composes past the first answerability verdict)."""
        # k >= 5 gives the composer enough to choose
        hits = self.search(question, k=k, domain=domain, tier=tier, audience=audience)
        parts = question_parts(question)
        if len(parts) > 1:  # "X, and Y?": each part's best section joins the pool, so the answer can combine them
            more = [self.search(p, k=2, domain=domain, tier=tier, audience=audience) for p in parts]
            hits = with_part_hits(hits, more)
        focus = focus_of(question)
        if focus.amounts:  # "who approves $60k": a section stating a range that holds the amount joins the pool
            wider = self.search(question, k=AMOUNT_POOL, domain=domain, tier=tier, audience=audience)
            hits = with_amount_hits(hits, wider, focus)
        owners = audience.owners
        with self._server_answers():  # the vocabulary may re-read the store
            return compose_answer(
                question, hits, min_relevance=self.min_relevance, vocabulary=self.retriever.vocabulary(owners),
                surface=self.retriever.surface(owners), idf=lambda token: self.retriever.idf(token, owners),
                embed=self.unit_vectors.get, words=self.word_vectors, model=self.answer_model, gate=gate,
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
