"""Handler errors become tool errors that name the argument, with a code a model can act on."""

from __future__ import annotations

import pydantic
import pytest

from connectors.asana import errors as asana
from connectors.workfront import errors as workfront
from mcp_servers.guard.errors import from_exception, from_validation
from spine.errors import ConflictError, NotFoundError


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (workfront.NotFound("project_id", "PROJ", "abc"), "[not_found] project_id: no PROJ"),
        (asana.NotFound("task_gid", "no task 123"), "[not_found] task_gid: no task 123"),
        (asana.InvalidArgument("due_on", "not a date"), "[invalid] due_on: not a date"),
        (workfront.RateLimited("slow down", retry_after=3), "[rate_limited] slow down"),
        (asana.Forbidden("no access"), "[forbidden] no access"),
        (NotFoundError("campaign", "x"), "[not_found] campaign_id: no campaign with id 'x'"),
    ],
)
def test_typed_errors_keep_field_and_code(exc: Exception, expected: str) -> None:
    assert from_exception(exc, "some_tool").render().startswith(expected)


def test_spine_errors_carry_their_fix() -> None:
    exc = ConflictError("campaign", "c-1", expected=3, actual=4)
    rendered = from_exception(exc, "t").render()
    assert rendered.startswith(f"[conflict] {exc.field}:") and f"Fix: {exc.fix}" in rendered


def test_unexpected_errors_reveal_nothing() -> None:
    rendered = from_exception(RuntimeError("password=hunter2 at /srv/db"), "t").render()
    assert rendered.startswith("[internal]") and "hunter2" not in rendered and "/srv" not in rendered


def test_validation_errors_list_every_problem_each_with_its_field() -> None:
    class Args(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid")
        name: str = pydantic.Field(min_length=3)
        tier: int = pydantic.Field(ge=1, le=3)
        budget: int

    with pytest.raises(pydantic.ValidationError) as caught:
        Args.model_validate({"name": "x", "tier": 9, "colour": "red"})
    failure = from_validation(caught.value, Args)
    text = failure.render()
    assert failure.field == "name" and text.count(":") >= 4 and "more problem" not in text
    for field in ("name", "tier", "budget", "colour"):
        assert f"{field}:" in text
    assert "4 problems" in text and "valid arguments are: budget, name, tier" in text
