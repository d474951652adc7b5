"""Page rendering shared by every route module: the Jinja environment and ``render``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from mcc.web.security import CSRF_FIELD, csrf_token, current_principal

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


@dataclass(frozen=True, slots=True, order=True)
class NavItem:
    """A top-level navigation entry a route module declares as ``NAV`` (ordered by ``order``); with ``groups``
    it shows only to members of one of them (the route itself must still check: hiding is not refusing)."""

    order: int
    label: str
    path: str
    groups: tuple[str, ...] = ()


def build_templates() -> Jinja2Templates:
    """Templates under ``mcc/web/templates`` (autoescaped HTML)."""
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    templates.env.globals["csrf_field"] = CSRF_FIELD
    return templates


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:  # fmt: skip
    """Render ``template`` with the principal, CSRF token, navigation and the current path in its context."""
    base = {
        "principal": current_principal(request),
        "csrf_token": csrf_token(request),
        "nav": request.app.state.nav,
        "path": request.url.path,
        "htmx": is_htmx(request),
    }
    return request.app.state.templates.TemplateResponse(
        request, template, {**base, **(context or {})}, status_code=status_code, headers=headers
    )
