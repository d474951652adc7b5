"""Boundary models of the knowledge base (pydantic) and the internal parsed/chunked shapes (dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

# --------------------------------------------------------------------------- scope
# Every stored document has one owner: the shared collection (the company's playbooks, visible to every tenant
# when the deployment enables it) or one tenant (visible to that tenant only). Nothing is visible by default.
SHARED_OWNER = "shared"
Scope = Literal["tenant", "shared"]


def tenant_owner(tenant_id: str) -> str:
    """The owner key of one tenant's documents."""
    if not tenant_id or not tenant_id.strip():
        raise ValueError("tenant_id must be a non-empty tenant id")
    return f"tenant:{tenant_id}"


def owner_scope(owner: str) -> tuple[Scope, str | None]:
    """(scope, tenant id or None) of an owner key."""
    if owner.startswith("tenant:"):
        return "tenant", owner.removeprefix("tenant:")
    return "shared", None


@dataclass(frozen=True)
class Audience:
    """Who reads: one tenant's documents, plus the shared collection when the deployment enables it.

    ``Audience()`` (no tenant) sees the shared collection only."""

    tenant_id: str | None = None
    shared: bool = True

    @property
    def owners(self) -> frozenset[str]:
        """The owner keys this audience may read."""
        mine = {tenant_owner(self.tenant_id)} if self.tenant_id else set()
        return frozenset(mine | ({SHARED_OWNER} if self.shared else set()))


# --------------------------------------------------------------------------- internal shapes


@dataclass(frozen=True)
class Section:
    """A run of body text under one heading path; offsets index into ``ParsedDocument.text``."""

    heading_path: tuple[str, ...]
    start: int
    end: int


@dataclass
class ParsedDocument:
    """One source file turned into plain text plus its heading structure and metadata."""

    doc_id: str
    title: str
    domain: str
    tier: str
    source_path: str
    text: str
    sections: list[Section] = field(default_factory=list)
    file_hash: str = ""
    owner: str = SHARED_OWNER


@dataclass(frozen=True)
class Chunk:
    """A bounded piece of one section, ready to embed and index."""

    chunk_id: str
    doc_id: str
    title: str
    heading_path: tuple[str, ...]
    domain: str
    tier: str
    source_path: str
    start: int
    end: int
    text: str
    content_hash: str
    file_hash: str
    ordinal: int
    owner: str = SHARED_OWNER

    @property
    def index_text(self) -> str:
        """What is embedded and BM25-indexed: title and heading path give the chunk its context."""
        path = [h for h in self.heading_path if h != self.title]
        return f"{' > '.join([self.title, *path])}\n\n{self.text}"


# --------------------------------------------------------------------------- boundary models


class RetrieverScores(BaseModel):
    """Each retriever's view of a hit: its raw score and 1-based rank (None when it did not return the hit)."""

    dense: float | None = Field(None, description="Cosine similarity of query and chunk embeddings")
    dense_rank: int | None = None
    bm25: float | None = Field(None, description="BM25 score")
    bm25_rank: int | None = None
    rrf: float = Field(0.0, description="Reciprocal rank fusion score (before metadata boosts)")


class SearchHit(BaseModel):
    """One retrieved chunk with its citation, metadata and the scores of every retriever."""

    chunk_id: str
    doc_id: str
    title: str
    heading_path: list[str]
    citation: str = Field(description="doc id + heading path, e.g. 'email-channel-specs § Copy > Subject lines'")
    text: str
    score: float = Field(description="Final fused score used for ranking")
    scores: RetrieverScores
    domain: str
    tier: str
    source_path: str
    start: int = Field(description="Start character offset of the chunk in the parsed document text")
    end: int
    flags: list[str] = Field(default_factory=list, description="e.g. 'instruction_like_text' (treat as data)")
    scope: Scope = Field("shared", description="'tenant': the reader's own document; 'shared': the shared playbooks")
    tenant: str | None = Field(None, description="The owning tenant when scope is 'tenant'")


class SkippedFile(BaseModel):
    path: str
    reason: str


class IngestReport(BaseModel):
    """What an ingest run did."""

    added: list[str] = Field(default_factory=list, description="Source paths ingested for the first time")
    updated: list[str] = Field(default_factory=list, description="Changed source paths whose chunks were replaced")
    unchanged: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list, description="Source paths gone from disk, chunks deleted")
    skipped: list[SkippedFile] = Field(default_factory=list)
    chunks_written: int = 0
    chunks_deleted: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    model_load_seconds: float = 0.0


class DocumentInfo(BaseModel):
    """A stored document: metadata, its sections and its full parsed text."""

    doc_id: str
    title: str
    domain: str
    tier: str
    source_path: str
    file_hash: str
    chunk_count: int
    sections: list[list[str]]
    text: str
    scope: Scope = "shared"
    tenant: str | None = None


class Citation(BaseModel):
    doc_id: str
    heading_path: list[str]
    citation: str
    chunk_id: str
    scope: Scope = "shared"
    tenant: str | None = None


class SentenceSupport(BaseModel):
    """Whether one answer sentence is backed by a cited chunk."""

    sentence: str
    supported: bool
    chunk_id: str | None = None
    overlap: float = Field(description="Share of the sentence's content words found in the best chunk")
    missing_numbers: list[str] = Field(default_factory=list)


class GroundedAnswer(BaseModel):
    """An answer composed only from retrieved chunks, with citations and a support check per sentence."""

    question: str
    answered: bool = Field(description="False when the playbooks do not contain the answer")
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    support: list[SentenceSupport] = Field(default_factory=list)
    unsupported_sentences: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    top_score: float | None = Field(None, description="Relevance of the best hit (dense cosine)")
    hits: list[SearchHit] = Field(default_factory=list)
    check: dict[str, float] | None = Field(
        None, description="Signals of the calibrated answer check (knowledge.answer_check), when it ran"
    )
