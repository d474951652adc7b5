"""Question focus: the kind of fact asked for, amounts and the ranges sentences state, and question parts."""

from __future__ import annotations

from decimal import Decimal

from knowledge.focus import amount_range, amounts, focus_of, in_range, question_parts


def test_amounts_and_ranges() -> None:
    assert amounts("who approves a $40k budget, or $1.2M, or $12,500?") == [Decimal(40000), Decimal(1200000),
                                                                           Decimal(12500)]  # fmt: skip
    band = amount_range("Over $10,000 and up to $100,000 — Marketing leadership")
    assert band == (Decimal(10000), True, Decimal(100000))
    assert in_range(Decimal(40000), band) and not in_range(Decimal(10000), band) and in_range(Decimal(100000), band)
    assert not in_range(Decimal(150000), band)
    assert amount_range("Up to $10,000 — Budget owner") == (None, False, Decimal(10000))
    assert amount_range("Every commitment must be approved first.") is None


def test_focus_kinds() -> None:
    who = focus_of("Who has to sign off on a $40k campaign budget?")
    assert who.who and who.amounts == [Decimal(40000)] and not who.number
    length = focus_of("How long should a webinar run?")
    assert length.number and length.duration and length.length
    assert not focus_of("What is our brand voice?")


def test_fit_prefers_the_sentence_holding_the_asked_fact() -> None:
    who = focus_of("Who approves a $40,000 commitment?")
    right = "Over $10,000 and up to $100,000 — Marketing leadership"
    wrong_band = "Over $100,000 — VP of Marketing"
    general = "Every budget commitment must be approved before any contract is signed."
    assert who.fit(right) > who.fit(general) > who.fit(wrong_band)
    length = focus_of("How long should a webinar run?")
    assert length.fit("Length: 60 minutes in total.") > length.fit("Final slides are due five business days before.")


def test_question_parts() -> None:
    q = "For the LinkedIn ads in my campaign, what utm_medium do I use, and how much of the budget goes to LinkedIn?"
    assert question_parts(q) == ["For the LinkedIn ads in my campaign, what utm_medium do I use",
                                 "how much of the budget goes to LinkedIn"]  # fmt: skip
    assert question_parts("What is the limit and who approves it?") == ["What is the limit", "who approves it"]
    assert question_parts("Which fonts and colors do we use?") == ["Which fonts and colors do we use?"]


def test_amounts_without_a_currency_sign() -> None:
    # marketers write budgets as "75k" or "2 million" as often as "$75,000"
    assert amounts("can I sign a 75k agency contract myself?") == [Decimal(75000)]
    assert amounts("a 2 million sponsorship") == [Decimal(2000000)]
    assert amounts("we need 3 weeks and 12 assets") == []  # counts are not money
    assert amounts("send it to 5k contacts") == [Decimal(5000)]  # shorthand reads as an amount; no approver asked


def test_approval_asks_are_asks_for_an_approver() -> None:
    for q in (
        "what approval does a $250,000 event sponsorship require?",
        "which sign-off do I need for 30k of ads?",
        "does a 90k media buy need to be approved by anyone?",
        "is leadership needed to authorize 15k?",
    ):
        focus = focus_of(q)
        assert focus.who and focus.amounts, q
    assert not focus_of("what is the approval expiry window?").amounts


def test_a_self_approval_question_is_not_an_ask_for_the_approver() -> None:
    assert not focus_of("am I allowed to approve my own 25k purchase as a director?").who


def test_an_approver_question_about_an_amount_prefers_a_rule_stating_an_amount() -> None:
    ask = focus_of("who must sign off a $30,000 trade-show booth?")
    rule = "Any commitment over $10,000 requires marketing leadership approval."
    other_sign_off = "The final layout must be signed off by the design lead before print."
    assert ask.fit(rule) > ask.fit(other_sign_off)
