"""End to end in a real browser: a campaign manager asks for a $25k campaign in the chat and confirms the proposal
with its button; the approval shows pending inline; an approver, signed in in a second browser context, approves it
from the inbox; the manager's page shows the campaign created without a reload. A screenshot of every page is saved
under ``test-artifacts/browser/``."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.mcc.web.browser.conftest import PASSWORD, Server

STEP_TIMEOUT_MS = 20_000  # one step of a loaded CI machine; the whole test takes seconds when it is quiet
RESUME_TIMEOUT_MS = 60_000  # the approved call creates the campaign and its Workfront project


def sign_in(page: Page, server: Server, user: str) -> None:
    page.goto(server.url + "/login")
    page.locator("#tenant").fill("acme")
    page.locator("#user_id").fill(user)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_campaign_manager_asks_approver_approves_and_the_chat_continues_live(
    browser: Browser, web_server: Server, artifacts: Path
) -> None:
    expect.set_options(timeout=STEP_TIMEOUT_MS)
    manager = browser.new_context(viewport={"width": 1200, "height": 900})
    approver = browser.new_context(viewport={"width": 390, "height": 844})  # a phone-width approver
    manager.set_default_timeout(STEP_TIMEOUT_MS)
    approver.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        page = manager.new_page()
        sign_in(page, web_server, "maya.chen")
        expect(page).to_have_url(re.compile(r"/chat$"))
        page.screenshot(path=artifacts / "01-manager-chat-list.png", full_page=True)

        page.get_by_label("Message").fill(
            "Create a tier 2 product launch campaign called Aurora Launch with a $25,000 budget launching on 2027-03-01"
        )
        page.get_by_role("button", name="Send").click()
        expect(page).to_have_url(re.compile(r"/chat/[0-9a-f]{32}$"))
        thread_url = page.url
        yes = page.get_by_role("button", name="Yes, go ahead")
        expect(yes).to_be_visible()  # the streamed proposal ends with its buttons
        expect(page.locator(".turn").last).to_contain_text("Aurora Launch")
        page.screenshot(path=artifacts / "02-manager-proposal.png", full_page=True)

        yes.click()
        card = page.locator(".approval-card").last
        expect(card.locator(".approval-status")).to_have_text("pending")
        expect(page.locator(".activity").last).to_contain_text("needs approval")
        approval_id = (card.get_attribute("id") or "").removeprefix("approval-")
        assert re.fullmatch(r"[0-9a-f-]{36}", approval_id), approval_id
        page.screenshot(path=artifacts / "03-manager-approval-pending.png", full_page=True)

        inbox = approver.new_page()
        sign_in(inbox, web_server, "dana.reyes")
        inbox.goto(web_server.url + "/approvals")
        item = inbox.locator(f'form[action="/approvals/{approval_id}/decide"]')
        expect(item).to_be_visible()
        expect(inbox.locator("main")).to_contain_text("Aurora Launch")
        inbox.screenshot(path=artifacts / "04-approver-inbox.png", full_page=True)
        item.get_by_role("button", name="Approve").click()
        inbox.wait_for_load_state()
        inbox.screenshot(path=artifacts / "05-approver-after-approving.png", full_page=True)

        # the manager's page was never reloaded: the card turns approved and the resumed answer streams in
        assert page.url == thread_url
        expect(card.locator(".approval-status")).to_contain_text("approved")
        created = page.locator(".turn").last.locator(".reply")
        expect(created).to_contain_text(re.compile("created", re.IGNORECASE), timeout=RESUME_TIMEOUT_MS)
        expect(page.locator(".turn").last.locator(".reply")).to_contain_text("Aurora Launch")
        page.screenshot(path=artifacts / "06-manager-campaign-created.png", full_page=True)

        page.goto(web_server.url + "/chat")
        expect(page.locator("main")).to_contain_text("Create a tier 2 product launch campaign")
        page.screenshot(path=artifacts / "07-manager-thread-listed.png", full_page=True)
    finally:
        manager.close()
        approver.close()
