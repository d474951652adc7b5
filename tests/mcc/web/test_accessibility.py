"""Static accessibility checks of every page: language, viewport, skip link, labelled controls, table headers."""

from __future__ import annotations

import re

from mcc.wiring import App
from spine.repositories import open_store

SQLITE_ONLY = True  # see conftest.pytest_collection_modifyitems


def _pages(app: App) -> list[str]:
    with open_store(app.sessions, "acme") as store:
        cid = store.campaigns.find_by_name("Q1 Cloud Platform Launch")[0].id
    return ["/campaigns", f"/campaigns/{cid}", "/audit", "/playbooks", "/playbooks/tier-1-campaign-playbook"]


def _check(html: str, path: str) -> None:
    assert '<html lang="en">' in html and 'name="viewport"' in html, path
    assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html, path
    labels = set(re.findall(r'<label for="([^"]+)"', html))
    for tag, attrs in re.findall(r"<(input|select|textarea)\b([^>]*)>", html):
        if 'type="hidden"' in attrs:
            continue
        found = re.search(r'\bid="([^"]+)"', attrs)
        assert found and found.group(1) in labels, f"{path}: unlabelled <{tag}{attrs}>"
    for table in re.findall(r"<table>(.*?)</table>", html, re.S):
        assert "<th" in table, f"{path}: a table without header cells"


def test_every_page_has_landmarks_and_labelled_controls(signed_in, web_client, demo_app: App) -> None:  # type: ignore[no-untyped-def]
    _check(web_client().get("/login").text, "/login")
    client = signed_in("dana.reyes")
    for path in _pages(demo_app):
        page = client.get(path)
        assert page.status_code == 200, path
        _check(page.text, path)
        assert 'aria-label="Main"' in page.text  # the navigation is a named landmark


def test_stylesheet_keeps_a_visible_focus_and_fits_a_phone(web_client) -> None:  # type: ignore[no-untyped-def]
    css = web_client().get("/static/app.css").text
    assert ":focus-visible" in css and "outline: 3px solid" in css
    assert "@media (max-width: 40rem)" in css and "overflow-x: auto" in css
