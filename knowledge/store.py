"""Chroma wrapper: the chunk collection plus a manifest collection of ingested files (hash, counts, text).

Consistency rule: for one file, old chunks are deleted and new chunks written *before* its manifest entry;
``reconcile()`` (run at the start of every ingest) drops chunks with no matching manifest entry and manifest
entries whose chunks are incomplete, so an interrupted run is repaired by simply running again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from knowledge.errors import ChromaURLError, VectorStoreUnavailable
from knowledge.models import SHARED_OWNER, Chunk, ParsedDocument

_WRITE_BATCH = 1000


@dataclass(frozen=True)
class ManifestEntry:
    source_path: str
    file_hash: str
    doc_id: str
    title: str
    domain: str
    tier: str
    chunk_count: int
    sections: list[list[str]]
    text: str
    owner: str = SHARED_OWNER


def manifest_key(owner: str, source_path: str) -> str:
    """A manifest entry's id: the source path for the shared collection, owner-prefixed for a tenant's copy."""
    return source_path if owner == SHARED_OWNER else f"{owner}|{source_path}"


def _of_source(owner: str, source_path: str) -> dict[str, Any]:
    return {"$and": [{"source_path": source_path}, {"owner": owner}]}


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    meta: dict[str, Any]

    @property
    def heading_path(self) -> list[str]:
        return json.loads(self.meta["heading_path"])

    @property
    def index_text(self) -> str:
        path = [h for h in self.heading_path if h != self.meta["title"]]
        return f"{' > '.join([self.meta['title'], *path])}\n\n{self.text}"


@dataclass(frozen=True)
class ChromaEndpoint:
    """Where a Chroma server listens, as parsed from its URL."""

    host: str
    port: int
    ssl: bool
    path: str = ""  # a reverse proxy's path prefix ("" when the server is at the root)

    @property
    def url(self) -> str:
        """The normalized base URL (scheme, host, explicit port, path prefix)."""
        host = f"[{self.host}]" if ":" in self.host else self.host  # IPv6 literal
        return f"{'https' if self.ssl else 'http'}://{host}:{self.port}{self.path}"


def parse_chroma_url(chroma_url: str) -> ChromaEndpoint:
    """``http[s]://host[:port][/prefix]`` -> endpoint; port 8000 (Chroma's own default) for http, 443 for https.

    Anything the HTTP client would silently drop or misread (no scheme, credentials, query) is an error."""
    url = urlparse(chroma_url.strip())
    shown = url._replace(netloc=f"***@{url.netloc.rpartition('@')[2]}").geturl() if "@" in url.netloc else chroma_url
    if url.scheme not in ("http", "https"):
        raise ChromaURLError(shown, "the scheme must be http or https")
    if not url.hostname:
        raise ChromaURLError(shown, "no host")
    if url.username is not None or url.password is not None:  # never echoed: ``shown`` hides them
        raise ChromaURLError(shown, "credentials in the URL are not sent to the server")
    if url.query or url.fragment or url.params:
        raise ChromaURLError(shown, "a query or fragment is not part of a Chroma server address")
    try:
        port = url.port
    except ValueError:
        raise ChromaURLError(shown, "the port is not a number between 0 and 65535") from None
    ssl = url.scheme == "https"
    return ChromaEndpoint(host=url.hostname, port=port or (443 if ssl else 8000), ssl=ssl, path=url.path.rstrip("/"))


def make_client(persist_dir: str | None = None, chroma_url: str | None = None) -> Any:
    """A Chroma server client when a URL is given, else a persistent client under ``persist_dir``.

    The server client uses the server's default tenant and database (they exist on every fresh server); it
    says hello at once, so a server that is down or is not Chroma fails here with ``VectorStoreUnavailable``."""
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if chroma_url:
        ep = parse_chroma_url(chroma_url)
        try:
            # the whole URL as host: the one form in which chromadb keeps a path prefix and an IPv6 literal
            return chromadb.HttpClient(host=ep.url, port=ep.port, ssl=ep.ssl, settings=settings)
        except Exception as exc:  # chromadb raises ValueError, httpx or JSON errors depending on what answered
            raise VectorStoreUnavailable(ep.url, f"{type(exc).__name__}: {exc}") from exc
    if not persist_dir:
        raise ValueError("the knowledge store needs persist_dir or chroma_url")
    return chromadb.PersistentClient(path=persist_dir, settings=settings)


class ChunkStore:
    """Chunks (with our own embeddings; Chroma never embeds) and the ingested-file manifest."""

    def __init__(self, client: Any, collection: str = "mcc_playbooks") -> None:
        self.client = client
        # embedding_function=None: we always pass embeddings, so Chroma never fetches its default ONNX model
        self.chunks = client.get_or_create_collection(
            name=collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        self.files = client.get_or_create_collection(name=f"{collection}__files", embedding_function=None)

    # ------------------------------------------------------------------ chunks
    def count(self) -> int:
        return int(self.chunks.count())

    def upsert_chunks(self, chunks: list[Chunk], embeddings: np.ndarray, embed_keys: list[str]) -> None:
        for i in range(0, len(chunks), _WRITE_BATCH):
            part = chunks[i : i + _WRITE_BATCH]
            self.chunks.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=embeddings[i : i + _WRITE_BATCH],
                documents=[c.text for c in part],
                metadatas=[_chunk_meta(c, k) for c, k in zip(part, embed_keys[i : i + _WRITE_BATCH], strict=True)],
            )

    def delete_source(self, source_path: str, owner: str = SHARED_OWNER) -> int:
        ids = self.chunks.get(where=_of_source(owner, source_path), include=[])["ids"]
        for i in range(0, len(ids), _WRITE_BATCH):
            self.chunks.delete(ids=ids[i : i + _WRITE_BATCH])
        return len(ids)

    def embeddings_by_key(self, source_path: str, owner: str = SHARED_OWNER) -> dict[str, np.ndarray]:
        """Existing embeddings of a file's chunks keyed by embed key, to skip re-embedding unchanged text."""
        got = self.chunks.get(where=_of_source(owner, source_path), include=["embeddings", "metadatas"])
        embs = got.get("embeddings")
        if embs is None:
            return {}
        return {m["embed_key"]: np.asarray(e, dtype=np.float32) for m, e in zip(got["metadatas"], embs, strict=True)}

    def all_chunks(self) -> list[StoredChunk]:
        got = self.chunks.get(include=["documents", "metadatas"])
        rows = zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        return [StoredChunk(i, d or "", dict(m)) for i, d, m in rows]

    def dense_query(self, embedding: np.ndarray, n: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) best first."""
        total = self.count()
        if total == 0:
            return []
        res = self.chunks.query(
            query_embeddings=[embedding], n_results=min(n, total), where=where or None, include=["distances"]
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    # ------------------------------------------------------------------ manifest
    def manifest(self) -> dict[str, ManifestEntry]:
        """Every ingested file of every owner, by manifest key (see ``manifest_key``)."""
        got = self.files.get(include=["documents", "metadatas"])
        out = {}
        for sid, doc, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
            owner = str(m.get("owner", SHARED_OWNER))  # entries written before scopes existed were shared
            out[sid] = ManifestEntry(
                source_path=str(m.get("source_path", sid)), file_hash=m["file_hash"], doc_id=m["doc_id"],
                title=m["title"], domain=m["domain"], tier=m["tier"], chunk_count=int(m["chunk_count"]),
                sections=json.loads(m["sections"]), text=doc or "", owner=owner,
            )  # fmt: skip
        return out

    def put_manifest(self, doc: ParsedDocument, chunk_count: int) -> None:
        self.put_manifests([(doc, chunk_count)])

    def put_manifests(self, entries: list[tuple[ParsedDocument, int]]) -> None:
        """Record files as fully ingested (call only after their chunks are written)."""
        if not entries:
            return
        metas = [
            {
                "file_hash": doc.file_hash,
                "doc_id": doc.doc_id,
                "title": doc.title,
                "domain": doc.domain,
                "tier": doc.tier,
                "chunk_count": count,
                "sections": json.dumps([list(s.heading_path) for s in doc.sections]),
                "owner": doc.owner,
                "source_path": doc.source_path,
            }
            for doc, count in entries
        ]
        self.files.upsert(
            ids=[manifest_key(doc.owner, doc.source_path) for doc, _ in entries], embeddings=[[1.0]] * len(entries),
            documents=[doc.text for doc, _ in entries], metadatas=metas,
        )  # fmt: skip

    def remove_manifest(self, source_path: str, owner: str = SHARED_OWNER) -> None:
        self.files.delete(ids=[manifest_key(owner, source_path)])

    def reconcile(self) -> int:
        """Repair the effects of an interrupted ingest; returns the number of chunks + entries dropped."""
        manifest = self.manifest()
        got = self.chunks.get(include=["metadatas"])
        counts: dict[str, int] = {}
        orphans: list[str] = []
        for cid, m in zip(got["ids"], got["metadatas"], strict=True):
            # a chunk without an owner predates scopes: dropped, and its file is re-ingested into its scope
            key = manifest_key(m["owner"], m["source_path"]) if "owner" in m else None
            entry = manifest.get(key) if key is not None else None
            if key is None or entry is None or entry.file_hash != m["file_hash"]:
                orphans.append(cid)
            else:
                counts[key] = counts.get(key, 0) + 1
        for i in range(0, len(orphans), _WRITE_BATCH):
            self.chunks.delete(ids=orphans[i : i + _WRITE_BATCH])
        broken = [key for key, e in manifest.items() if counts.get(key, 0) != e.chunk_count]
        for key in broken:
            entry = manifest[key]
            self.delete_source(entry.source_path, entry.owner)
            self.files.delete(ids=[key])
        return len(orphans) + len(broken)

    def signature(self) -> str:
        """Changes whenever the set of ingested files changes (used to refresh the BM25 index)."""
        got = self.files.get(include=["metadatas"])
        pairs = sorted(f"{i}={m['file_hash']}" for i, m in zip(got["ids"], got["metadatas"], strict=True))
        return f"{self.count()}|{hash(tuple(pairs))}"


def _chunk_meta(c: Chunk, embed_key: str) -> dict[str, Any]:
    return {
        "doc_id": c.doc_id, "title": c.title, "heading_path": json.dumps(list(c.heading_path)),
        "domain": c.domain, "tier": c.tier, "source_path": c.source_path, "start": c.start, "end": c.end,
        "content_hash": c.content_hash, "file_hash": c.file_hash, "ordinal": c.ordinal, "embed_key": embed_key,
        "owner": c.owner,
    }  # fmt: skip
