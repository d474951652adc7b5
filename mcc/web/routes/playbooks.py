"""Playbook pages: the shipped playbooks, each rendered with anchored sections (no nav entry: chat links here)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response

import knowledge
from mcc.web.playbooks import DOC_ID, PlaybookCache, playbook_files
from mcc.web.rendering import NavItem, render
from mcc.web.security import WebPrincipal, signed_in
from mcc.wiring import App
from spine.errors import NotFoundError

router = APIRouter()
NAV = NavItem(50, "Playbooks", "/playbooks")


def setup(web: FastAPI, app: App) -> None:
    web.state.playbooks = PlaybookCache()


def _files() -> dict[str, Path]:
    # knowledge.service.default_playbooks_dir names this folder; importing that module loads the vector store.
    return playbook_files(Path(knowledge.__file__).resolve().parent / "playbooks")


@router.get("/playbooks")
def playbooks(request: Request, principal: WebPrincipal = Depends(signed_in)) -> Response:
    cache = request.app.state.playbooks
    docs = [cache.get(path) for path in _files().values()]
    return render(request, "playbooks/index.html", {"title": "Playbooks", "docs": docs})


@router.get("/playbooks/{doc_id}")
def playbook(request: Request, doc_id: str, principal: WebPrincipal = Depends(signed_in)) -> Response:
    files = _files() if DOC_ID.match(doc_id) else {}
    if doc_id not in files:
        raise NotFoundError("playbook", doc_id, "doc_id")
    doc = request.app.state.playbooks.get(files[doc_id])
    return render(request, "playbooks/page.html", {"title": doc.title, "doc": doc})
