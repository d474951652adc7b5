"""What a question asks for, so the answer quotes the sentence that answers it rather than its best-matching
neighbour: the kind of fact wanted (a number, a duration, a person or role), the amounts it names (a sentence
stating a range that excludes the amount answers another case), and its parts ("X, and Y?" needs both).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

_NUMBER_ASK = re.compile(
    r"\b(how (many|much|long|far|big|large|often|soon|early|late|old|quickly|fast)|what (percentage|percent|share|size|"
    r"length|limit|deadline|budget|amount|threshold|cap)|maximum|minimum|max|min|at most|at least|up to|"
    r"when|deadline|lead time|how far in advance)\b",
    re.I,
)
_LENGTH_ASK = re.compile(r"\bhow long (should|does|do|is|are|can|will|must)\b", re.I)
_LENGTH = re.compile(r"\b(length|duration|lasts?|long|in total|runs? for)\b", re.I)
_DURATION_ASK = re.compile(
    r"\bhow (long|far in advance|soon|early|quickly|fast)\b|\blead time\b|\bwhen\b|\bdeadline\b", re.I
)
_WHO_ASK = re.compile(r"\bwho\b|\bwhose\b|\bwhich (team|role|person|group|people|approver)\b|\bsigns? off\b", re.I)
_DIGIT = re.compile(r"\d")
_NUMBER_WORDS = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundred|thousand|half|quarter|once|twice|daily|weekly|monthly|quarterly|annually)\b",
    re.I,
)
_DURATION = re.compile(
    r"\b(minutes?|hours?|days?|weeks?|months?|years?|quarters?|business days?|L-\d+|before|after|prior|"
    r"ahead|in advance|by|until|within|deadline|due)\b",
    re.I,
)
_ROLE = re.compile(
    r"\b(leadership|vp|vice president|director|manager|owner|lead|head|team|legal|approver|approves|approved by|"
    r"cmo|ceo|cfo|finance|committee|agency|coordinator|specialist|officer|analyst|board|executive|sponsor|"
    r"partner|procurement|operations|designer|editor|reviewer|chief|counsel|council)\b",
    re.I,
)
_SYSTEM_ASK = re.compile(
    r"\b(which|what) (system|tool|platform|software|app|portal)s?\b|\bwhere (do|does|should|must|is|are|can)\b.*"
    r"\b(track|tracked|plan|planned|log|logged|request|requested|submit|submitted|upload|uploaded|record|recorded)\b",
    re.I,
)
# systems are named as proper nouns ("in Workfront", "to Asset Hub") or as a generic tool noun ("the planning tool")
_SYSTEM = re.compile(
    r"\b(?:in|into|to|through|via|using|on|from) (?:the )?(?:[A-Z][A-Za-z0-9]+(?: [A-Z][A-Za-z0-9]+)?|"
    r"[a-z]+ (?:tool|system|portal|platform|service))\b"
)
_MONEY = re.compile(r"(?:\$|usd\s?|€|eur\s?)\s?(\d[\d,]*(?:\.\d+)?)\s*(k|m|mm|million|thousand)?\b", re.I)
# shorthand without a currency sign ("75k", "2 million", "1.2M"): money in a marketer's question; a bare number is not
_BARE_MONEY = re.compile(r"(?<![\w$€.,])(\d[\d,]*(?:\.\d+)?)\s?(k|K|thousand|million|(?-i:M)(?![a-z]))\b")
# an approval asked for as a requirement ("what approval does X need", "does X need to be approved")
_APPROVAL_NEEDED = re.compile(
    r"\b(what|which|whose)\s+(kind of\s+)?(approvals?|sign[- ]?offs?|authori[sz]ations?)\b|"
    r"\b(needs?|needed|requires?|required)\b[^?.]{0,40}\b(approv\w*|sign[- ]?off|authori[sz]\w*)",
    re.I,
)
_MULT = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "mm": 1_000_000, "million": 1_000_000}
_BOUND = re.compile(
    r"\b(up to|under|below|less than|at most|not exceeding|over|above|more than|exceeding|from|at least|"
    r"between)\s+(?:\$|usd\s?|€|eur\s?)\s?(\d[\d,]*(?:\.\d+)?)\s*(k|m|mm|million|thousand)?",
    re.I,
)
_LOWER = {"over", "above", "more than", "exceeding", "from", "at least", "between"}
_STRICT_LOWER = {"over", "above", "more than", "exceeding"}
_PART_SPLIT = re.compile(
    r"\?\s+|;\s*|,?\s+and\s+(?=(?:what|which|who|whom|whose|how|when|where|is|are|do|does|can|should|must)\b)"
    r"|,\s+(?=(?:what|which|who|how|when|where)\b)",
    re.I,
)

_ASKS = re.compile(
    r"(what|which|who|whom|whose|how|when|where|why|is|are|do|does|did|can|could|should|must|may|will|would)\b",
    re.I,
)


def _amount(digits: str, unit: str | None) -> Decimal | None:
    try:
        value = Decimal(digits.replace(",", ""))
    except InvalidOperation:
        return None
    return value * _MULT[unit.lower()] if unit else value


def amounts(text: str) -> list[Decimal]:
    """Money amounts in ``text``, in order: with a currency sign ($40k, $40,000, EUR 8,000) or as shorthand without
    one (75k, 2 million, 1.2M); a bare number is a count, not money."""
    signed = list(_MONEY.finditer(text))
    found = [(m.start(), m.group(1), m.group(2)) for m in signed]
    found += [(m.start(), m.group(1), m.group(2)) for m in _BARE_MONEY.finditer(text)
              if not any(s.start() <= m.start() < s.end() for s in signed)]  # fmt: skip
    out = [_amount(digits, unit) for _, digits, unit in sorted(found)]
    return [a for a in out if a is not None]


def amount_range(text: str) -> tuple[Decimal | None, bool, Decimal | None] | None:
    """(lower bound, lower bound exclusive, upper bound) a sentence states ("Over $10,000 and up to $100,000"),
    or None when it states no bound."""
    lower: Decimal | None = None
    strict = False
    upper: Decimal | None = None
    for m in _BOUND.finditer(text):
        word, value = m.group(1).lower(), _amount(m.group(2), m.group(3))
        if value is None:
            continue
        if word in _LOWER and lower is None:
            lower, strict = value, word in _STRICT_LOWER
        elif word not in _LOWER and upper is None:
            upper = value
    if lower is None and upper is None:
        return None
    return lower, strict, upper


def specificity(amount: Decimal, bounds: tuple[Decimal | None, bool, Decimal | None]) -> float:
    """How tightly a range holds an amount (0..1): "over $100,000" holds $250,000 tighter than "over $10,000"."""
    lower, _strict, upper = bounds
    near = [float(lower / amount) if lower and amount else 0.0, float(amount / upper) if upper else 0.0]
    return max(0.0, min(1.0, max(near)))


def in_range(amount: Decimal, bounds: tuple[Decimal | None, bool, Decimal | None]) -> bool:
    """Whether ``amount`` lies within the stated bounds."""
    lower, strict, upper = bounds
    if lower is not None and (amount <= lower if strict else amount < lower):
        return False
    return upper is None or amount <= upper


@dataclass
class Focus:
    """What a question (or one part of it) asks for."""

    number: bool = False
    duration: bool = False
    length: bool = False
    who: bool = False
    amounts: list[Decimal] = field(default_factory=list)
    system: bool = False

    def fit(self, sentence: str) -> float:
        """A factor for a sentence's score: above 1 when it holds the kind of fact asked for, below when not; a
        sentence stating an amount range that excludes the asked amount is about another case."""
        factor = 1.0
        if self.number:
            has = bool(_DIGIT.search(sentence) or _NUMBER_WORDS.search(sentence))
            factor *= 1.25 if has else 0.7
        if self.duration:
            factor *= 1.15 if _DURATION.search(sentence) else 0.85
        if self.length:  # "how long should X run" asks for its length, not a deadline around it
            factor *= 1.3 if _LENGTH.search(sentence) else 1.0
        if self.who:
            factor *= 1.3 if _ROLE.search(sentence) else 0.6
        if self.amounts:
            bounds = amount_range(sentence)
            if bounds is not None:  # the tightest stated range that holds the amount is the rule for it
                fits = [specificity(a, bounds) for a in self.amounts if in_range(a, bounds)]
                factor *= 1.3 + 0.5 * max(fits) if fits else 0.3
            elif self.who:  # "who approves $40k" is answered by a rule for an amount, not by another sign-off
                factor *= 0.8
        if self.system:
            factor *= 1.3 if _SYSTEM.search(sentence) else 0.8
        return factor

    def holds(self, sentence: str) -> bool:
        """Whether the sentence holds every kind of fact asked for (a role, a duration, a number, a system)."""
        if self.who and not _ROLE.search(sentence):
            return False
        if self.duration and not _DURATION.search(sentence):
            return False
        if self.number and not (_DIGIT.search(sentence) or _NUMBER_WORDS.search(sentence)):
            return False
        if self.amounts and not _in(self.amounts, sentence):
            return False
        return not (self.system and not _SYSTEM.search(sentence))

    def missing_in(self, sentences: list[str]) -> Focus:
        """The kinds of fact asked for that none of ``sentences`` holds (empty when they answer every kind); the
        approver of an amount must be named in a sentence whose range holds the amount."""
        approver = any(_ROLE.search(s) and (not self.amounts or _in(self.amounts, s)) for s in sentences)
        return Focus(
            number=self.number and not any(_DIGIT.search(s) or _NUMBER_WORDS.search(s) for s in sentences),
            duration=self.duration and not any(_DURATION.search(s) for s in sentences),
            who=self.who and not approver,
            system=self.system and not any(_SYSTEM.search(s) for s in sentences),
            amounts=self.amounts if self.who and not approver else [],
        )

    def __bool__(self) -> bool:
        return self.number or self.duration or self.length or self.who or bool(self.amounts) or self.system


def _in(asked: list[Decimal], sentence: str) -> bool:
    bounds = amount_range(sentence)
    return bounds is not None and any(in_range(a, bounds) for a in asked)


def focus_of(question: str) -> Focus:
    """The focus of a question."""
    found = amounts(question)
    bounds = amount_range(question)
    if bounds is not None and bounds[0] is not None and bounds[1] and bounds[2] is None:
        found = [bounds[0] + 1]  # "commitments over $10k" ask about amounts above $10,000, not $10,000 itself
    return Focus(
        number=bool(_NUMBER_ASK.search(question)) and not found,  # "who approves $40k" asks for a role
        duration=bool(_DURATION_ASK.search(question)),
        length=bool(_LENGTH_ASK.search(question)),
        # an approval question about an amount asks who approves it ("does 90k need approval?")
        who=bool(_WHO_ASK.search(question)) or bool(found and _APPROVAL_NEEDED.search(question)),
        amounts=found,
        system=bool(_SYSTEM_ASK.search(question)),
    )


def question_parts(question: str, min_words: int = 3) -> list[str]:
    """The sub-questions of a multi-part question ("What is X, and how much Y?"); one part when it has none."""
    parts: list[str] = []
    context = ""
    for raw in _PART_SPLIT.split(question):
        part = raw.strip(" ,?")
        if not part:
            continue
        if not _ASKS.match(part):  # "For the LinkedIn ads in my campaign, what ...": context of the next part
            context = f"{context} {part}".strip()
            continue
        parts.append(f"{context}, {part}" if context else part)
        context = ""
    parts = [p for p in parts if len(p.split()) >= min_words]
    return parts if len(parts) > 1 else [question]
