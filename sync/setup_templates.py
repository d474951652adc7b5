"""The task templates of the campaign-creation workflow (``setup_templates.yaml``): which sections and tasks a
campaign of a given type and tier starts with, and when each task is due relative to the launch date."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from spine.errors import ValidationError

TEMPLATES_FILE = Path(__file__).with_name("setup_templates.yaml")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TemplateTask(_Model):
    name: str = Field(min_length=1, max_length=60)
    role: str = Field(min_length=1, max_length=64, description="owner, or a directory group")
    start: int = Field(ge=-400, le=400, description="days relative to the launch date")
    days: int = Field(ge=1, le=365)
    hours: int = Field(ge=0, le=1000)


class TemplateSection(_Model):
    name: str = Field(min_length=1, max_length=60)
    tasks: list[TemplateTask] = Field(min_length=1)


class Template(_Model):
    id: str
    types: list[str] = Field(min_length=1)
    tiers: list[int] = Field(min_length=1)
    workfront_template: str | None = None
    sections: list[TemplateSection] = Field(min_length=1)

    def matches(self, campaign_type: str, tier: int) -> bool:
        return ("*" in self.types or campaign_type in self.types) and tier in self.tiers


class TemplateFile(_Model):
    templates: list[Template] = Field(min_length=1)


@cache
def _load(path: Path) -> TemplateFile:
    return TemplateFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def choose_template(campaign_type: str, tier: int, path: Path = TEMPLATES_FILE) -> Template:
    """The first template for ``campaign_type`` and ``tier``; a ValidationError naming the type when none fits."""
    for template in _load(path).templates:
        if template.matches(campaign_type, tier):
            return template
    raise ValidationError("type", f"no task template for type {campaign_type!r} tier {tier}",
                          f"add one to {path.name}")  # fmt: skip


def plan_tasks(template: Template, launch: dt.date) -> list[dict[str, Any]]:
    """The template's sections with dated tasks (ISO dates), in order; what the workflow records and creates."""
    return [
        {
            "name": section.name,
            "tasks": [
                {
                    "name": t.name,
                    "role": t.role,
                    "start": (launch + dt.timedelta(days=t.start)).isoformat(),
                    "due": (launch + dt.timedelta(days=t.start + t.days - 1)).isoformat(),
                    "minutes": t.hours * 60,
                }
                for t in section.tasks
            ],
        }
        for section in template.sections
    ]
