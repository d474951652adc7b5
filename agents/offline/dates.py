"""Dates and periods in plain English, resolved against an explicit ``today`` (pure functions, stdlib only).

Conventions (documented because English is ambiguous):
- "Friday" / "this Friday": the next Friday on or after today; "next Friday": the first Friday strictly after
  today's week-day occurrence, i.e. the first Friday after today (same as most date parsers).
- A month-day without a year ("March 3") is the next such day on or after today for ``prefer="future"`` and the
  last one on or before today for ``prefer="past"``.
- "Q1" is the quarter of today's year (or the given year); as a single date it means the quarter's last day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

Prefer = Literal["future", "past"]

MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS |= {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
MONTHS["sept"] = 9
WEEKDAYS = {d.lower(): i for i, d in enumerate(calendar.day_name)}
WEEKDAYS |= {d.lower(): i for i, d in enumerate(calendar.day_abbr)}
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "a few": 3}  # fmt: skip

_MONTH = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"  # noqa: E501
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>\d{4}))?"
_WEEKDAY = (
    r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)"
)
_NUM = r"(?P<n>\d+|a couple of|a few|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_UNIT = r"(?P<unit>day|week|month|year)s?"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b")),
    ("month_day", re.compile(rf"\b{_MONTH}\.?\s+{_DAY}\b{_YEAR}", re.I)),
    ("day_month", re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}\b{_YEAR}", re.I)),
    ("relative_day", re.compile(r"\b(?P<word>today|tomorrow|yesterday|tonight)\b", re.I)),
    ("in_n", re.compile(rf"\b(?:in|within)\s+{_NUM}\s+{_UNIT}\b", re.I)),
    ("n_ago", re.compile(rf"\b{_NUM}\s+{_UNIT}\s+ago\b", re.I)),
    ("n_from_now", re.compile(rf"\b{_NUM}\s+{_UNIT}\s+from\s+(?:now|today)\b", re.I)),
    (
        "end_of",
        re.compile(
            r"\b(?:the\s+)?end\s+of\s+(?:the\s+)?(?P<which>this\s+|next\s+|last\s+)?(?P<what>month|week|quarter|year)\b",
            re.I,
        ),
    ),
    ("weekday", re.compile(rf"\b(?P<mod>next|this|coming|last|on)?\s*{_WEEKDAY}\b", re.I)),
    ("next_unit", re.compile(r"\b(?P<mod>next|this)\s+(?P<what>week|month)\b", re.I)),
    ("quarter", re.compile(r"\bQ(?P<q>[1-4])(?:\s*(?:of\s+)?(?:FY)?(?P<year>\d{4}))?\b", re.I)),
]


@dataclass(frozen=True, slots=True)
class DateMatch:
    """A date found in text: the date, where it was, and the words that said it."""

    date: dt.date
    start: int
    end: int
    text: str


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, clamped to the target month's last day (Jan 31 + 1 month = Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """First and last day of calendar quarter ``quarter`` (1-4) of ``year``."""
    first = dt.date(year, 3 * quarter - 2, 1)
    return first, month_end(dt.date(year, 3 * quarter, 1))


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word.lower()]


def _shift(today: dt.date, n: int, unit: str) -> dt.date:
    unit = unit.lower()
    if unit == "day":
        return today + dt.timedelta(days=n)
    if unit == "week":
        return today + dt.timedelta(weeks=n)
    return add_months(today, n * (12 if unit == "year" else 1))


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _month_day(today: dt.date, month: int, day: int, year: str | None, prefer: Prefer) -> dt.date | None:
    if year:
        return _safe_date(int(year), month, day)
    this_year = _safe_date(today.year, month, day)
    if this_year is None:
        return None
    if prefer == "future" and this_year < today:
        return _safe_date(today.year + 1, month, day)
    if prefer == "past" and this_year > today:
        return _safe_date(today.year - 1, month, day)
    return this_year


def _weekday(today: dt.date, mod: str | None, wd: str) -> dt.date:
    target = WEEKDAYS[wd.lower()[:3] if wd.lower()[:3] in WEEKDAYS else wd.lower()]
    ahead = (target - today.weekday()) % 7
    mod = (mod or "").lower()
    if mod == "last":
        return today - dt.timedelta(days=(today.weekday() - target) % 7 or 7)
    if mod == "next":
        return today + dt.timedelta(days=ahead or 7)
    return today + dt.timedelta(days=ahead)


def _end_of(today: dt.date, which: str | None, what: str) -> dt.date:
    which, what = (which or "").strip().lower(), what.lower()
    step = {"next": 1, "last": -1}.get(which, 0)
    if what == "week":
        return today + dt.timedelta(days=4 - today.weekday() + 7 * step)  # the working week ends on Friday
    if what == "month":
        return month_end(add_months(today.replace(day=1), step))
    if what == "quarter":
        q = (today.month - 1) // 3 + 1 + step
        year = today.year + (q - 1) // 4
        return quarter_bounds(year, (q - 1) % 4 + 1)[1]
    return dt.date(today.year + step, 12, 31)


def _resolve(kind: str, m: re.Match[str], today: dt.date, prefer: Prefer) -> dt.date | None:
    g = m.groupdict()
    if kind == "iso":
        return _safe_date(int(g["y"]), int(g["m"]), int(g["d"]))
    if kind in ("month_day", "day_month"):
        return _month_day(today, MONTHS[g["month"].lower()], int(g["day"]), g.get("year"), prefer)
    if kind == "relative_day":
        return today + dt.timedelta(days={"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}[g["word"].lower()])
    if kind in ("in_n", "n_from_now"):
        return _shift(today, _number(g["n"]), g["unit"])
    if kind == "n_ago":
        return _shift(today, -_number(g["n"]), g["unit"])
    if kind == "end_of":
        return _end_of(today, g.get("which"), g["what"])
    if kind == "weekday":
        return _weekday(today, g.get("mod"), g["wd"])
    if kind == "next_unit":
        if g["what"].lower() == "week":
            monday = today - dt.timedelta(days=today.weekday())
            return monday + dt.timedelta(weeks=1 if g["mod"].lower() == "next" else 0)
        return add_months(today.replace(day=1), 1 if g["mod"].lower() == "next" else 0)
    if kind == "quarter":
        year = int(g["year"]) if g.get("year") else today.year
        return quarter_bounds(year, int(g["q"]))[1]
    return None


def find_dates(text: str, today: dt.date, prefer: Prefer = "future") -> list[DateMatch]:
    """Every date expression in ``text`` (non-overlapping, left to right), resolved against ``today``."""
    found: list[DateMatch] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            if kind == "weekday" and not m.group("wd"):
                continue
            resolved = _resolve(kind, m, today, prefer)
            if resolved is not None:
                found.append(DateMatch(resolved, m.start(), m.end(), m.group(0).strip()))
                taken.append((m.start(), m.end()))
    if not found and re.search(r"\d", text):
        found = _parsed_dates(text, today, prefer)
    return sorted(found, key=lambda d: d.start)


# a numeric day ("12/15/2026", "15.03.2027", "the 20th") is left to dateparser, the maintained parser
_LOOSE_RE = re.compile(r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\b\d{1,2}\.\d{1,2}\.\d{4}\b|\bthe\s+\d{1,2}(?:st|nd|rd|th)\b",
                       re.I)  # fmt: skip


def _parsed_dates(text: str, today: dt.date, prefer: Prefer) -> list[DateMatch]:
    """Dates the fixed patterns missed, read by dateparser relative to ``today`` (month first, as in the US)."""
    spans = list(_LOOSE_RE.finditer(text))
    if not spans:
        return []
    import dateparser  # lazy: a second of import time is paid only by a request that needs it

    settings = {"RELATIVE_BASE": dt.datetime.combine(today, dt.time()), "PREFER_DATES_FROM": prefer,
                "DATE_ORDER": "MDY", "PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False}  # fmt: skip
    out = []
    for m in spans:
        words = re.sub(r"^the\s+", "", m.group(0), flags=re.I)
        parsed = dateparser.parse(words, languages=["en"], settings=settings)  # type: ignore[arg-type]
        if parsed is not None:
            out.append(DateMatch(parsed.date(), m.start(), m.end(), m.group(0)))
    return out


def find_date(text: str, today: dt.date, prefer: Prefer = "future") -> dt.date | None:
    """The first date expression in ``text``, or None."""
    dates = find_dates(text, today, prefer)
    return dates[0].date if dates else None


_PERIOD_RE = re.compile(
    r"\b(?P<rel>last|past|previous|this|current)\s+(?:(?P<n>\d+|two|three|four|six|twelve)\s+)?"
    r"(?P<unit>days?|weeks?|months?|quarters?|years?)\b"
    r"|\b(?P<ytd>year[- ]to[- ]date|ytd)\b"
    r"|\bQ(?P<q>[1-4])(?:\s*(?:of\s+)?(?P<qyear>\d{4}))?\b"
    r"|\bin\s+(?P<month>january|february|march|april|may|june|july|august|september|october|november|december)"
    r"(?:\s+(?P<myear>\d{4}))?\b"
    r"|\b(?P<since>since|from)\s+",
    re.I,
)


_MONTH_NAME = _MONTH.replace("(?P<month>", "(?:")
# fixed-form ranges inside one month: "oct 5-11 2026", "sept 14 – 20", "3-9 aug 2026"
_DAY_RANGE_RES = [
    re.compile(rf"\b(?P<m>{_MONTH_NAME})\.?\s+(?P<a>\d{{1,2}})(?:st|nd|rd|th)?\s*(?:-|–|—|to|through|thru)\s*"
               rf"(?P<b>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{{4}}))?", re.I),
    re.compile(rf"\b(?P<a>\d{{1,2}})(?:st|nd|rd|th)?\s*(?:-|–|—|to)\s*(?P<b>\d{{1,2}})(?:st|nd|rd|th)?\s+"
               rf"(?:of\s+)?(?P<m>{_MONTH_NAME})\b(?:,?\s+(?P<y>\d{{4}}))?", re.I),
]  # fmt: skip
# a whole month: "sep 2026", "in aug", "during august", "for jan 2027" (a bare month word needs its year or "in")
_MONTH_YEAR_RE = re.compile(rf"\b(?P<m>{_MONTH_NAME})\.?,?\s+(?P<y>\d{{4}})\b(?!-)", re.I)
_IN_MONTH_RE = re.compile(rf"\b(?:in|during|for|over|across|of)\s+(?:the\s+month\s+of\s+)?(?P<m>{_MONTH_NAME})\b"
                          r"(?!\s*\d)", re.I)  # fmt: skip
_WEEK_OF_MONTH_RE = re.compile(rf"\b(?P<n>first|second|third|fourth|last)\s+week\s+of\s+(?P<m>{_MONTH_NAME})\b"
                               r"(?:,?\s+(?P<y>\d{4}))?", re.I)  # fmt: skip


def _past_month(today: dt.date, month: int, year: str | None) -> dt.date:
    """The first day of ``month`` in ``year``, else the latest such month not after today's (a report looks back)."""
    y = int(year) if year else (today.year if month <= today.month else today.year - 1)
    return dt.date(y, month, 1)


def find_day_range(text: str, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """An explicit day range within one month ("mar 9-12 2027", "9 to 12 March"), both days inclusive, for something
    being planned: without a year, the next such month from today. None when the text names no day range."""
    for pattern in _DAY_RANGE_RES:
        m = pattern.search(text)
        if m is None:
            continue
        month = MONTHS[m.group("m").lower().rstrip(".")]
        year = int(m.group("y")) if m.group("y") else (today.year if month >= today.month else today.year + 1)
        a, b = _safe_date(year, month, int(m.group("a"))), _safe_date(year, month, int(m.group("b")))
        if a and b and a <= b:
            return a, b
    return None


def _fixed_period(text: str, today: dt.date) -> tuple[dt.date, dt.date] | None:
    for pattern in _DAY_RANGE_RES:
        m = pattern.search(text)
        if m is None:
            continue
        month = MONTHS[m.group("m").lower().rstrip(".")]
        first = _past_month(today, month, m.group("y"))
        a, b = _safe_date(first.year, month, int(m.group("a"))), _safe_date(first.year, month, int(m.group("b")))
        if a and b and a <= b:
            return a, b
    m = _WEEK_OF_MONTH_RE.search(text)
    if m:
        first = _past_month(today, MONTHS[m.group("m").lower()], m.group("y"))
        if m.group("n").lower() == "last":
            end = month_end(first)
            return end - dt.timedelta(days=6), end
        start = first + dt.timedelta(weeks=["first", "second", "third", "fourth"].index(m.group("n").lower()))
        return start, start + dt.timedelta(days=6)
    m = _MONTH_YEAR_RE.search(text) or _IN_MONTH_RE.search(text)
    if m:
        first = _past_month(today, MONTHS[m.group("m").lower()], m.groupdict().get("y"))
        return first, month_end(first)
    return None


def _dated(rest: str, today: dt.date) -> bool:
    """Whether ``rest`` starts with a date (what "since" / "from" must be followed by to start a period)."""
    dates = find_dates(rest, today, prefer="past")
    return bool(dates) and dates[0].start <= 4


def find_period(text: str, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """A reporting period in ``text`` as (start, end), both inclusive, or None when the text names none.

    Handles "last month", "this quarter", "last 30 days", "past 2 weeks", "year to date", "Q1 [2026]",
    "in March", "sep 2026", "oct 5-11 2026", "first week of october", "since March 3",
    "from 2026-01-01 to 2026-03-31" and "between <date> and <date>".
    """
    return _period(text, today)


def _period(text: str, today: dt.date) -> tuple[dt.date, dt.date] | None:
    m = _PERIOD_RE.search(text)
    while m is not None and m.group("since") and not _dated(text[m.end() :], today):
        m = _PERIOD_RE.search(text, m.end())  # "revenue from social in Q3": that "from" starts no period
    if m is None or not (m.group("rel") or m.group("ytd") or m.group("q")):
        fixed = _fixed_period(text, today)
        if fixed is not None:
            return fixed
    if m is None:
        dates = find_dates(text, today, prefer="past")
        if len(dates) >= 2 and re.search(r"\b(between|to|until|through|-)\b", text, re.I):
            return min(dates[0].date, dates[1].date), max(dates[0].date, dates[1].date)
        return None
    g = m.groupdict()
    if g["ytd"]:
        return dt.date(today.year, 1, 1), today
    if g["q"]:
        return quarter_bounds(int(g["qyear"]) if g["qyear"] else today.year, int(g["q"]))
    if g["month"]:
        month = MONTHS[g["month"].lower()]
        year = int(g["myear"]) if g["myear"] else (today.year if month <= today.month else today.year - 1)
        return dt.date(year, month, 1), month_end(dt.date(year, month, 1))
    if g["since"]:
        rest = text[m.end() :]
        dates = find_dates(rest, today, prefer="past")
        if not dates:
            return None
        end = dates[1].date if len(dates) > 1 else today
        return dates[0].date, end
    unit = g["unit"].lower().rstrip("s")
    current = g["rel"].lower() in ("this", "current")
    n = _number(g["n"]) if g["n"] else None
    if n is not None or (g["rel"].lower() == "past" and g["unit"].lower().endswith("s")):
        count = n or 1
        days = {"day": 1, "week": 7}.get(unit)
        start = today - dt.timedelta(days=days * count - 1) if days else add_months(today, -count * {
            "month": 1, "quarter": 3, "year": 12}[unit]) + dt.timedelta(days=1)  # fmt: skip
        return start, today
    if unit == "day":
        return (today, today) if current else (today - dt.timedelta(days=1),) * 2
    if unit == "week":
        monday = today - dt.timedelta(days=today.weekday()) - dt.timedelta(weeks=0 if current else 1)
        return monday, monday + dt.timedelta(days=6)
    if unit == "month":
        first = add_months(today.replace(day=1), 0 if current else -1)
        return first, month_end(first)
    if unit == "quarter":
        q = (today.month - 1) // 3 + (1 if current else 0)
        year = today.year if q >= 1 else today.year - 1
        return quarter_bounds(year, q if q >= 1 else 4)
    year = today.year if current else today.year - 1
    return dt.date(year, 1, 1), dt.date(year, 12, 31)
