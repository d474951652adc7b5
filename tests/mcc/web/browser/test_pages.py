"""Every page in a real browser, at desktop and phone width: it renders, its charts draw, every control has a label,
the keyboard reaches the skip link first, nothing scrolls sideways on a phone, no script errors; a screenshot of each
goes to ``test-artifacts/browser/``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.mcc.web.browser.conftest import PASSWORD, Server

STEP_TIMEOUT_MS = 20_000

# Controls without a name a screen reader can read: no <label for>, no wrapping label, no aria-label(ledby), no title.
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby') && !el.getAttribute('title')
                && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 120))"""


TOO_WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible')
  .slice(-3).map(el => el.outerHTML.slice(0, 100) + ' ' + el.scrollWidth + '>' + el.clientWidth)"""
FIRST_FOCUSABLE = """() => {
  const all = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, [tabindex]')]
    .filter(el => el.tabIndex >= 0 && !el.disabled);
  if (all.some(el => el.tabIndex > 0)) return 'positive tabindex';
  return all.length ? (all[0].className || all[0].tagName) : 'nothing';
}"""


def _sign_in(page: Page, server: Server) -> None:
    page.goto(server.url + "/login")
    page.locator("#tenant").fill("acme")
    page.locator("#user_id").fill("dana.reyes")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def _check(page: Page, errors: list[str], name: str, artifacts: Path, width: int) -> None:
    page.screenshot(path=artifacts / f"page-{name}-{width}.png", full_page=True)  # first: a failure keeps its picture
    expect(page.locator("main#main")).to_be_visible()
    expect(page.locator("h1").first).to_be_visible()
    assert page.evaluate(UNLABELLED) == [], f"{name}: controls without a label"
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate(TOO_WIDE) if overflow > 1 else []
    assert overflow <= 1, f"{name}: scrolls sideways by {overflow}px at {width}px: {wide}"
    # focus order: the skip link comes first and nothing jumps the queue with a positive tabindex
    first = page.evaluate(FIRST_FOCUSABLE)
    assert first == "skip-link", f"{name}: the first focusable element is {first!r}, not the skip link"
    if page.evaluate("() => document.activeElement === document.body"):  # no autofocus: the keyboard proves it
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.className") == "skip-link", f"{name}: Tab order"
    assert errors == [], f"{name}: script errors {errors}"


@pytest.mark.parametrize("width", [1200, 390])
def test_every_page_renders_accessibly_at_desktop_and_phone_width(
    browser: Browser, web_server: Server, artifacts: Path, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(web_server.url + "/login")
        _check(page, errors, "login", artifacts, width)
        _sign_in(page, web_server)

        page.goto(web_server.url + "/campaigns")
        rows = page.locator("table tbody tr")
        assert rows.count() >= 12
        _check(page, errors, "campaigns", artifacts, width)
        page.goto(web_server.url + "/campaigns?tier=1")
        _check(page, errors, "campaigns-tier1", artifacts, width)

        page.goto(web_server.url + "/campaigns")
        links = [a.get_attribute("href") for a in page.locator("table tbody tr a[href^='/campaigns/']").all()]
        charts = page.locator("canvas[data-chart]")
        for href in links:  # a campaign that has run has performance charts; a planned one has none yet
            page.goto(web_server.url + str(href))
            if charts.count():
                break
        assert charts.count() >= 1, "no campaign of the demo world shows performance charts"
        # Chart.js (served by the app) drew into the canvas: its pixel buffer has a size
        expect(charts.first).to_have_attribute("height", re.compile(r"^[1-9]"))
        assert page.evaluate("() => typeof window.Chart") == "function"
        _check(page, errors, "campaign", artifacts, width)

        page.goto(web_server.url + "/audit")
        _check(page, errors, "audit", artifacts, width)
        page.goto(web_server.url + "/playbooks")
        _check(page, errors, "playbooks", artifacts, width)
        page.locator("main a[href^='/playbooks/']").first.click()
        expect(page).to_have_url(re.compile(r"/playbooks/[^/]+$"))
        assert page.locator("main [id]").count() >= 2, "sections carry anchors for citations"
        _check(page, errors, "playbook", artifacts, width)
        page.goto(web_server.url + "/approvals")
        _check(page, errors, "approvals", artifacts, width)
        page.goto(web_server.url + "/chat")
        _check(page, errors, "chat", artifacts, width)
    finally:
        context.close()
