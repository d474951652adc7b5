"""Retrieval quality benchmark: BM25-only, dense-only and hybrid over a corpus and a QA file.

Usage: python -m knowledge.evaluation --corpus DIR --qa FILE [--json]
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from knowledge.models import SearchHit
from knowledge.retrieval import Mode

MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid")
DEFAULT_UNANSWERABLE = Path(__file__).resolve().parent / "eval" / "unanswerable_dev.yaml"


class QAItem(BaseModel):
    id: str
    question: str
    doc_id: str | None = None
    section: str | None = None
    must_contain: list[str] = Field(default_factory=list)
    kind: str = ""
    also_doc_ids: list[str] = Field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return self.doc_id is not None


class ModeMetrics(BaseModel):
    mode: str
    doc_recall_at_1: float
    section_recall_at_5: float
    evidence_recall_at_5: float
    mrr_at_10: float
    ndcg_at_10: float
    misses: list[str] = Field(default_factory=list, description="ids of questions whose section is not in the top 5")


class BenchmarkReport(BaseModel):
    questions: int
    answerable: int
    unanswerable: int
    chunks: int
    modes: list[ModeMetrics]
    unanswerable_detection_rate: float
    false_unanswerable_rate: float = Field(description="Answerable questions wrongly declared not in the playbooks")
    undetected: list[str] = Field(default_factory=list)
    wrongly_refused: list[str] = Field(default_factory=list, description="ids of answerable questions refused")


def load_qa(path: str | Path) -> list[QAItem]:
    """QA items from a YAML list (the qa_dev.yaml format)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    return [QAItem.model_validate({k: v for k, v in item.items() if v is not None or k in ("doc_id", "section")})
            for item in data]  # fmt: skip


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def is_section_hit(hit: SearchHit, item: QAItem) -> bool:
    return (
        hit.doc_id == item.doc_id
        and bool(hit.heading_path)
        and item.section is not None
        and _norm(hit.heading_path[-1]) == _norm(item.section)
    )


def doc_recall_at_1(hits: list[SearchHit], item: QAItem) -> float:
    return float(bool(hits) and hits[0].doc_id == item.doc_id)


def section_recall_at_k(hits: list[SearchHit], item: QAItem, k: int = 5) -> float:
    return float(any(is_section_hit(h, item) for h in hits[:k]))


def evidence_recall_at_k(hits: list[SearchHit], item: QAItem, k: int = 5) -> float:
    text = _norm(" ".join(h.text for h in hits[:k]))
    return float(all(_norm(s) in text for s in item.must_contain))


def mrr_at_k(hits: list[SearchHit], item: QAItem, k: int = 10) -> float:
    for rank, h in enumerate(hits[:k], start=1):
        if is_section_hit(h, item):
            return 1.0 / rank
    return 0.0


def ndcg_at_k(hits: list[SearchHit], item: QAItem, relevant_total: int, k: int = 10) -> float:
    """Binary relevance (chunk of the answering section); ideal DCG from the number of such chunks."""
    dcg = sum(1.0 / math.log2(r + 1) for r, h in enumerate(hits[:k], start=1) if is_section_hit(h, item))
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(k, max(relevant_total, 1)) + 1))
    return dcg / ideal


def evaluate(kb: Any, items: list[QAItem], modes: tuple[Mode, ...] = MODES) -> BenchmarkReport:
    """Run every question through each retriever of an already-ingested KnowledgeBase."""
    answerable = [i for i in items if i.answerable]
    unanswerable = [i for i in items if not i.answerable]
    kb.retriever.refresh()
    chunks = kb.retriever._chunks
    relevant_counts = {
        i.id: sum(1 for c in chunks if c.meta["doc_id"] == i.doc_id and c.heading_path
                  and _norm(c.heading_path[-1]) == _norm(i.section or ""))
        for i in answerable
    }  # fmt: skip
    results = []
    for mode in modes:
        rows = []
        misses = []
        for item in answerable:
            hits = kb.search(item.question, k=10, mode=mode)
            sec = section_recall_at_k(hits, item)
            if not sec:
                misses.append(item.id)
            rows.append((doc_recall_at_1(hits, item), sec, evidence_recall_at_k(hits, item),
                         mrr_at_k(hits, item), ndcg_at_k(hits, item, relevant_counts[item.id])))  # fmt: skip
        n = max(len(rows), 1)
        avg = [round(sum(r[j] for r in rows) / n, 4) for j in range(5)]
        results.append(
            ModeMetrics(
                mode=mode,
                doc_recall_at_1=avg[0],
                section_recall_at_5=avg[1],
                evidence_recall_at_5=avg[2],
                mrr_at_10=avg[3],
                ndcg_at_10=avg[4],
                misses=misses,
            )
        )
    undetected = [i.id for i in unanswerable if kb.answer(i.question).answered]
    false_neg = [i.id for i in answerable if not kb.answer(i.question).answered]
    return BenchmarkReport(
        questions=len(items), answerable=len(answerable), unanswerable=len(unanswerable), chunks=len(chunks),
        modes=results,
        unanswerable_detection_rate=round(1 - len(undetected) / len(unanswerable), 4) if unanswerable else 1.0,
        false_unanswerable_rate=round(len(false_neg) / len(answerable), 4) if answerable else 0.0,
        undetected=undetected, wrongly_refused=false_neg,
    )  # fmt: skip


def run_benchmark(
    corpus: str | Path, qa: str | Path, unanswerable: str | Path | None = DEFAULT_UNANSWERABLE,
    embedder: Any | None = None, model_name_or_path: str | None = None,
) -> BenchmarkReport:  # fmt: skip
    """Ingest ``corpus`` into a throwaway store and evaluate the QA file (plus extra unanswerable questions)."""
    from knowledge.service import KnowledgeBase

    items = load_qa(qa)
    if unanswerable and Path(unanswerable).is_file():
        items += load_qa(unanswerable)
    with tempfile.TemporaryDirectory(prefix="mcc-eval-") as tmp:
        kb = KnowledgeBase(persist_dir=tmp, model_name_or_path=model_name_or_path, embedder=embedder)
        kb.ingest([corpus])
        return evaluate(kb, items)


def format_table(report: BenchmarkReport) -> str:
    """Markdown table of the report."""
    lines = [
        "| retriever | doc recall@1 | section recall@5 | evidence recall@5 | MRR@10 | nDCG@10 |",
        "|---|---|---|---|---|---|",
    ]
    for m in report.modes:
        lines.append(f"| {m.mode} | {m.doc_recall_at_1:.2f} | {m.section_recall_at_5:.2f} | "
                     f"{m.evidence_recall_at_5:.2f} | {m.mrr_at_10:.2f} | {m.ndcg_at_10:.2f} |")  # fmt: skip
    lines.append("")
    lines.append(
        f"unanswerable detection rate: {report.unanswerable_detection_rate:.2f} ({report.unanswerable} questions); "
        f"answerable wrongly refused: {report.false_unanswerable_rate:.2f}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--qa", required=True)
    parser.add_argument("--unanswerable", default=str(DEFAULT_UNANSWERABLE))
    parser.add_argument("--model", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run_benchmark(args.corpus, args.qa, args.unanswerable or None, model_name_or_path=args.model)
    print(report.model_dump_json(indent=2) if args.json else format_table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
