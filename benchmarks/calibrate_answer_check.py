"""Fit the answer check (knowledge/answer_check.py) on the dev questions and choose its threshold by leave-one-out
cross-validation; prints the constants to paste into ``knowledge/answer_check.py`` and the cross-validated rates.

Only dev sets are used (knowledge/eval/qa_dev.yaml, qa_dev_extra.yaml, answers_dev.yaml, unanswerable_dev.yaml);
the held-out sets and tests/knowledge/answers_frozen.yaml are never seen here. Deterministic (no sampling).

Usage: python -m benchmarks.calibrate_answer_check [--corpus DIR] [--persist DIR] [--max-wrong-refusal 0.05]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from knowledge.answer_check import FEATURES, AnswerModel
from knowledge.embedding import Embedder
from knowledge.evaluation import QAItem, load_qa
from knowledge.service import KnowledgeBase, default_playbooks_dir

ROOT = Path(__file__).resolve().parents[1]
DEV_SETS = ("qa_dev.yaml", "qa_dev_extra.yaml", "answers_dev.yaml", "unanswerable_dev.yaml")
C = 1.0  # L2 strength: few examples, keep the weights small


def collect(kb: KnowledgeBase, items: list[QAItem]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Features, labels (1 = answerable) and whether the first answerability verdict refused, per question."""
    xs, ys, gated, ids = [], [], [], []
    for item in items:
        answer = kb.answer(item.question, gate=False)  # every question's signals, also those refused early
        if answer.check is None:  # nothing retrieved
            continue
        xs.append([answer.check[f] for f in FEATURES])
        ys.append(1 if item.answerable else 0)
        gated.append(bool(answer.check.get("gated")))
        ids.append(item.id)
    return np.array(xs), np.array(ys), np.array(gated), ids


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, LogisticRegression]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale < 1e-6, 1.0, scale)
    model = LogisticRegression(C=C, class_weight="balanced").fit((x - mean) / scale, y)
    return mean, scale, model


def leave_one_out(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Out-of-fold probability of each question (fitted without it)."""
    out = np.zeros(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        mean, scale, model = fit(x[keep], y[keep])
        out[i] = model.predict_proba(((x[i] - mean) / scale)[None, :])[0, 1]
    return out


def choose_threshold(
    p: np.ndarray, y: np.ndarray, gated: np.ndarray, max_wrong_refusal: float
) -> tuple[float, float, float]:
    """(threshold, answerable refused, unanswerable refused) of the whole answerer (first verdict, then the check):
    the most unanswerable refused while at most ``max_wrong_refusal`` of the answerable ones are; lowest such."""
    best = (0.0, 0.0, 0.0)
    for t in np.round(np.arange(0.0, 0.951, 0.01), 2):  # 0: the check never refuses
        refused = gated | (p < t)
        wrong = float(np.mean(refused[y == 1])) if (y == 1).any() else 0.0
        caught = float(np.mean(refused[y == 0])) if (y == 0).any() else 0.0
        if wrong <= max_wrong_refusal and (caught > best[2] or t == 0.0):
            best = (float(t), wrong, caught)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=default_playbooks_dir())
    parser.add_argument("--persist", type=Path, default=None, help="reuse an index directory (default: a temp dir)")
    parser.add_argument("--max-wrong-refusal", type=float, default=0.05)
    parser.add_argument("--reaching-only", action="store_true", help="fit only on questions past the first verdict")
    parser.add_argument("--dump", type=Path, default=None, help="save the features (npz) for inspection")
    args = parser.parse_args(argv)
    items = [i for name in DEV_SETS for i in load_qa(ROOT / "knowledge" / "eval" / name)]
    with tempfile.TemporaryDirectory(prefix="mcc-calibrate-") as tmp:
        persist = args.persist or Path(tmp)
        os.makedirs(persist, exist_ok=True)
        kb = KnowledgeBase(persist_dir=persist, embedder=Embedder(), answer_model=AnswerModel(threshold=0.0))
        kb.ingest([args.corpus])
        x, y, gated, ids = collect(kb, items)
    if args.dump:
        np.savez(args.dump, x=x, y=y, gated=gated, ids=np.array(ids))
    if args.reaching_only:  # fit on the questions the check actually judges (the first verdict let them through)
        x, y, gated, ids = x[~gated], y[~gated], gated[~gated], [i for i, g in zip(ids, gated, strict=True) if not g]
    p = leave_one_out(x, y)
    threshold, wrong, caught = choose_threshold(p, y, gated, args.max_wrong_refusal)
    mean, scale, model = fit(x, y)
    print(f"dev questions: {len(y)} ({int(y.sum())} answerable, {int((y == 0).sum())} unanswerable); the first verdict "
          f"refuses {int(gated[y == 0].sum())} unanswerable and {int(gated[y == 1].sum())} answerable")  # fmt: skip
    print(f"leave-one-out at threshold {threshold}: answerable refused {wrong:.3f}, unanswerable refused {caught:.3f}")
    refused = gated | (p < threshold)
    print("out-of-fold misses:", [i for i, r, yi in zip(ids, refused, y, strict=True) if r == bool(yi)])
    fmt = lambda v: "(" + ", ".join(f"{float(a):.4f}" for a in v) + ")"  # noqa: E731
    print(f"MEAN = {fmt(mean)}\nSCALE = {fmt(scale)}\nWEIGHTS = {fmt(model.coef_[0])}")
    print(f"BIAS = {float(model.intercept_[0]):.4f}\nTHRESHOLD = {threshold}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
