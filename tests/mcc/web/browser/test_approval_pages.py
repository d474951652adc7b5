"""In a real browser: an approver opens one approval's page, approves it with a lower amount, and the page then shows
what changed; a delegation is added from the inbox. Screenshots of each page go to ``test-artifacts/browser/``."""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.mcc.web.browser.conftest import PASSWORD, Server

STEP_TIMEOUT_MS = 20_000


def _pending_approval(home: Path) -> str:
    """A pending approval of maya's (what the guard stores when a call is held back)."""
    from mcc.approvals_service import desk
    from mcc.settings import Settings
    from mcc.wiring import open_app

    call = {"name": "Northern Lights Summit", "type": "event", "tier": 2, "launch_date": "2027-06-01",
            "owner_id": "maya.chen", "budget_planned": {"amount": "48000", "currency": "EUR"}}  # fmt: skip
    with open_app(Settings(home=home)) as app:
        reason = "budget 48,000.00 EUR (USD 51,840.00) is over $10,000"
        a = desk(app).request("acme", "spine", "create_campaign", call, "maya.chen", "marketing-leadership", reason,
                              ["budget.leadership_approval"])  # fmt: skip
        return a.approval_id


def test_an_approver_approves_with_a_lower_amount_and_delegates(browser: Browser, web_server: Server,
                                                                artifacts: Path) -> None:  # fmt: skip
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        approval_id = pool.submit(_pending_approval, web_server.home).result()
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(web_server.url + "/login")
        page.locator("#tenant").fill("acme")
        page.locator("#user_id").fill("dana.reyes")
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()

        page.goto(f"{web_server.url}/approvals/{approval_id}")
        expect(page.locator("main")).to_contain_text("USD 51,840.00")
        expect(page.locator("#approval-status")).to_have_text("pending")
        page.screenshot(path=artifacts / "approvals-01-approval-page.png", full_page=True)

        page.get_by_label(re.compile(r"^budget_planned\.amount")).fill("30000")
        page.locator("#edit-note").fill("Trimmed to the Q2 envelope")
        page.get_by_role("button", name="Approve with these edits").click()
        expect(page).to_have_url(re.compile(r"/approvals\?done="))
        page.screenshot(path=artifacts / "approvals-02-inbox-after-edit.png", full_page=True)

        page.goto(f"{web_server.url}/approvals/{approval_id}")
        expect(page.locator("#approval-status")).to_have_text("approved")
        expect(page.locator("main")).to_contain_text("budget_planned.amount: 48000 -> 30000")
        page.screenshot(path=artifacts / "approvals-03-approved-with-edits.png", full_page=True)

        page.goto(web_server.url + "/approvals")
        page.get_by_label("Delegate (user id)").fill("maya.chen")  # not an approver: refused
        until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
        page.get_by_label("Until (UTC)").fill(until)
        page.get_by_role("button", name="Delegate").click()
        expect(page.get_by_role("alert")).to_contain_text("no group that may approve")
        page.screenshot(path=artifacts / "approvals-04-delegation-refused.png", full_page=True)
    finally:
        context.close()
