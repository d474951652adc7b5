"""Scoring: each expectation of an ``Expect`` checked against a scope of the conversation (one step, or the whole
case), with a readable diagnostic per expectation.

A scope's route is the route of each turn (as it finally stood), its calls are every tool call made in it, its
reply is the last reply (``reply_excludes`` checks every reply), its audit rows are those written during it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from evals.cases import Expect, PolicyExpect
from evals.gates import AuditView
from evals.matchers import call_label, match_calls, match_route, norm_text, text_label, text_matches, tool_matches
from evals.state import check_state
from evals.world import EvalApp, RecordedCall


class Outcome(BaseModel):
    """One expectation's verdict."""

    scope: str
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Scope:
    """What a set of steps did, as the scorers read it."""

    label: str
    routes: list[str]
    calls: list[dict[str, Any]]
    call_keys: list[tuple[int, int]]  # (step index, call index) of each call, to count a call once across scopes
    replies: list[str]
    waiting: bool
    audit: list[AuditView]
    results: list[RecordedCall]
    forbidden_hits: set[tuple[int, int]] = field(default_factory=set)
    user_texts: list[str] = field(default_factory=list)  # the user's messages, whose echo reply checks ignore

    @property
    def reply(self) -> str:
        """The last reply of the scope, without the user's quoted words."""
        return self.replies_checked[-1] if self.replies else ""

    @property
    def replies_checked(self) -> list[str]:
        """Every reply of the scope with the echo of the user's own messages removed (see ``strip_user_echo``)."""
        return [strip_user_echo(r, self.user_texts) for r in self.replies]


_OPEN, _CLOSE = "[\"“'‘]", "[\"”'’]"


def _flexible(text: str) -> str:
    return r"\s+".join(re.escape(w) for w in text.split())


def strip_user_echo(reply: str, user_texts: Sequence[str]) -> str:
    """``reply`` without text quoted from the user: a message after "Re:" (``_Re: "<message>"_``), a whole message
    of three words or more in quotes, or a quoted beginning of one cut off with an ellipsis. A reply check must not
    pass on the user's own words (a short answer like a campaign name is content, so it stays)."""
    out = reply
    for text in sorted({t.strip() for t in user_texts if t.strip()}, key=len, reverse=True):
        whole = _flexible(text)
        out = re.sub(rf"\bre:\s*{_OPEN}?{whole}{_CLOSE}?", " ", out, flags=re.I)
        words = text.split()
        if len(words) >= 3:
            out = re.sub(rf"{_OPEN}{whole}{_CLOSE}", " ", out, flags=re.I)
        for n in range(len(words) - 1, 2, -1):  # a quoted prefix of at least three words, then … or ...
            prefix = _flexible(" ".join(words[:n]))
            out = re.sub(rf"{_OPEN}{prefix}\s*(…|\.\.\.){_CLOSE}?", " ", out, flags=re.I)
    return out


def _policy_label(p: PolicyExpect) -> str:
    bits = [p.decision] + ([p.tool] if p.tool else []) + ([f"rule {p.rule}"] if p.rule else [])
    return "policy " + " ".join(bits)


def _rule_matches(pattern: str, rule_ids: Sequence[str]) -> bool:
    if pattern.endswith("*"):
        return any(r.startswith(pattern[:-1]) for r in rule_ids)
    return pattern in rule_ids


def policy_count(p: PolicyExpect, scope: Scope) -> tuple[int, int]:
    """(matching tool calls, matching audit rows) for one policy expectation."""
    calls = 0
    if p.source in ("calls", "any") and p.rule is None:
        calls = sum(1 for c in scope.calls if c.get("decision") == p.decision
                    and (p.tool is None or tool_matches(p.tool, c["server"], c["tool"])))  # fmt: skip
    rows = 0
    if p.source in ("audit", "any"):
        rows = sum(1 for r in scope.audit if r.decision == p.decision
                   and (p.tool is None or tool_matches(p.tool, r.server, r.tool))
                   and (p.rule is None or _rule_matches(p.rule, r.rule_ids)))  # fmt: skip
    return calls, rows


def _policy(p: PolicyExpect, scope: Scope) -> Outcome:
    calls, rows = policy_count(p, scope)
    n = max(calls, rows)
    ok = n >= p.min and (p.max is None or n <= p.max)
    seen = sorted({f"{r.decision} {r.server}.{r.tool} [{', '.join(r.rule_ids)}]" for r in scope.audit})[:8]
    detail = f"found {n} (calls {calls}, audit {rows})"
    if not ok:
        bound = f"at most {p.max}" if p.max is not None and n > p.max else f"at least {p.min}"
        detail += f", expected {bound}; audit decisions here: {'; '.join(seen) or 'none'}"
    return Outcome(scope=scope.label, name=_policy_label(p), ok=ok, detail=detail)


def _cited(doc_id: str, reply: str) -> bool:
    # cited = the doc id itself appears (as in "[1] budget-approval-and-finance-policy § ..."), not prose about it
    return re.search(rf"(?<![\w-]){re.escape(doc_id.lower())}(?![\w-])", reply.lower()) is not None


def _retrieved(doc_id: str, results: Sequence[RecordedCall]) -> bool:
    needle = norm_text(doc_id)
    return any(r.server == "knowledge" and r.ok and needle in norm_text(str(r.result)) for r in results)


async def score(expect: Expect, scope: Scope, app: EvalApp, tenant: str) -> list[Outcome]:
    """Every expectation of ``expect`` on ``scope``."""
    out: list[Outcome] = []
    if expect.route is not None:
        route = expect.route  # normalised to RouteExpect by the model
        reason = match_route(route.mode, route.agents, scope.routes)  # type: ignore[union-attr]
        out.append(Outcome(scope=scope.label, name=f"route ({route.mode})", ok=reason is None,  # type: ignore[union-attr]
                           detail=reason or f"routed to {', '.join(scope.routes) or 'no agent'}"))  # fmt: skip
    if expect.tool_calls is not None:
        spec = expect.tool_calls
        reason = match_calls(spec.mode, spec.calls, scope.calls)  # type: ignore[union-attr]
        got = ", ".join(call_label(c) for c in scope.calls) or "no calls"
        out.append(Outcome(scope=scope.label, name=f"tool_calls ({spec.mode})", ok=reason is None,  # type: ignore[union-attr]
                           detail=reason or got))  # fmt: skip
    if expect.forbidden_tools:
        hits = [(k, c) for k, c in zip(scope.call_keys, scope.calls, strict=True)
                if any(tool_matches(p, c["server"], c["tool"]) for p in expect.forbidden_tools)]  # fmt: skip
        scope.forbidden_hits.update(k for k, _ in hits)
        detail = ", ".join(f"{call_label(c)} ({c.get('decision')})" for _, c in hits)
        detail = f"called {detail}" if hits else f"none of {', '.join(expect.forbidden_tools)}"
        out.append(Outcome(scope=scope.label, name="forbidden_tools", ok=not hits, detail=detail))
    out.extend(_policy(p, scope) for p in expect.policy)
    for i, st in enumerate(expect.state):
        try:
            reason = await check_state(app, st, tenant)
        except Exception as exc:  # a state query that cannot run is a failed expectation, not a crashed suite
            reason = f"could not read {st.source}: {type(exc).__name__}: {exc}"
        where = ", ".join(f"{k}={v!r}" for k, v in st.where.items())
        out.append(Outcome(scope=scope.label, name=f"state[{i}] {st.source}" + (f" where {where}" if where else ""),
                           ok=reason is None, detail=reason or "holds"))  # fmt: skip
    for spec in expect.reply_contains:
        ok = text_matches(spec, scope.reply)
        out.append(Outcome(scope=scope.label, name=f"reply_contains {text_label(spec)}", ok=ok,
                           detail="" if ok else f"reply: {_clip(scope.reply)}"))  # fmt: skip
    for spec in expect.reply_excludes:
        bad = [r for r in scope.replies_checked if text_matches(spec, r)]
        out.append(Outcome(scope=scope.label, name=f"reply_excludes {text_label(spec)}", ok=not bad,
                           detail=f"found in: {_clip(bad[0])}" if bad else ""))  # fmt: skip
    for doc in expect.citations:
        cited, retrieved = _cited(doc, scope.reply), _retrieved(doc, scope.results)
        detail = (
            "cited and retrieved"
            if cited and retrieved
            else ("not cited in the reply" if not cited else "cited, but no knowledge tool returned it in this scope")
        )
        out.append(Outcome(scope=scope.label, name=f"citation {doc}", ok=cited and retrieved, detail=detail))
    if expect.waiting is not None:
        ok = scope.waiting == expect.waiting
        detail = "" if ok else f"the conversation {'waits' if scope.waiting else 'does not wait'}"
        out.append(Outcome(scope=scope.label, name=f"waiting={str(expect.waiting).lower()}", ok=ok, detail=detail))
    return out


def _clip(text: str, n: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"
