"""Retrieval quality on the dev set: BM25-only, dense-only and hybrid (doc recall@1, section recall@5,
evidence recall@5, MRR@10, nDCG@10) plus the unanswerable detection rate.

Bars (issue "Quality and speed"): hybrid doc recall@1 >= 0.90, section recall@5 >= 0.95, evidence recall@5 >= 0.95,
and hybrid beats each retriever alone. Prints markdown tables; exits non-zero when a bar is missed.
Corpus and QA default to ../shared/corpus (falling back to the copies shipped in the package).
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.harness import Report
from knowledge.evaluation import format_table, run_benchmark
from knowledge.service import default_playbooks_dir

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus"


def main() -> int:
    corpus = SHARED / "playbooks" if (SHARED / "playbooks").is_dir() else default_playbooks_dir()
    qa = SHARED / "qa_dev.yaml" if (SHARED / "qa_dev.yaml").is_file() else ROOT / "knowledge" / "eval" / "qa_dev.yaml"
    result = run_benchmark(corpus, qa)
    print(f"\ncorpus: {corpus}  qa: {qa}  chunks: {result.chunks}\n")
    print(format_table(result))
    modes = {m.mode: m for m in result.modes}
    hybrid = modes["hybrid"]
    best_alone = {
        f: max(getattr(modes["bm25"], f), getattr(modes["dense"], f))
        for f in ("doc_recall_at_1", "section_recall_at_5", "evidence_recall_at_5", "mrr_at_10")
    }
    report = Report("Hybrid retrieval quality (dev set)")
    report.add("hybrid doc recall@1", hybrid.doc_recall_at_1, 0.90, "", higher_is_better=True)
    report.add("hybrid section recall@5", hybrid.section_recall_at_5, 0.95, "", higher_is_better=True)
    report.add("hybrid evidence recall@5", hybrid.evidence_recall_at_5, 0.95, "", higher_is_better=True)
    report.add("hybrid doc recall@1 - best single retriever", hybrid.doc_recall_at_1 - best_alone["doc_recall_at_1"],
               0.0001, "", higher_is_better=True)  # fmt: skip
    report.add("hybrid MRR@10 - best single retriever", hybrid.mrr_at_10 - best_alone["mrr_at_10"], 0.0001, "",
               higher_is_better=True)  # fmt: skip
    report.add("unanswerable detection rate", result.unanswerable_detection_rate, 0.9, "", higher_is_better=True)
    return report.print()


if __name__ == "__main__":
    sys.exit(main())
