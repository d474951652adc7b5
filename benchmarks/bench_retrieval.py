"""Retrieval quality: BM25-only, dense-only and hybrid (doc recall@1, section recall@5, evidence recall@5, MRR@10,
nDCG@10) plus the answers themselves: the share of answerable questions whose composed answer holds every required
fact (``must_contain``), the unanswerable-refusal rate and the wrong-refusal rate (answerable questions refused).

Bars (issue "Quality and speed"): hybrid doc recall@1 >= 0.90, section recall@5 >= 0.95, evidence recall@5 >= 0.95,
and hybrid beats each retriever alone; answers with every required fact >= 0.90 (issue "Answers that answer").
Prints markdown tables; exits non-zero when a bar is missed.

The answers are also reported (no bar) on the frozen set tests/knowledge/answers_frozen.yaml (written before the
answerer changed, never tuned on) and on knowledge/eval/answers_dev.yaml (dev: the answer check is calibrated on it,
see benchmarks/calibrate_answer_check.py).

Usage: python -m benchmarks.bench_retrieval [--corpus DIR] [--qa FILE] [--unanswerable FILE] [--precision P]
                                            [--backend onnx|torch]
Corpus and QA default to ../shared/corpus (falling back to the copies shipped in the package); the unanswerable
questions default to knowledge/eval/unanswerable_dev.yaml. Held-out run:
  --qa knowledge/eval/qa_heldout.yaml --unanswerable knowledge/eval/unanswerable_heldout.yaml
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # torch backend, see bench_knowledge: no spin-waits
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import Report
from knowledge.embedding import BACKENDS, Embedder
from knowledge.evaluation import DEFAULT_UNANSWERABLE, QAItem, evaluate, format_table, load_qa
from knowledge.service import KnowledgeBase, default_playbooks_dir

ROOT = Path(__file__).resolve().parents[1]
EXTRA_SETS = {"frozen test set": ROOT / "tests/knowledge/answers_frozen.yaml",
              "answers dev set": ROOT / "knowledge/eval/answers_dev.yaml"}  # fmt: skip
SHARED = ROOT.parent / "shared" / "corpus"
DETECTION_BAR = 0.9
FALSE_REFUSAL_BAR = 0.1
COMPLETE_BAR = 0.9
ANSWER_REFUSAL_BAR = 0.75  # issue 15: at least 3 of 4 unanswerable questions refused


@dataclass
class AnswerQuality:
    """What ``KnowledgeBase.answer`` says: complete answers, refusals, and the ids of each miss."""

    answerable: int = 0
    unanswerable: int = 0
    complete: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    wrongly_refused: list[str] = field(default_factory=list)
    refused_unanswerable: list[str] = field(default_factory=list)

    def rate(self, ids: list[str], total: int) -> float:
        return round(len(ids) / total, 4) if total else 0.0


def answer_quality(kb: KnowledgeBase, items: list[QAItem]) -> AnswerQuality:
    """Answer every question; an answer is complete when it holds every ``must_contain`` string."""
    q = AnswerQuality()
    for item in items:
        answer = kb.answer(item.question)
        if not item.answerable:
            q.unanswerable += 1
            if not answer.answered:
                q.refused_unanswerable.append(item.id)
            continue
        q.answerable += 1
        text = answer.answer.lower()
        if not answer.answered:
            q.wrongly_refused.append(item.id)
        elif all(m.lower() in text for m in item.must_contain):
            q.complete.append(item.id)
        else:
            q.incomplete.append(item.id)
    return q


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Hybrid retrieval quality benchmark")
    default_corpus = SHARED / "playbooks" if (SHARED / "playbooks").is_dir() else default_playbooks_dir()
    default_qa = SHARED / "qa_dev.yaml" if (SHARED / "qa_dev.yaml").is_file() else ROOT / "knowledge/eval/qa_dev.yaml"
    parser.add_argument("--corpus", type=Path, default=default_corpus)
    parser.add_argument("--qa", type=Path, default=default_qa)
    parser.add_argument("--unanswerable", type=Path, default=DEFAULT_UNANSWERABLE)
    parser.add_argument("--precision", default="auto", help="embedding precision: auto, fp32, bf16 (torch) or int8")
    parser.add_argument("--backend", choices=BACKENDS, default=os.environ.get("BENCH_EMBEDDING_BACKEND", "onnx"),
                        help="embedding backend (default onnx, or $BENCH_EMBEDDING_BACKEND)")  # fmt: skip
    args = parser.parse_args(argv)
    embedder = Embedder(precision=args.precision, backend=args.backend)
    items = load_qa(args.qa) + (load_qa(args.unanswerable) if args.unanswerable.is_file() else [])
    with tempfile.TemporaryDirectory(prefix="mcc-bench-") as tmp:
        kb = KnowledgeBase(persist_dir=tmp, embedder=embedder)
        kb.ingest([args.corpus])
        result = evaluate(kb, items)
        quality = answer_quality(kb, items)
        extra = {name: answer_quality(kb, load_qa(path)) for name, path in EXTRA_SETS.items() if path.is_file()}
    print(f"\ncorpus: {args.corpus}  qa: {args.qa}  unanswerable: {args.unanswerable}  chunks: {result.chunks}")
    print(f"embedding backend {args.backend}, precision {embedder.effective_precision}\n")
    print(format_table(result))
    print(f"\nmisses (section not in top 5): { {m.mode: m.misses for m in result.modes} }")
    print(f"unanswerable questions answered: {result.undetected}; answerable refused: {result.wrongly_refused}")
    complete = quality.rate(quality.complete, quality.answerable)
    print(f"answers with every required fact: {len(quality.complete)}/{quality.answerable} ({complete:.2f}); "
          f"unanswerable refused {len(quality.refused_unanswerable)}/{quality.unanswerable} "
          f"({quality.rate(quality.refused_unanswerable, quality.unanswerable):.2f}); wrongly refused "
          f"{len(quality.wrongly_refused)}/{quality.answerable} "
          f"({quality.rate(quality.wrongly_refused, quality.answerable):.2f}); "
          f"incomplete: {quality.incomplete}")  # fmt: skip
    for name, q in extra.items():
        print(f"{name}: every required fact {len(q.complete)}/{q.answerable}; unanswerable refused "
              f"{len(q.refused_unanswerable)}/{q.unanswerable}; "
              f"wrongly refused {len(q.wrongly_refused)}/{q.answerable};"
              f" incomplete: {q.incomplete}")  # fmt: skip
    modes = {m.mode: m for m in result.modes}
    hybrid = modes["hybrid"]
    best_alone = {
        f: max(getattr(modes["bm25"], f), getattr(modes["dense"], f))
        for f in ("doc_recall_at_1", "section_recall_at_5", "evidence_recall_at_5", "mrr_at_10")
    }
    report = Report(f"Hybrid retrieval quality ({args.qa.name})")
    report.add("hybrid doc recall@1", hybrid.doc_recall_at_1, 0.90, "", higher_is_better=True)
    report.add("hybrid section recall@5", hybrid.section_recall_at_5, 0.95, "", higher_is_better=True)
    report.add("hybrid evidence recall@5", hybrid.evidence_recall_at_5, 0.95, "", higher_is_better=True)
    report.add("hybrid doc recall@1 - best single retriever", hybrid.doc_recall_at_1 - best_alone["doc_recall_at_1"],
               0.0001, "", higher_is_better=True)  # fmt: skip
    report.add("hybrid MRR@10 - best single retriever", hybrid.mrr_at_10 - best_alone["mrr_at_10"], 0.0001, "",
               higher_is_better=True)  # fmt: skip
    report.add("unanswerable detection rate", result.unanswerable_detection_rate, DETECTION_BAR, "",
               higher_is_better=True)  # fmt: skip
    report.add("answerable wrongly refused", result.false_unanswerable_rate, FALSE_REFUSAL_BAR, "")
    report.add("answers with every required fact", complete, COMPLETE_BAR, "", higher_is_better=True)
    report.add("answers: unanswerable refused", quality.rate(quality.refused_unanswerable, quality.unanswerable),
               ANSWER_REFUSAL_BAR, "", higher_is_better=True)  # fmt: skip
    report.add("answers: answerable wrongly refused", quality.rate(quality.wrongly_refused, quality.answerable),
               FALSE_REFUSAL_BAR, "")  # fmt: skip
    return report.print()


if __name__ == "__main__":
    sys.exit(main())
