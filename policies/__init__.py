"""Deterministic policy layer: Cedar policies + facts (budgets, field authority, PII, rate limits, tenants).

Public API: ``PolicyEngine`` (``from_directory``, ``decide``, ``check_response``), the value types of
``policies.model``, the tool catalog with its money tables (``policies.money``), ``PolicyLoadError``, the PII
helpers and the rate-limit rules.
"""

from policies.catalog import DEFAULT_CATALOG, ToolCatalog
from policies.engine import DEFAULT_APPROVAL_GROUPS, PolicyEngine
from policies.loader import PolicyLoadError, PolicyRule, load_policies
from policies.model import Decision, PiiHit, Principal, ResponseCheck, RuleHit, ToolCall, ToolSpec
from policies.money import MoneyArg
from policies.pii import mask_email_for_logs, redact, scan, scan_response
from policies.ratelimit import DEFAULT_RATE_RULES, InMemoryRateStore, RateCounterStore, RateRule

__all__ = [
    "DEFAULT_APPROVAL_GROUPS",
    "DEFAULT_CATALOG",
    "DEFAULT_RATE_RULES",
    "Decision",
    "InMemoryRateStore",
    "MoneyArg",
    "PiiHit",
    "PolicyEngine",
    "PolicyLoadError",
    "PolicyRule",
    "Principal",
    "RateCounterStore",
    "RateRule",
    "ResponseCheck",
    "RuleHit",
    "ToolCall",
    "ToolCatalog",
    "ToolSpec",
    "load_policies",
    "mask_email_for_logs",
    "redact",
    "scan",
    "scan_response",
]
