"""The intent classifier: multinomial logistic regression over sentence embeddings, temperature-calibrated, with an
explicit *unsure* outcome (numpy at run time; scikit-learn only to train).

Weights are per encoder. The MiniLM weights ship in ``data/intents-minilm.npz`` (``scripts/train_intents.py``
writes them from ``data/intents.yaml``); they carry a fingerprint (the encoder's vectors for a few probe texts) and
are used only when the encoder reproduces it. Any other encoder (the HashingEncoder of fast tests, a different
model) is trained at start-up from the same paraphrase set with the same deterministic procedure.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from agents.offline.encoder import TextEncoder

DATA_DIR = Path(__file__).parent / "data"
INTENTS_FILE = DATA_DIR / "intents.yaml"
MINILM_WEIGHTS = DATA_DIR / "intents-minilm.npz"
PROBES = ("create a campaign", "how is the summit performing", "what does the playbook say")
SEED = 20261207
_C = 10.0
_MAX_ITER = 2000
_FOLDS = 4
_TARGET_PRECISION = 0.85  # confident out-of-fold answers at least this precise; the rest ask (one turn) instead
# (0.9 asked on about 6 % of fresh requests for 1 fewer confident mistake in 72; a question costs a turn)


_QUOTED_RE = re.compile(r"\"[^\"]*\"|“[^”]*”|‘[^’]*’|(?<![\w])'[^']*'(?![\w])")
# two or more Title Case / numeric tokens not at the very start: a proper name ("the Q1 Cloud Platform Launch")
_PROPER_RE = re.compile(r"(?<=\S\s)(?:[A-Z0-9][\w&.-]*\s+)+[A-Z0-9][\w&.-]*")

# the same at the very start when a verb follows it as its subject ("Customer Summit 2026 needs a task ..."); a
# leading "Compare X" keeps its verb
_LEADING_PROPER_RE = re.compile(r"^(?:[A-Z0-9][\w&.-]*\s+)+[A-Z0-9][\w&.-]*(?=\s+(?:needs?|has|have|is|are|was|were|"
                                r"should|must|could|will|requires?|got|gets)\b)")  # fmt: skip


def normalise(text: str) -> str:
    """What the classifier reads: quoted and proper names become "X" (a name says nothing about the intent and
    its words mislead: "Launch" in a campaign's name is no request to launch one)."""
    text = _PROPER_RE.sub("X", _QUOTED_RE.sub(" X ", text)).strip()
    return _LEADING_PROPER_RE.sub("X", text)


def load_intents(path: Path = INTENTS_FILE) -> dict[str, list[str]]:
    """The labelled paraphrases: intent -> phrasings (order kept)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, list) and v for v in data.values()):
        raise ValueError(f"{path}: expected a mapping of intent -> non-empty list of phrasings")
    return {str(k): [str(t) for t in v] for k, v in data.items()}


def intents_digest(intents: dict[str, list[str]]) -> str:
    """A short hash of the training set (weights name the data they were trained on)."""
    return hashlib.sha256(json.dumps(intents, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class IntentWeights:
    """A trained classifier: labels, coefficients (labels x dim), biases, temperature, the confidence threshold
    below which the answer is *unsure*, the encoder fingerprint and the training data's digest."""

    labels: tuple[str, ...]
    coef: np.ndarray
    bias: np.ndarray
    temperature: float
    threshold: float
    fingerprint: np.ndarray
    digest: str

    def save(self, path: Path) -> None:
        """Write the weights as a small .npz (float32; no pickle)."""
        arrays = {"labels": np.array(self.labels), "coef": self.coef.astype(np.float32),
                  "bias": self.bias.astype(np.float32), "temperature": np.float64(self.temperature),
                  "threshold": np.float64(self.threshold), "fingerprint": self.fingerprint.astype(np.float32),
                  "digest": np.array(self.digest)}  # fmt: skip
        with open(path, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path: Path) -> IntentWeights:
        with np.load(path, allow_pickle=False) as z:
            return cls(tuple(str(x) for x in z["labels"]), z["coef"].astype(np.float32), z["bias"].astype(np.float32),
                       float(z["temperature"]), float(z["threshold"]), z["fingerprint"].astype(np.float32),
                       str(z["digest"]))  # fmt: skip


def same(a: IntentWeights, b: IntentWeights, atol: float = 1e-3) -> bool:
    """Whether two trainings agree (labels and digest exactly; numbers up to float noise between BLAS builds)."""
    same_shape = a.labels == b.labels and a.digest == b.digest and a.coef.shape == b.coef.shape
    close = bool(np.allclose(a.coef, b.coef, atol=atol)) and bool(np.allclose(a.bias, b.bias, atol=atol))
    calibrated = abs(a.temperature - b.temperature) <= 0.05 * a.temperature and abs(a.threshold - b.threshold) <= 0.03
    return same_shape and close and calibrated


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def fit(x: np.ndarray, y: np.ndarray, n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """L2-regularised multinomial logistic regression (scikit-learn's deterministic lbfgs; training time only)."""
    from sklearn.linear_model import LogisticRegression  # heavy import: only when weights must be trained
    from threadpoolctl import threadpool_limits

    model = LogisticRegression(C=_C, max_iter=_MAX_ITER, tol=1e-6)
    with threadpool_limits(1):  # BLAS threads spin against each other on a busy small machine: one is faster
        model.fit(x.astype(np.float64), y)
    coef, bias = np.zeros((n_labels, x.shape[1])), np.full(n_labels, -1e4)  # an absent label is never predicted
    coef[model.classes_], bias[model.classes_] = model.coef_, model.intercept_
    return coef, bias


def _folds(y: np.ndarray) -> list[np.ndarray]:
    """Stratified, seeded folds: every label spread evenly over _FOLDS row sets."""
    rng = np.random.default_rng(SEED)
    folds: list[list[int]] = [[] for _ in range(_FOLDS)]
    for label in np.unique(y):
        for i, row in enumerate(rng.permutation(np.flatnonzero(y == label))):
            folds[i % _FOLDS].append(int(row))
    return [np.array(sorted(f)) for f in folds]


def _temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises the calibration split's negative log-likelihood (grid search)."""
    best, best_nll = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.05), np.log(20.0), 120)):
        p = _softmax(logits / t)[np.arange(len(y)), y]
        nll = float(-np.log(np.clip(p, 1e-12, None)).mean())
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


def _threshold(probs: np.ndarray, y: np.ndarray) -> float:
    """The lowest top-probability at which out-of-fold answers are still _TARGET_PRECISION precise."""
    top, pred = probs.max(axis=1), probs.argmax(axis=1)
    for t in np.round(np.arange(0.2, 0.9, 0.025), 3):
        kept = top >= t
        if kept.any() and float((pred[kept] == y[kept]).mean()) >= _TARGET_PRECISION:
            return float(t)
    return 0.9


def train(encoder: TextEncoder, intents: dict[str, list[str]] | None = None) -> IntentWeights:
    """Calibrate temperature and the unsure threshold on out-of-fold predictions (stratified k-fold), then fit on
    every phrasing."""
    intents = intents or load_intents()
    labels = tuple(intents)
    texts = [t for label in labels for t in intents[label]]
    y = np.array([i for i, label in enumerate(labels) for _ in intents[label]])
    x = np.asarray(encoder.encode([normalise(t).lower() for t in texts]), dtype=np.float64)
    logits = np.zeros((len(y), len(labels)))
    for fold in _folds(y):
        rest = np.setdiff1d(np.arange(len(y)), fold)
        w, b = fit(x[rest], y[rest], len(labels))
        logits[fold] = x[fold] @ w.T + b
    temperature = _temperature(logits, y)
    threshold = _threshold(_softmax(logits / temperature), y)
    w, b = fit(x, y, len(labels))
    fingerprint = np.asarray(encoder.encode(list(PROBES)), dtype=np.float32)
    return IntentWeights(labels, w.astype(np.float32), b.astype(np.float32), temperature, threshold, fingerprint,
                         intents_digest(intents))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Prediction:
    """Calibrated probabilities per intent, best first; ``sure`` when the best clears the threshold."""

    ranked: tuple[tuple[str, float], ...]
    sure: bool

    @property
    def intent(self) -> str:
        return self.ranked[0][0]

    @property
    def probability(self) -> float:
        return self.ranked[0][1]


class IntentClassifier:
    """Predicts intents from embeddings with ``weights`` (see ``for_encoder`` for choosing them)."""

    def __init__(self, weights: IntentWeights) -> None:
        self.weights = weights

    @classmethod
    def for_encoder(cls, encoder: TextEncoder, shipped: Path = MINILM_WEIGHTS) -> IntentClassifier:
        """The shipped weights when ``encoder`` reproduces their fingerprint and they match the paraphrase set;
        otherwise weights trained now for this encoder (deterministic, same procedure as the training script)."""
        intents = load_intents()
        if shipped.is_file():
            weights = IntentWeights.load(shipped)
            probe = np.asarray(encoder.encode(list(PROBES)), dtype=np.float32)
            same = probe.shape == weights.fingerprint.shape and float(
                (probe * weights.fingerprint).sum(axis=1).min()) >= 0.99  # fmt: skip
            if same and weights.digest == intents_digest(intents):
                return cls(weights)
        return cls(train(encoder, intents))

    def predict(self, vector: np.ndarray) -> Prediction:
        w = self.weights
        probs = _softmax((w.coef @ vector.astype(np.float32) + w.bias) / w.temperature)
        order = np.argsort(-probs, kind="stable")
        ranked = tuple((w.labels[i], float(probs[i])) for i in order)
        return Prediction(ranked, ranked[0][1] >= w.threshold)
