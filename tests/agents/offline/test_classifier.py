"""The intent classifier: shipped weights match the paraphrase set and are reproduced by the training script,
training is deterministic, weights round-trip, foreign encoders get their own weights, unsure asks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agents.models.base import ModelRequest, ModelResponse
from agents.offline import HashingEncoder, OfflineModel
from agents.offline.classifier import (
    MINILM_WEIGHTS,
    IntentClassifier,
    IntentWeights,
    intents_digest,
    load_intents,
    same,
    train,
)
from agents.offline.encoder import MiniLMEncoder
from agents.protocol import CONVERSATION_KEY, ROUTE_TOOL
from tests.agents.offline.requests import meta, text_message


def test_shipped_weights_were_trained_on_the_current_paraphrase_set() -> None:
    weights = IntentWeights.load(MINILM_WEIGHTS)
    assert weights.digest == intents_digest(load_intents()), "run scripts/train_intents.py after editing intents.yaml"
    assert set(weights.labels) == set(load_intents())
    assert 0.2 <= weights.threshold < 0.95 and weights.temperature > 0


def test_training_is_deterministic_and_weights_round_trip(tmp_path: Path) -> None:
    a, b = train(HashingEncoder()), train(HashingEncoder())
    assert same(a, b, atol=1e-6)
    a.save(tmp_path / "w.npz")
    loaded = IntentWeights.load(tmp_path / "w.npz")
    assert same(a, loaded, atol=1e-6) and loaded.labels == a.labels


def test_an_encoder_that_does_not_reproduce_the_fingerprint_gets_its_own_weights() -> None:
    classifier = IntentClassifier.for_encoder(HashingEncoder())
    shipped = IntentWeights.load(MINILM_WEIGHTS)
    assert classifier.weights.coef.shape[1] == HashingEncoder().dim != shipped.coef.shape[1]
    prediction = classifier.predict(HashingEncoder().encode(["how is the summit performing in q3"])[0])
    assert abs(sum(p for _, p in prediction.ranked) - 1.0) < 1e-5


def test_a_damaged_weights_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "w.npz"
    bad.write_bytes(b"nope")
    with pytest.raises((OSError, ValueError)):
        IntentWeights.load(bad)


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_weights() -> None:
    assert same(train(MiniLMEncoder()), IntentWeights.load(MINILM_WEIGHTS))


def _supervise(model: OfflineModel, *texts: str, answers: tuple[ModelResponse, ...] = ()):  # type: ignore[no-untyped-def]
    messages = []
    for i, t in enumerate(texts):
        messages.append(text_message("user", t))
        if i < len(answers):
            messages.append(text_message("assistant", answers[i].text))
    metadata = meta("supervisor")
    if answers:  # what the last answer asked, as the graph keeps it in the thread's state
        metadata[CONVERSATION_KEY] = {"awaiting": [{"agent": None, **a} for a in answers[-1].asks]}
    return model.respond(ModelRequest(messages=messages, tools=[ROUTE_TOOL], metadata=metadata))


@pytest.mark.slow
def test_an_unsure_request_asks_which_of_two_readings_and_the_answer_picks_one(minilm_model: OfflineModel) -> None:
    c = minilm_model.router.classify("emails")
    assert not c.sure
    first = _supervise(minilm_model, "emails")
    assert not first.tool_uses and first.text.startswith("I'm not sure which you mean")
    labels = c.readings(2)
    second = _supervise(minilm_model, "emails", "the second", answers=(first,))
    (use,) = second.tool_uses
    from agents.offline.examples import INTENT_AGENT

    assert [p["agent"] for p in use.input["parts"]] == [INTENT_AGENT[labels[1]]]  # type: ignore[index]


@pytest.mark.slow
def test_no_clause_of_a_multi_part_request_is_dropped(minilm_model: OfflineModel) -> None:
    text = "Create a standard campaign 'Dune Days' tier 2 launching March 3 and what does the playbook say about tiers"
    parts = minilm_model.router.split(text)
    assert len(parts) == 2
    assert " ".join(p.request for p in parts).count("Dune Days") == 1 and "playbook" in parts[1].request
    assert all(p.agent is not None or p.intent == "unsure" for p in parts)


def test_weights_are_small() -> None:
    assert MINILM_WEIGHTS.stat().st_size < 200_000
    assert np.load(MINILM_WEIGHTS, allow_pickle=False)["coef"].dtype == np.float32
