"""The policy engine: principal + tool call (+ approval) -> allow | deny | require_approval, with the rules.

Cedar decides (default deny, forbid overrides permit); this module computes the facts the rules test, turns
Cedar's answer into a ``Decision`` and fails closed on any error. Approval rules are forbids annotated
``@approval_group``: a deny made only of them becomes ``require_approval`` when a permit would otherwise
apply, and an approval by that group (or a higher-ranked one) lifts them through ``context.approved_group``.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import cedarpy

from policies import pii
from policies.catalog import DEFAULT_CATALOG, ToolCatalog
from policies.facts import BudgetFact, FieldsFact, budget_fact, fields_fact, tenants_named
from policies.loader import LoadedPolicies, PolicyRule, load_policies
from policies.model import (
    ALLOW,
    DENY,
    REQUIRE_APPROVAL,
    Decision,
    Mode,
    PiiHit,
    Principal,
    ResponseCheck,
    RuleHit,
    ToolCall,
    ToolSpec,
)
from policies.ratelimit import (
    DEFAULT_RATE_RULES,
    RateCheck,
    RateCounterStore,
    RateLimiter,
    RateRule,
    format_retry,
    retry_seconds,
)
from spine.authority import FIELD_AUTHORITY, FieldRule

# Approver groups by rank: a higher group's approval also satisfies a lower group's rule.
DEFAULT_APPROVAL_GROUPS: Mapping[str, int] = MappingProxyType({"marketing-leadership": 1, "vp": 2})
# Directory groups nested in others (a VP is also marketing leadership).
DEFAULT_GROUP_PARENTS: Mapping[str, tuple[str, ...]] = MappingProxyType({"vp": ("marketing-leadership",)})
_ACTION = {"type": "Action", "id": "call"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_ENTITY_CACHE_MAX = 4096
# Kinds whose arguments are stored or acted on: scanned for personal data on every server.
WRITE_KINDS: frozenset[str] = frozenset({"write", "delete", "commit_spend", "approve"})


class PolicyEngine:
    """Pure, deterministic decisions over policies parsed once. Thread-safe apart from the rate store's own
    guarantees; construct one per process (``from_directory``) and share it."""

    def __init__(
        self,
        policies: LoadedPolicies,
        *,
        fx_rates: Mapping[str, Decimal] | None = None,
        mode: Mode = "enforce",
        rate_rules: Iterable[RateRule] = DEFAULT_RATE_RULES,
        rate_store: RateCounterStore | None = None,
        catalog: ToolCatalog = DEFAULT_CATALOG,
        field_authority: Mapping[str, FieldRule] = FIELD_AUTHORITY,
        approval_groups: Mapping[str, int] = DEFAULT_APPROVAL_GROUPS,
        group_parents: Mapping[str, tuple[str, ...]] = DEFAULT_GROUP_PARENTS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if mode not in ("enforce", "log_only"):
            raise ValueError(f"mode: expected 'enforce' or 'log_only', got {mode!r}")
        self.policies = policies
        self.mode: Mode = mode
        self.catalog = catalog
        self.fx_rates: Mapping[str, Decimal] = MappingProxyType(
            {k.upper(): Decimal(str(v)) for k, v in (fx_rates or {}).items()}
        )
        for code, rate in self.fx_rates.items():
            if not rate.is_finite() or rate <= 0:
                raise ValueError(f"fx_rates[{code!r}]: rate must be a positive number of USD per unit")
        self.rate_limiter = RateLimiter(rate_rules, rate_store)
        self.field_authority = field_authority
        self.approval_groups = approval_groups
        self.group_parents = group_parents
        self._clock = clock
        self._rules = policies.rules
        self._permit_set = policies.permit_set
        self._entities: dict[tuple[str, frozenset[str]], cedarpy.Entities] = {}
        # Approvals record it: a different version means the rules changed and an approved call is re-checked.
        self.version = _policy_version(policies, self.fx_rates, approval_groups, group_parents, mode)

    @classmethod
    def from_directory(
        cls,
        path: Path | str | None = None,
        *,
        fx_rates: Mapping[str, Decimal] | None = None,
        mode: Mode = "enforce",
        rate_rules: Iterable[RateRule] = DEFAULT_RATE_RULES,
        approval_groups: Mapping[str, int] = DEFAULT_APPROVAL_GROUPS,
        **kwargs: Any,
    ) -> PolicyEngine:
        """Load and validate the schema and policies of ``path`` (default: the packaged ``policies/cedar``).

        Raises ``PolicyLoadError`` (file, line, message) when a file does not parse or validate.
        """
        loaded = load_policies(path, approval_groups=approval_groups)
        return cls(
            loaded,
            fx_rates=fx_rates,
            mode=mode,
            rate_rules=rate_rules,
            approval_groups=approval_groups,
            **kwargs,
        )

    @property
    def rules(self) -> tuple[PolicyRule, ...]:
        """Every loaded rule (for ``mcc policy check`` and docs)."""
        return tuple(self._rules.values())

    # ------------------------------------------------------------------ deciding
    def decide(
        self,
        principal: Principal,
        call: ToolCall,
        *,
        approved_group: str | None = None,
        now: float | None = None,
        commit_rate: bool = True,
    ) -> Decision:
        """Decide one call. ``approved_group`` is the group of a valid approval the guard has verified for
        exactly this call; ``now`` (seconds) drives the rate limiter; ``commit_rate=False`` evaluates without
        using up rate-limit quota (``mcc policy check``). Never raises: an internal error is a deny with rule
        ``engine.error``."""
        try:
            decision, rate = self._decide(principal, call, approved_group, now)
        except pii.PiiScanError as e:
            decision, rate = _deny(call, "pii.unscannable", f"arguments could not be scanned for PII: {e}"), None
        except Exception as e:
            msg = f"policy engine error ({type(e).__name__}: {e}); the call is denied"
            return _deny(call, "engine.error", msg, mode=self.mode)
        if not commit_rate:
            rate = None
        if self.mode == "log_only":
            if rate is not None:
                self.rate_limiter.commit(rate)
            if decision.effect == ALLOW:
                return replace(decision, mode="log_only", would_have=decision)
            return Decision(ALLOW, decision.reasons, tool=decision.tool, mode="log_only", would_have=decision,
                            redactions=decision.redactions, redacted_arguments=decision.redacted_arguments)  # fmt: skip
        if rate is not None and decision.effect == ALLOW:
            self.rate_limiter.commit(rate)
        return decision

    def _decide(
        self, principal: Principal, call: ToolCall, approved_group: str | None, now: float | None = None
    ) -> tuple[Decision, RateCheck | None]:
        spec = self.catalog.get(call.server, call.tool)
        if spec is None:
            return _deny(call, "catalog.unknown_tool", f"unknown tool {call.name}: not in the tool catalog"), None
        args = call.arguments
        if not isinstance(args, Mapping):
            return _deny(call, "catalog.bad_arguments", f"{call.name}: arguments must be an object"), None
        budget = budget_fact(spec, args, self.fx_rates)
        fields = fields_fact(spec, args, self.field_authority)
        tenants = tenants_named(call.resource_tenant_id, args)
        # Personal data is checked before anything is sent or stored: every write, and every external call.
        hits: list[PiiHit] = pii.scan(args) if spec.external or spec.kind in WRITE_KINDS else []
        block = pii.blocking(hits, spec.pii_mode)
        redact = [] if block else hits
        rate = None
        if self.rate_limiter.rules_for(spec.system):
            rate = self.rate_limiter.check(principal, spec.system, self._clock() if now is None else now)
        context: dict[str, Any] = {
            "server": spec.server,
            "tool": spec.tool,
            "system": spec.system,
            "kind": spec.kind,
            "object_type": spec.object_type,
            "external": spec.external,
            "principal_tenant": principal.tenant_id or "",
            "resource_tenants": sorted(tenants),
            "budget_error": budget.error,
            "fields_written": list(fields.written),
            "foreign_owners": sorted(fields.foreign),
            "unknown_fields": bool(fields.unknown),
            "pii_blocking": bool(block),
            "pii_redacted": bool(redact),
            "rate_limited": bool(rate and rate.limited),
            "approved_group": approved_group or "",
        }
        cedar_budget = budget.cedar_value()
        if cedar_budget is not None:
            context["budget_usd"] = cedar_budget
        request = {
            "principal": {"type": "User", "id": principal.user_id},
            "action": _ACTION,
            "resource": {"type": "Tool", "id": spec.name},
            "context": context,
        }
        entities = self._entities_for(principal)
        result = cedarpy.is_authorized(request, self.policies.policy_set, entities)
        diag = result.diagnostics
        if diag.errors:
            raise RuntimeError("Cedar evaluation errors: " + "; ".join(map(str, diag.errors)))
        # Cedar reports reasons as a set: sort so equal inputs give equal decisions.
        matched = sorted((self._rules[pid] for pid in diag.reasons), key=lambda r: r.rule_id)
        details = _Details(principal, spec, tenants, budget, fields, block, rate)
        if result.allowed:
            reasons = tuple(RuleHit(r.rule_id, r.reason) for r in matched)
            if redact:
                return Decision(
                    ALLOW,
                    reasons,
                    tool=spec.name,
                    redactions=tuple(redact),
                    redacted_arguments=pii.redact(dict(args), redact),
                ), rate
            return Decision(ALLOW, reasons, tool=spec.name), rate
        forbids = [r for r in matched if r.effect == "forbid"]
        if not forbids:
            groups = ", ".join(sorted(principal.groups)) or "no groups"
            msg = f"no rule permits {principal.user_id} ({groups}) to call {spec.name} ({spec.kind})"
            return _deny(call, "default.deny", msg + self._who_may(request, principal)), rate
        hard = [r for r in forbids if r.approval_group is None]
        hits_out = tuple(
            RuleHit(r.rule_id, details.render(r.reason), r.approval_group)
            for r in sorted(forbids, key=lambda r: (r.approval_group is not None, r.rule_id))
        )
        retry = retry_seconds(rate.retry_after_s) if rate is not None and rate.limited else None
        if hard:
            return Decision(DENY, hits_out, tool=spec.name, retry_after_s=retry), rate
        # Only approval rules stand in the way: is there a permit that an approval would unlock?
        if not cedarpy.is_authorized(request, self._permit_set, entities).allowed:
            groups = ", ".join(sorted(principal.groups)) or "no groups"
            msg = f"no rule permits {principal.user_id} ({groups}) to call {spec.name} ({spec.kind})"
            return _deny(call, "default.deny", msg), rate
        required = max((r.approval_group for r in forbids if r.approval_group), key=self._rank)
        # The approval holds the masked arguments, never the personal data they were sent with.
        masked = pii.redact(dict(args), redact) if redact else None
        return Decision(
            REQUIRE_APPROVAL, hits_out, required_group=required, tool=spec.name, redactions=tuple(redact),
            redacted_arguments=masked,
        ), rate  # fmt: skip

    def _who_may(self, request: dict[str, Any], principal: Principal) -> str:
        """ "; groups that may: ..." naming each known group (mentioned by the policies, a parent table or an approver
        group) that this very call would be allowed for
        (the same context: tenant, budget, fields); empty when none. Only a denial pays for it."""
        allowed = []
        for group in sorted({*self.policies.groups, *self.group_parents, *self.approval_groups}):
            if group in principal.groups:
                continue
            probe = Principal(user_id=f"{principal.user_id}#probe", tenant_id=principal.tenant_id,
                              groups=frozenset({group}))  # fmt: skip
            asked = {**request, "principal": {"type": "User", "id": probe.user_id}}
            if cedarpy.is_authorized(asked, self.policies.policy_set, self._entities_for(probe)).allowed:
                allowed.append(group)
        return f"; groups that may: {', '.join(allowed)}" if allowed else ""

    def _rank(self, group: str) -> int:
        return self.approval_groups.get(group, 0)

    def _entities_for(self, principal: Principal) -> cedarpy.Entities:
        key = (principal.user_id, principal.groups)
        cached = self._entities.get(key)
        if cached is not None:
            return cached
        groups: set[str] = set()
        todo = list(principal.groups)
        while todo:
            g = todo.pop()
            if g not in groups:
                groups.add(g)
                todo.extend(self.group_parents.get(g, ()))
        ents: list[dict[str, Any]] = [
            {
                "uid": {"type": "User", "id": principal.user_id},
                "attrs": {},
                "parents": [{"type": "Group", "id": g} for g in sorted(principal.groups)],
            }
        ]
        for g in sorted(groups):
            parents = [{"type": "Group", "id": p} for p in self.group_parents.get(g, ())]
            ents.append({"uid": {"type": "Group", "id": g}, "attrs": {}, "parents": parents})
        handle = cedarpy.Entities.from_json_str(json.dumps(ents), self.policies.schema)
        if len(self._entities) >= _ENTITY_CACHE_MAX:
            self._entities.clear()  # bounded: a cache, never a source of truth
        self._entities[key] = handle
        return handle

    # ------------------------------------------------------------------ responses
    def check_response(self, call: ToolCall, response: Any) -> ResponseCheck:
        """Mask card numbers and SSNs in a tool's answer (rule ``pii.response_redacted``) and keep the rest.

        Personal data already stored (typed into Workfront, or stored before a rule existed) must not make a
        read fail for everyone, nor a completed write look failed: the answer is returned with each such value
        replaced by ``[REDACTED:<kind>]``. An answer that cannot be scanned is withheld whole
        (``pii.response_unscannable``). LOG_ONLY mode reports what it would mask and returns the answer as is.
        Never raises.
        """
        try:
            hits = pii.scan_response(response)
            masked = pii.redact(response, hits) if hits else response
        except Exception as e:
            msg = f"the answer could not be scanned for personal data ({type(e).__name__}: {e}) and is withheld"
            return ResponseCheck(None, (), "pii.response_unscannable", msg, self.mode, original=response)
        if not hits:
            return ResponseCheck(response, mode=self.mode)
        msg = f"personal data masked in the answer: {pii.summarize(hits)}"
        return ResponseCheck(masked, tuple(hits), "pii.response_redacted", msg, self.mode, original=response)


class _Details:
    """Values for the ``{placeholders}`` of rule messages; computed lazily, only for rules that fired."""

    def __init__(
        self,
        principal: Principal,
        spec: ToolSpec,
        tenants: set[str],
        budget: BudgetFact,
        fields: FieldsFact,
        pii_hits: list[PiiHit],
        rate: RateCheck | None,
    ) -> None:
        self.p, self.spec, self.tenants, self.budget = principal, spec, tenants, budget
        self.fields, self.pii_hits, self.rate = fields, pii_hits, rate

    def value(self, name: str) -> str | None:
        b, s = self.budget, self.spec
        simple: dict[str, Callable[[], str]] = {
            "user": lambda: self.p.user_id,
            "tool": lambda: s.name,
            "system": lambda: s.system,
            "kind": lambda: s.kind,
            "principal_tenant": lambda: self.p.tenant_id or "<none>",
            "resource_tenants": lambda: ", ".join(sorted(t for t in self.tenants if t != self.p.tenant_id)),
            "currency": lambda: b.currency,
            "budget_usd": lambda: f"{b.usd:,.2f}" if b.usd is not None else "",
            "budget_display": lambda: f"{b.amount:,.2f} {b.currency}" if b.amount is not None else "",
            "budget_path": lambda: b.path,
            "budget_problem": lambda: b.problem,
            "unknown_fields": lambda: ", ".join(self.fields.unknown),
            "pii_summary": lambda: pii.summarize(self.pii_hits),
            "rate_detail": lambda: self.rate.describe() if self.rate else "",
            "retry_after": lambda: format_retry(self.rate.retry_after_s) if self.rate else "",
        }
        if name in simple:
            return simple[name]()
        if name.startswith("fields_"):
            return ", ".join(self.fields.foreign.get(name[7:], ()))
        return None

    def render(self, template: str) -> str:
        def sub(m: re.Match[str]) -> str:
            v = self.value(m.group(1))
            return m.group(0) if v is None else v

        return _PLACEHOLDER.sub(sub, template)


def _deny(call: ToolCall, rule_id: str, message: str, *, mode: Mode = "enforce") -> Decision:
    return Decision(DENY, (RuleHit(rule_id, message),), tool=call.name, mode=mode)


def _policy_version(
    policies: LoadedPolicies, fx_rates: Mapping[str, Decimal], approval_groups: Mapping[str, int],
    group_parents: Mapping[str, tuple[str, ...]], mode: Mode,
) -> str:  # fmt: skip
    """SHA-256 of the policy files and the data tables the rules read (fx rates, approver groups, mode)."""
    data = {
        "policies": policies.version,
        "fx_rates": {k: str(v) for k, v in sorted(fx_rates.items())},
        "approval_groups": dict(sorted(approval_groups.items())),
        "group_parents": {k: list(v) for k, v in sorted(group_parents.items())},
        "mode": mode,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
