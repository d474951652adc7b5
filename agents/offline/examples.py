"""The intents the offline model knows, which agent owns each, and how to name them in a clarifying question.

The classifier's labelled paraphrases are in ``data/intents.yaml``; its held-out set lives in tests/agents/offline/
and shares no sentence with it.
"""

from __future__ import annotations

from typing import Final, Literal

Intent = Literal[
    "create_campaign",
    "update_campaign",
    "capacity",
    "delete_request",
    "comments",
    "add_comment",
    "submit_strategy",
    "out_of_scope",
    "add_task",
    "update_task_status",
    "assign_task",
    "project_status",
    "approvals",
    "campaign_performance",
    "compare_campaigns",
    "list_campaigns",
    "draft_messaging",
    "list_strategies",
    "playbook_question",
    "smalltalk",
]

# None: the supervisor answers itself (greeting, help, thanks).
INTENT_AGENT: Final[dict[Intent, str | None]] = {
    "create_campaign": "production",
    "update_campaign": "production",
    "capacity": "production",
    "delete_request": "production",
    "comments": "production",
    "add_comment": "production",
    "submit_strategy": "strategy",
    "out_of_scope": None,
    "add_task": "production",
    "update_task_status": "production",
    "assign_task": "production",
    "project_status": "production",
    "approvals": "production",
    "campaign_performance": "analytics",
    "compare_campaigns": "analytics",
    "list_campaigns": "analytics",
    "draft_messaging": "strategy",
    "list_strategies": "strategy",
    "playbook_question": "knowledge",
    "smalltalk": None,
}

# Intents that change something: a read-only user is told why they cannot, and no write tool is called.
WRITE_INTENTS: Final[frozenset[str]] = frozenset(
    {
        "create_campaign",
        "update_campaign",
        "add_task",
        "update_task_status",
        "assign_task",
        "draft_messaging",
        "submit_strategy",
        "add_comment",
    }
)

# How a clarifying question names each reading ("Do you want me to <a>, or to <b>?").
INTENT_LABEL: Final[dict[str, str]] = {
    "create_campaign": "create a new campaign",
    "update_campaign": "change an existing campaign (budget, dates, tier)",
    "capacity": "check the team's capacity and workload",
    "delete_request": "delete something",
    "comments": "read comments and notes",
    "add_comment": "leave a comment on a task or project",
    "submit_strategy": "submit, approve or reject a strategy",
    "add_task": "add a task",
    "update_task_status": "change a task's status",
    "assign_task": "assign a task to someone",
    "project_status": "report a campaign's or project's status",
    "approvals": "look at approvals",
    "campaign_performance": "report performance figures",
    "compare_campaigns": "compare campaigns, channels or periods",
    "list_campaigns": "list campaigns or show a campaign's details",
    "draft_messaging": "draft messaging",
    "list_strategies": "show strategies",
    "playbook_question": "answer from the playbooks (policy and process)",
    "smalltalk": "tell you what I can do",
    "out_of_scope": "something outside marketing operations",
}
