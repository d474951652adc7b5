"""The campaign-setup task templates: chosen by type and tier from the data file, dated from the launch date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from spine.errors import ValidationError
from sync.setup_templates import TEMPLATES_FILE, choose_template, plan_tasks


@pytest.mark.parametrize(
    ("kind", "tier", "template"),
    [("event", 1, "event"), ("event", 3, "event"), ("product_launch", 1, "t1-launch"), ("standard", 2, "t2-campaign"),
     ("partner", 3, "t3-quick")],
)  # fmt: skip
def test_the_first_template_for_type_and_tier_wins(kind: str, tier: int, template: str) -> None:
    assert choose_template(kind, tier).id == template


def test_tasks_are_dated_from_the_launch_and_roles_kept() -> None:
    plan = plan_tasks(choose_template("standard", 3), dt.date(2027, 5, 3))
    tasks = [t for section in plan for t in section["tasks"]]
    assert tasks[0] == {"name": "Draft campaign brief", "role": "owner", "start": "2027-04-12", "due": "2027-04-14",
                        "minutes": 240}  # fmt: skip
    assert tasks[-1]["start"] == tasks[-1]["due"] == "2027-05-03"  # launch day


def test_a_type_without_template_names_the_type_and_the_file(tmp_path: Path) -> None:
    only_events = tmp_path / "t.yaml"
    text = TEMPLATES_FILE.read_text()
    only_events.write_text(text[: text.index("  - id: t1-launch")])
    with pytest.raises(ValidationError) as exc:
        choose_template("standard", 2, only_events)
    assert exc.value.field == "type" and "t.yaml" in (exc.value.fix or "")
