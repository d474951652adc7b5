"""Slot extraction from a request: money, currencies, tiers, channels, systems, campaign types, task statuses,
quoted names, new-object names and people (pure functions; dates live in ``agents.offline.dates``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

CampaignType = Literal["standard", "event", "partner", "product_launch"]
System = Literal["workfront", "asana"]
TaskState = Literal["new", "in_progress", "complete"]

SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
CODES = ("USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF", "SEK", "NOK", "DKK", "INR", "SGD", "NZD", "MXN", "BRL")
CURRENCY_WORDS = {"dollar": "USD", "dollars": "USD", "bucks": "USD", "euro": "EUR", "euros": "EUR",
                  "pound": "GBP", "pounds": "GBP", "yen": "JPY"}  # fmt: skip
MULTIPLIERS = {"k": Decimal(1000), "thousand": Decimal(1000), "m": Decimal(10**6), "mm": Decimal(10**6),
               "mn": Decimal(10**6), "million": Decimal(10**6), "b": Decimal(10**9), "bn": Decimal(10**9),
               "billion": Decimal(10**9)}  # fmt: skip
DEFAULT_CURRENCY = "USD"

_NUMBER = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_MULT = r"(?:\s?(?P<mult>k|thousand|mm|mn|million|m|bn|billion|b)\b)?"
_CODE = r"(?P<code>" + "|".join(CODES) + r")"
_WORD = r"(?P<word>" + "|".join(CURRENCY_WORDS) + r")"
_MONEY_PATTERNS = [
    re.compile(r"(?P<sym>[$€£¥])\s?" + _NUMBER + _MULT, re.I),
    re.compile(r"\b" + _CODE + r"\s?" + _NUMBER + _MULT, re.I),
    re.compile(r"\b" + _NUMBER + _MULT + r"\s?" + _CODE + r"\b", re.I),
    re.compile(r"\b" + _NUMBER + _MULT + r"\s" + _WORD + r"\b", re.I),
    re.compile(r"\b" + _NUMBER + r"\s?(?P<mult>k|thousand|million|mm|bn|m)\b(?!\s*(?:minutes?|min|meters?)\b)", re.I),
    re.compile(r"\bbudget(?:\s+(?:of|is|to|=|at))?\s*:?\s*" + _NUMBER + r"\b(?!\s*(?:%|percent|days?|weeks?))", re.I),
]


@dataclass(frozen=True, slots=True)
class Money:
    """An amount with its ISO 4217 currency; ``text`` is what the user wrote."""

    amount: Decimal
    currency: str
    text: str = ""

    def as_arg(self) -> dict[str, str]:
        """The spine's money shape: ``{"amount": "25000", "currency": "USD"}`` (a decimal string, never a float)."""
        return {"amount": format(self.amount.normalize(), "f"), "currency": self.currency}


def find_money(text: str) -> Money | None:
    """The first amount of money in ``text`` ("$25k", "25,000 USD", "€40k", "40000 eur", "£5m", "budget 9000")."""
    found = find_all_money(text)
    return found[0] if found else None


def find_all_money(text: str) -> list[Money]:
    """Every amount of money in ``text``, left to right (overlapping readings keep the earliest pattern)."""
    hits: list[tuple[int, int, Money]] = []
    for pattern in _MONEY_PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e, _ in hits):
                continue
            g = m.groupdict()
            try:
                amount = Decimal(g["num"].replace(",", ""))
            except InvalidOperation:
                continue
            if g.get("mult"):
                amount *= MULTIPLIERS[g["mult"].lower()]
            currency = (
                SYMBOLS[g["sym"]] if g.get("sym")
                else g["code"].upper() if g.get("code")
                else CURRENCY_WORDS[g["word"].lower()] if g.get("word")
                else DEFAULT_CURRENCY
            )  # fmt: skip
            hits.append((m.start(), m.end(), Money(amount, currency, m.group(0).strip())))
    return [money for _, _, money in sorted(hits, key=lambda h: h[0])]


def find_currency(text: str) -> str | None:
    """A currency the text names on its own ("in euros", "EUR", "€"), or None."""
    for sym, code in SYMBOLS.items():
        if sym in text:
            return code
    m = re.search(r"\b" + _CODE + r"\b", text, re.I)
    if m:
        return m.group("code").upper()
    m = re.search(r"\b" + _WORD + r"\b", text, re.I)
    return CURRENCY_WORDS[m.group("word").lower()] if m else None


_TIER_WORDS = {"one": 1, "two": 2, "three": 3, "1": 1, "2": 2, "3": 3, "i": 1, "ii": 2, "iii": 3}
_TIER_RE = re.compile(r"\btier[\s-]?(?P<n>[123]|one|two|three|iii|ii|i)\b|\bT(?P<t>[123])\b", re.I)


def find_tier(text: str) -> int | None:
    """Campaign tier 1-3 ("tier 1", "Tier-2", "tier three", "T2"), or None."""
    m = _TIER_RE.search(text)
    if m is None:
        return None
    return _TIER_WORDS[(m.group("n") or m.group("t")).lower()]


_CHANNEL_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"\b(e-?mails?|newsletters?|edm|drip)\b", re.I)),
    ("paid_media", re.compile(r"\b(paid[ _]media|paid|ads|advertising|ppc|sem|display|programmatic)\b", re.I)),
    ("social", re.compile(r"\b(social(?: media)?|linkedin|twitter|facebook|instagram|tiktok)\b", re.I)),
    ("web", re.compile(r"\b(web|website|landing pages?|seo|site)\b", re.I)),
    ("events", re.compile(r"\b(events|trade ?shows?|booths?|field marketing|in-person)\b", re.I)),
    ("partner", re.compile(r"\b(partners|partner channel|via partners?|through partners?|channel partners?)\b", re.I)),
]


def find_channels(text: str) -> list[str]:
    """Marketing channels named in ``text`` (the spine's codes), in the spine's order, without duplicates."""
    return [code for code, pattern in _CHANNEL_PATTERNS if pattern.search(text)]


def find_system(text: str) -> System | None:
    """'workfront' or 'asana' when the text names one of them, else None."""
    m = re.search(r"\b(workfront|asana)\b", text, re.I)
    return m.group(1).lower() if m else None  # type: ignore[return-value]


_TYPE_EXPLICIT = re.compile(
    r"\b(?P<t>standard|event|partner|co-?marketing|product[ -]launch|launch)\s+campaign\b", re.I
)
_TYPE_HINTS: list[tuple[CampaignType, re.Pattern[str]]] = [
    ("event", re.compile(r"\b(event|conference|summit|webinars?|trade ?show|roadshow|meetup|expo|workshop)\b", re.I)),
    ("partner", re.compile(r"\b(partners?|co-?marketing|resellers?|alliances?)\b", re.I)),
    ("product_launch", re.compile(r"\b(product[ -]launch|launch|release|go-to-market|gtm|\bga\b)\b", re.I)),
    ("standard", re.compile(r"\b(standard|nurture|always-on|brand|awareness|promo(?:tion)?s?)\b", re.I)),
]


def find_campaign_type(text: str, name: str | None = None) -> CampaignType | None:
    """The campaign type the text asks for: an explicit "<type> campaign" first, then hints in the rest of the
    text, then hints in the new campaign's ``name``; None when nothing hints at a type."""
    m = _TYPE_EXPLICIT.search(text)
    if m:
        word = m.group("t").lower().replace("-", "").replace(" ", "")
        return {"comarketing": "partner", "productlaunch": "product_launch", "launch": "product_launch"}.get(word, word)  # type: ignore[return-value]
    rest = text.replace(name, " ") if name else text
    for source in (rest, name or ""):
        for kind, pattern in _TYPE_HINTS:
            if pattern.search(source):
                return kind
    return None


_STATE_PATTERNS: list[tuple[TaskState, re.Pattern[str]]] = [
    (
        "new",
        re.compile(
            r"\b(not (?:yet )?(?:complete[d]?|finished|closed)|incomplete|"
            r"no longer (?:done|complete[d]?|finished)|not started|not done|reopen\w*|re-open\w*|to ?do|"
            r"back to new|new|isn'?t done|undone)\b",
            re.I,
        ),
    ),
    (
        "in_progress",
        re.compile(r"\b(in[ -]progress|started|start(?:ing)?|working on|underway|ongoing|began|begun|wip|inp)\b", re.I),
    ),
    (
        "complete",
        re.compile(r"\b(done|complete[d]?|finish(?:ed)?|closed?|close out|tick(?:ed)? off|cpl|resolved)\b", re.I),
    ),
]
WORKFRONT_STATUS: dict[TaskState, str] = {"new": "NEW", "in_progress": "INP", "complete": "CPL"}


_INSTEAD_RE = re.compile(
    r"\b(?:instead of|rather than|not as)\s+(?:being\s+)?[\w -]{1,20}?(?=$|[,.;]|\s+(?:and|but)\b)", re.I
)


def find_task_state(text: str) -> TaskState | None:
    """The task status the user asks for (negations such as "isn't done", "not complete", "no longer done" and
    "reopen" mean new; the state after "instead of" is the one NOT wanted), or None."""
    text = _INSTEAD_RE.sub(" ", text)
    for state, pattern in _STATE_PATTERNS:
        if pattern.search(text):
            return state
    return None


def workfront_status(state: TaskState) -> str:
    """Workfront task status code for a state: NEW, INP or CPL."""
    return WORKFRONT_STATUS[state]


def asana_completed(state: TaskState) -> bool:
    """Asana only knows completed or not."""
    return state == "complete"


_QUOTE_RE = re.compile(r"\"([^\"]{1,300})\"|“([^”]{1,300})”|‘([^’]{1,300})’|(?<![\w])'([^']{1,300})'(?![\w])")


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    start: int
    end: int


def quoted(text: str) -> list[Span]:
    """Quoted strings ('...', "...", curly quotes) with their positions; apostrophes inside words do not count."""
    out = []
    for m in _QUOTE_RE.finditer(text):
        inner = next(g for g in m.groups() if g is not None).strip()
        if inner:
            out.append(Span(inner, m.start(), m.end()))
    return out


def blank(text: str, spans: list[Span] | list[tuple[int, int]]) -> str:
    """``text`` with the given spans replaced by spaces (positions of the rest stay the same)."""
    chars = list(text)
    for span in spans:
        start, end = (span.start, span.end) if isinstance(span, Span) else span
        chars[start:end] = " " * (end - start)
    return "".join(chars)


_NAMED_RE = re.compile(
    r"\b(?:called|named|titled|name it|name:)\s+(?P<name>[A-Z0-9][\w&'’.-]*(?:\s+(?!(?:with|for|on|in|at|to|by|"
    r"launching|starting|due|budget|tier|from|and|that|which|type|as)\b)[\w&'’.-]+){0,7})"
    r"|\bcampaign\s*:\s*(?P<name2>[A-Z0-9][^,;.]{2,80})",
)


_FUNCTION_TEXT = """a an the for to of on in at by with from and or but it its this that these those them he she him her
they we you i me my our your his their new task tasks campaign campaigns project projects any some what which who
how when where why is are was were be please can could would should will do does did about as into onto up out"""
_FUNCTION_WORDS = frozenset(_FUNCTION_TEXT.split())


def meaningful_name(name: str) -> bool:
    """Whether a name for a new object is a meaningful phrase: at least one word of three or more letters that is
    not a function word ("For", "the task", "?" are not names)."""
    words = re.findall(r"[^\W_]+", name.lower())
    return any(len(w) >= 3 and w not in _FUNCTION_WORDS for w in words) or bool(re.search(r"\d", name) and words)


def find_new_name(text: str) -> str | None:
    """The name of a new object: the first quoted string, else the words after "called/named/titled", else
    "campaign: <Name>"; None when the user gave no name."""
    spans = quoted(text)
    if spans:
        return spans[0].text
    m = _NAMED_RE.search(text)
    if m is None:
        return None
    return (m.group("name") or m.group("name2")).strip(" .,'’")


_NAME = r"@?[A-Za-z][\w.]*(?:\s+[A-Z][a-z]+)?"
_CAP_NAME = r"@?[A-Z][\w.]*(?:\s+[A-Z][a-z]+)?"
# Verbs match in any case ((?i:...)); a name after "let/make/assign X" must be capitalised, after "to" need not be.
_PERSON_PATTERNS = [
    re.compile(rf"\b(?i:assign)\s+(?P<n>{_CAP_NAME})\s+(?i:to|on)\b"),
    re.compile(rf"\b(?i:assign(?:ed)?|reassign|give|hand|delegate|put)\b.*?\b(?i:to|over to)\s+(?P<n>{_NAME})"),
    re.compile(
        rf"\b(?i:let|make|have|put|set)\s+(?P<n>{_CAP_NAME})\s+"
        r"(?i:handle|take|do|own|the owner|responsible|as assignee|on)\b"
    ),
    re.compile(rf"\b(?i:can)\s+(?P<n>{_CAP_NAME})\s+(?i:take)\b"),
    re.compile(r"(?P<n>@[\w.]+)"),
]
_NOT_PEOPLE = {"it", "the", "this", "that", "them", "her", "him", "in", "progress", "done", "me", "workfront", "asana"}


def find_person(text: str) -> str | None:
    """Who the user wants to assign: "assign X to Priya", "hand it to Leo Martins", "let Omar handle",
    "@maya.chen"; the words as written (matched against real users later), or None."""
    for pattern in _PERSON_PATTERNS:
        for m in pattern.finditer(text):
            words = [w for w in m.group("n").lstrip("@").split() if w.lower() not in _NOT_PEOPLE]
            if words:
                return " ".join(words)
    return None


_APPROVAL_ID_RE = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)


def find_uuid(text: str) -> str | None:
    """The first UUID in the text (an approval or campaign id), lower-cased."""
    m = _APPROVAL_ID_RE.search(text)
    return m.group(0).lower() if m else None
