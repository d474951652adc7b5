"""Retrieval metrics as part of the eval suite: the knowledge package's benchmark (``knowledge.evaluation``, the
code behind ``mcc knowledge eval``), called with the configured embedding model, never re-implemented here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from knowledge.evaluation import DEFAULT_UNANSWERABLE, BenchmarkReport, ModeMetrics, run_benchmark
from mcc.settings import Settings


def rag_metrics(
    settings: Settings, corpus: Path, qa: Path, unanswerable: Path | None = None, embedder: Any | None = None
) -> BenchmarkReport:
    """BM25-only, dense-only and hybrid metrics of ``qa`` over ``corpus`` (plus unanswerable questions); inside a
    suite the suite's embedder is passed in, so the model is loaded once."""
    from evals.world import default_embedder

    chosen = embedder if embedder is not None else default_embedder(settings)
    return run_benchmark(corpus, qa, unanswerable or DEFAULT_UNANSWERABLE, embedder=chosen)


def hybrid(report: BenchmarkReport) -> ModeMetrics:
    """The hybrid retriever's row (what the product uses)."""
    return next(m for m in report.modes if m.mode == "hybrid")
