"""Reply checks ignore text quoted from the user, so a reply cannot pass on the echo of the request."""

from __future__ import annotations

from evals.matchers import text_matches
from evals.scoring import Scope, strip_user_echo

REQUEST = "Create a new campaign called 'Autumn Push' with a budget and launch date"


def test_an_echoed_request_is_removed_before_checks() -> None:
    reply = f'I need the tier before I can create it.\n\n_Re: "{REQUEST}"_'
    stripped = strip_user_echo(reply, [REQUEST])
    assert "launch date" not in stripped and "tier" in stripped
    scope = Scope("case", [], [], [], [reply], False, [], [], user_texts=[REQUEST])
    assert not text_matches("budget", scope.reply)  # the only "budget" was the user's
    assert text_matches("tier", scope.reply)


def test_quoted_whole_and_truncated_messages_are_removed_short_answers_stay() -> None:
    assert "Autumn" not in strip_user_echo(f"You asked “{REQUEST}”. Done.", [REQUEST])
    assert "Autumn" not in strip_user_echo('About "Create a new campaign called …": which tier?', [REQUEST])
    kept = strip_user_echo("Assigned the task to Priya Natarajan.", ["Priya Natarajan"])
    assert "Priya Natarajan" in kept  # a two-word answer is content, not an echo
    own_words = strip_user_echo("Created the campaign Autumn Push.", [REQUEST])
    assert "Autumn Push" in own_words  # naming what the user named is fine; only quoting the request is not
