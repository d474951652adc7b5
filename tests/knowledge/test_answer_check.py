"""Answers that answer: the fact asked for (role, duration, amount range, system), the approver of an amount combined
from another section, the calibrated answer check (no model), and the frozen question set with the real model."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from knowledge.answer_check import FEATURES, AnswerModel, CheckFeatures, content_words, coverage_of
from knowledge.evaluation import load_qa
from knowledge.focus import amount_range, focus_of, specificity
from knowledge.grounding import NOT_FOUND, compose_answer, with_amount_hits
from knowledge.service import KnowledgeBase
from tests.knowledge.conftest import HashingEmbedder
from tests.knowledge.test_grounding import APPROVALS, hit

FROZEN = Path(__file__).resolve().parent / "answers_frozen.yaml"


def test_the_kind_of_fact_asked_for_is_read_from_the_question() -> None:
    assert focus_of("Which system should an executive dinner be tracked in?").system
    assert focus_of("where do we track webinars").system
    assert not focus_of("What is the hex code for the navy colour?").system
    over = focus_of("who approves commitments over $10k?")
    assert over.who and over.amounts == [Decimal(10_001)]  # above $10,000, not $10,000 itself
    assert focus_of("who signs off on a $7,500 purchase?").amounts == [Decimal(7_500)]


def test_the_tightest_range_holding_an_amount_is_preferred() -> None:
    wide, tight = amount_range("Budget over $10,000 needs approval."), amount_range("Over $100,000: the VP approves.")
    assert wide is not None and tight is not None
    assert specificity(Decimal(250_000), tight) > specificity(Decimal(250_000), wide)
    focus = focus_of("Who approves a $250k media buy?")
    assert focus.fit("Over $100,000: the VP of Marketing approves.") > focus.fit("Budget over $10,000 needs approval.")


def test_a_missing_kind_of_fact_is_named_and_holds_checks_it() -> None:
    focus = focus_of("Who approves a $60,000 contract?")
    missing = focus.missing_in(["A purchase order is required for all vendor spend over $2,500."])
    assert missing.who and missing.amounts == [Decimal(60_000)]
    assert missing.holds("Over $10,000 and up to $100,000: Marketing leadership approves.")
    assert not missing.holds("Up to $10,000: the budget owner approves.")  # a role, but not for this amount
    assert not focus.missing_in(["Commitments over $10,000 and up to $100,000 need marketing leadership approval."])


def test_the_approver_of_an_amount_joins_an_answer_that_lacks_it() -> None:
    card = hit("A purchase order is required for all vendor spend over $2,500. Invoices quote the PO number.",
               doc_id="budget-approval-and-finance-policy", path=("Purchasing", "Purchase orders"), rank=1)  # fmt: skip
    answer = compose_answer("Who approves a $60,000 purchase order?", [card, APPROVALS], embed=HashingEmbedder().encode)
    assert answer.answered and "Marketing leadership" in answer.answer, answer.answer


def test_another_sign_off_rule_gives_way_to_the_rule_for_the_amount() -> None:
    proof = hit("The print proof must be signed off by the brand lead and the campaign owner before it ships. "
                "Banners also need sign-off from the web team.", doc_id="creative-review-and-approval",
                path=("Review", "Sign-off"), rank=1)  # fmt: skip
    answer = compose_answer("who needs to sign off 75k of spend?", [proof, APPROVALS], embed=HashingEmbedder().encode)
    assert answer.answered and answer.answer.startswith("Commitment value: Over $10,000 and up to $100,000")
    assert "print proof" not in answer.answer and "Marketing leadership" in answer.answer


def test_a_wider_search_adds_the_section_whose_range_holds_the_amount() -> None:
    other = hit("Feedback is due within two business days.", doc_id="creative-review-and-approval", rank=1)
    pool = with_amount_hits([other], [other, APPROVALS], focus_of("whose approval does a $60,000 quote need?"))
    assert [h.doc_id for h in pool] == ["creative-review-and-approval", "budget-approval-and-finance-policy"]
    assert with_amount_hits([APPROVALS], [other], focus_of("who approves $60k?")) == [APPROVALS]


def test_content_words_leave_out_function_words_numbers_and_the_word_after_how() -> None:
    words = [w for w, _ in content_words("How quickly must I commit $250k to a laptop order for Northwind Summit?")]
    assert "quickly" not in words and "laptop" in words and "summit" in words
    assert not any(w in {"k", "must", "to", "a"} for w in words)


def test_coverage_counts_held_words_and_flags_words_nobody_uses() -> None:
    words_model = _words()
    vocabulary = {"maximum", "banner", "file", "size"}
    held, worst, absent = coverage_of("maximum banner file size", ["Display banners: 150 KB maximum file size."],
                                      "Display", None, words_model, vocabulary=vocabulary)  # fmt: skip
    assert held == pytest.approx(1.0) and worst == pytest.approx(1.0) and absent == 0.0
    _, _, absent = coverage_of("laptop refresh policy", ["Display banners: 150 KB."], "", None, words_model,
                               vocabulary={"display", "banner"}, pool="Display banners")  # fmt: skip
    assert absent == pytest.approx(1.0)


def test_the_answer_model_is_monotone_in_its_evidence() -> None:
    model = AnswerModel()
    base = CheckFeatures(top_dense=0.6, best_sim=0.6, coverage=0.8, worst_rare=0.7, absent=0.0, type_fit=1.0)
    weak = CheckFeatures(top_dense=0.6, best_sim=0.3, coverage=0.3, worst_rare=0.3, absent=0.6, type_fit=1.0)
    assert model.probability(base) > model.probability(weak)
    assert model.answers(base) and not model.answers(weak)
    assert len(model.weights) == len(FEATURES) == len(model.mean)


def test_the_answer_check_refuses_when_the_sentences_do_not_hold_the_asked_thing() -> None:
    specs = hit("Roadshow: $40,000 maximum per city stop.", dense=0.6)  # on topic: the first verdict lets it through
    vocabulary = {"roadshow", "maximum", "citi", "stop", "staff", "appli"}
    refused = compose_answer("What laptop refresh cycle applies to roadshow staff?", [specs],
                             embed=HashingEmbedder().encode, model=AnswerModel(), vocabulary=vocabulary,
                             words=_words())  # fmt: skip
    assert not refused.answered and refused.answer == NOT_FOUND
    assert refused.check is not None and refused.check["absent"] > 0.3, refused.check
    answered = compose_answer("What is the maximum per roadshow stop?", [specs], embed=HashingEmbedder().encode,
                              model=AnswerModel(), vocabulary=vocabulary, words=_words())  # fmt: skip
    assert answered.answered and "$40,000" in answered.answer, answered.check


def _words():
    from knowledge.answerability import WordVectors

    return WordVectors(HashingEmbedder().encode)


@pytest.mark.slow
def test_frozen_questions_meet_the_bars(dev_kb: KnowledgeBase) -> None:
    """tests/knowledge/answers_frozen.yaml was written before the answerer changed and is never tuned on."""
    items = load_qa(FROZEN)
    complete, refused, wrong = [], [], []
    for item in items:
        answer = dev_kb.answer(item.question)
        if not item.answerable:
            refused += [item.id] if not answer.answered else []
            continue
        wrong += [item.id] if not answer.answered else []
        text = answer.answer.lower()
        complete += [item.id] if answer.answered and all(m.lower() in text for m in item.must_contain) else []
    answerable = [i for i in items if i.answerable]
    assert len(complete) >= 10 and len(wrong) <= 1, (complete, wrong)  # measured 10/12, 0 refused
    assert len(refused) >= 3, refused  # measured 3/4
    assert np.isfinite(len(answerable))
