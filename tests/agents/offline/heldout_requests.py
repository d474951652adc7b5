"""Frozen held-out requests for the intent classifier: written before training, never trained on, never tuned on.

Each is (request, intent). The classifier must get most right and may answer "unsure" (ask) for the rest; a
confident wrong intent is a failure. Do not edit these after seeing results: add a new file instead.
"""

from __future__ import annotations

HELDOUT: list[tuple[str, str]] = [
    # create_campaign
    ("spin up a campaign for the autumn developer day, tier 2, 18k, starting oct 12", "create_campaign"),
    ("we want to run a new standard campaign 'Renewal Nudges' in january with EUR 12,000", "create_campaign"),
    ("can u make a campain for the retail webinar", "create_campaign"),
    ("Create the 'Northwind Co-Sell' campaign — tier 3, budget 7500 dollars, go live 2027-03-01", "create_campaign"),
    # update_campaign
    ("bump the budget of the holiday promo to 40k", "update_campaign"),
    ("please move the launch date of Mobile App 3.0 to the 14th of may", "update_campaign"),
    ("reduce Summit spend plan to $90,000", "update_campaign"),
    ("change the tier of the EMEA roadshow to tier 1", "update_campaign"),
    # add_task
    ("add a todo 'send speaker invites' to the summit, due friday", "add_task"),
    ("need a new task on the Q1 launch project: record the demo video", "add_task"),
    ("put a task in for proofreading the datasheet in the analytics release", "add_task"),
    ("Create 'Update pricing FAQ' under the Cloud Platform Launch project", "add_task"),
    # update_task_status
    ("speaker invites are sent, mark that task finished", "update_task_status"),
    ("set the demo video task to in progress", "update_task_status"),
    ("flip 'Update pricing FAQ' back to not started", "update_task_status"),
    ("the datasheet proofreading is complete", "update_task_status"),
    # assign_task
    ("give 'record the demo video' to Leo", "assign_task"),
    ("Omar should own the pricing FAQ task, please assign him", "assign_task"),
    ("assign the speaker invites to priya natarajan", "assign_task"),
    ("can you make Dana the assignee on the booth graphics task", "assign_task"),
    # project_status
    ("where do we stand on the summit project", "project_status"),
    ("how far along is the Cloud Platform Launch work in workfront", "project_status"),
    ("anything overdue for the roadshow?", "project_status"),
    ("what is the current status of the ABM campaign", "project_status"),
    # approvals
    ("anything waiting for my approval?", "approvals"),
    ("list approval requests that are still open", "approvals"),
    ("why hasn't the budget request for the summit been approved yet", "approvals"),
    ("which approvals did leadership reject this week", "approvals"),
    # capacity
    ("who on the team has room for more work next week", "capacity"),
    ("how loaded is Priya right now", "capacity"),
    ("show me workload per person in workfront", "capacity"),
    ("is anyone over capacity this month?", "capacity"),
    # delete_request
    ("delete the Holiday Promotions 2025 campaign", "delete_request"),
    ("please remove the 'Book venue' task", "delete_request"),
    ("get rid of the test campaign I created yesterday", "delete_request"),
    ("can you erase the old webinar project from asana", "delete_request"),
    # campaign_performance
    ("how did email do for the cloud launch in q3", "campaign_performance"),
    ("roas for the summit last month?", "campaign_performance"),
    ("what did we spend on paid social for the nurture program feb 1-7 2027", "campaign_performance"),
    ("conversions from the roadshow so far", "campaign_performance"),
    # compare_campaigns
    ("email vs paid media for the Q1 launch", "compare_campaigns"),
    ("which of our launches brought in the most revenue", "compare_campaigns"),
    ("summit versus roadshow on cost per lead", "compare_campaigns"),
    ("put the two webinar campaigns next to each other on ctr", "compare_campaigns"),
    # list_campaigns
    ("what campaigns are live right now", "list_campaigns"),
    ("show me every tier 2 campaign", "list_campaigns"),
    ("who is the owner of the ABM campaign", "list_campaigns"),
    ("which campaigns start in march", "list_campaigns"),
    # draft_messaging
    ("write me a messaging draft for the analytics release", "draft_messaging"),
    ("i need positioning statements for the summit", "draft_messaging"),
    ("draft key messages for the partner co-sell", "draft_messaging"),
    ("could you sketch the messaging pillars for Mobile App 3.0", "draft_messaging"),
    # list_strategies
    ("what strategies are waiting for review", "list_strategies"),
    ("show the latest messaging strategy of the summit", "list_strategies"),
    ("has the roadshow strategy been approved", "list_strategies"),
    ("list rejected strategies", "list_strategies"),
    # submit_strategy
    ("send the summit strategy to review", "submit_strategy"),
    ("submit my draft strategy for the Q1 launch for approval", "submit_strategy"),
    ("approve the messaging strategy for the roadshow", "submit_strategy"),
    ("the nurture strategy looks good, approve it", "submit_strategy"),
    # playbook_question
    ("what does the T1 playbook say about lead time", "playbook_question"),
    ("how many days before a webinar should reminders go out per our guidelines", "playbook_question"),
    ("which system do event campaigns belong in according to the playbook", "playbook_question"),
    ("what's the rule for budget approvals over 100k", "playbook_question"),
    # smalltalk
    ("hey there", "smalltalk"),
    ("what are you able to do for me", "smalltalk"),
    ("thx, that's it", "smalltalk"),
    ("good evening!", "smalltalk"),
    # out_of_scope
    ("what's the capital of australia", "out_of_scope"),
    ("book me a flight to lisbon", "out_of_scope"),
    ("tell me a joke", "out_of_scope"),
    ("what's the stock price of apple", "out_of_scope"),
]
