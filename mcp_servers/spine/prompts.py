"""The common workflows as MCP prompts, picked from a client's prompt menu (Claude Desktop: the "+" menu).

Each prompt is a set of steps over the MCC servers' tools and resources, written from the product rules: the
playbooks are the source of planning facts (cite them), the spine is the record, policies decide and the server
asks for approvals by itself, and nothing is written with values the user did not give or confirm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_GROUND_RULES = (
    "Rules: take planning facts (lead times, milestones, budget ranges, required channels) only from the "
    "playbooks and cite them as [doc_id#section]. Write nothing with values the user has not given or confirmed. "
    "If a tool answers approval_required, do not retry or work around it: tell the user who must approve "
    "(required_group) and the approval id. A denied call is final; explain the reason it gives."
)


def plan_tier1_launch(campaign_name: str, launch_date: str, budget: str = "", regions: str = "") -> str:
    """Plan a tier-1 launch: check it against the tier-1 playbook, then draft the campaign for your confirmation."""
    given = f"Campaign: {campaign_name}. Launch date: {launch_date}."
    given += f" Budget: {budget}." if budget else " Budget: not given yet (ask for it)."
    given += f" Regions: {regions}." if regions else ""
    return (
        f"Help me plan a tier-1 launch. {given}\n\n"
        "1. Read the tier-1 campaign playbook (knowledge server: search_playbooks, then get_document or the "
        "playbook:// resource) and list what it requires: minimum lead time and milestone dates counted back "
        "from the launch date, the budget range, the core team and the required channels.\n"
        "2. Check the launch date against the minimum lead time and say plainly if it is too close.\n"
        "3. Check the spine for campaigns with a similar name (list_campaigns with name_contains) so we do not "
        "create a duplicate.\n"
        "4. Show the plan as a short table (milestone, due date, owner role) and the campaign fields you would "
        "create (name, type, tier 1, launch_date, owner, budget with currency). Ask me to confirm.\n"
        "5. Only after I confirm: create_campaign on the spine server.\n\n" + _GROUND_RULES
    )


def weekly_performance_review(week_ending: str = "", campaign_names: str = "") -> str:
    """Weekly performance review: measured results of the last seven days against the playbook targets."""
    period = f"the seven days ending {week_ending}" if week_ending else "the last seven days (ask me if unsure)"
    scope = f" Only these campaigns: {campaign_names}." if campaign_names else ""
    return (
        f"Prepare my weekly performance review for {period}.{scope}\n\n"
        "1. Get the measured results with performance_summary on the spine server (start and end as ISO "
        "dates). Report money per currency; never add different currencies together.\n"
        "2. For each campaign: spend, conversions, CTR, CVR, CPA and ROAS; name the best and the weakest, and "
        "say when a ratio has no data (null) rather than guessing.\n"
        "3. Compare with the targets of the campaign's tier playbook and the measurement playbook, citing them.\n"
        "4. End with at most three concrete next steps. Read only: change nothing.\n\n" + _GROUND_RULES
    )


def prepare_approval_request(campaign: str, change: str) -> str:
    """Prepare an approval request: what a change needs, who approves it, and the request itself."""
    return (
        f"I want to make this change to the campaign {campaign}: {change}\n\n"
        "1. Find the campaign on the spine server (list_campaigns with name_contains, then get_campaign) and "
        "show its current values next to the requested ones.\n"
        "2. Read the budget approval and finance policy playbook and state which threshold applies, citing it.\n"
        "3. Show me the exact call you would make and ask me to confirm it.\n"
        "4. After I confirm, make the call once. If it answers approval_required, give me the approval id, "
        "the group that must approve and a two-sentence justification I can send them; an approver resolves "
        "it with resolve_approval, and the identical call is then re-sent with that approval_id.\n\n" + _GROUND_RULES
    )


plan_tier1_launch.title = "Plan a tier-1 launch"  # type: ignore[attr-defined]
weekly_performance_review.title = "Weekly performance review"  # type: ignore[attr-defined]
prepare_approval_request.title = "Prepare an approval request"  # type: ignore[attr-defined]

PROMPTS: tuple[Callable[..., Any], ...] = (plan_tier1_launch, weekly_performance_review, prepare_approval_request)
