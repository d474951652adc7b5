"""Measurement export formats: read an Adobe Analytics, GA4 or plain CSV export into neutral rows.

Every format is a CSV whose header names the columns (matched case-insensitively, UI labels or API names);
``#`` comment lines (the preamble both Adobe Workspace and GA4 exports write) and blank lines are skipped, and a
totals row (``Total`` / ``Grand total``, or every dimension blank) is counted, not imported. A bad value becomes a
``RowError`` naming the file line and the column; nothing here touches the database.

Plain CSV (``--format csv``) columns: ``tracking_key`` (required), ``key_system`` (``adobe_analytics`` |
``google_analytics`` | ``internal_metrics``; absent: all three are tried), ``date`` (ISO), ``channel``, ``segment``,
``impressions``, ``clicks``, ``sessions``, ``unique_visitors``, ``page_views``, ``conversions``, ``spend``,
``revenue``, ``currency``.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal

from spine.enums import Channel

Format = Literal["adobe", "ga4", "csv"]
KEY_SYSTEMS = ("adobe_analytics", "google_analytics", "internal_metrics")
SOURCE_SYSTEM: dict[str, str] = {"adobe": "adobe_analytics", "ga4": "google_analytics", "csv": "custom"}
TOTAL_LABELS = frozenset({"total", "totals", "grand total"})

# Neutral field -> accepted header names (lower case): the UI export label first, then the API name.
_GA4: dict[str, tuple[str, ...]] = {
    "key": ("session campaign", "sessioncampaignname", "session campaign name", "campaign", "campaignname"),
    "date": ("date",),
    "channel": ("session default channel group", "sessiondefaultchannelgroup", "default channel group"),
    "segment": ("session source / medium", "sessionsourcemedium", "session source/medium"),
    "impressions": ("google ads impressions", "advertiseradimpressions", "ads impressions", "impressions"),
    "clicks": ("google ads clicks", "advertiseradclicks", "ads clicks", "clicks"),
    "spend": ("google ads cost", "advertiseradcost", "ads cost", "cost"),
    "sessions": ("sessions",),
    "unique_visitors": ("total users", "totalusers", "users"),
    "page_views": ("views", "screenpageviews", "screen page views"),
    "conversions": ("key events", "keyevents", "conversions"),
    "revenue": ("total revenue", "totalrevenue", "purchase revenue", "purchaserevenue"),
    "bounce_rate": ("bounce rate", "bouncerate"),
    "currency": ("currency", "currency code", "currencycode"),
}
_ADOBE: dict[str, tuple[str, ...]] = {
    "key": ("tracking code", "variables/trackingcode", "trackingcode"),
    "date": ("day", "date", "variables/daterangeday"),
    "channel": ("marketing channel", "variables/marketingchannel", "last touch channel"),
    "segment": ("marketing channel detail", "variables/marketingchanneldetail"),
    "impressions": ("amo impressions", "metrics/ad_impressions", "impressions"),
    "clicks": ("amo clicks", "metrics/ad_clicks", "clicks"),
    "spend": ("amo cost", "metrics/ad_cost", "marketing cost", "cost", "spend"),
    "sessions": ("visits", "metrics/visits"),
    "unique_visitors": ("unique visitors", "metrics/visitors", "visitors"),
    "page_views": ("page views", "metrics/pageviews", "pageviews"),
    "conversions": ("orders", "metrics/orders"),
    "revenue": ("revenue", "metrics/revenue"),
    "bounce_rate": ("bounce rate", "metrics/bouncerate"),
    "currency": ("currency",),
}
_CSV: dict[str, tuple[str, ...]] = {
    "key": ("tracking_key", "campaign_key"),
    "key_system": ("key_system",),
    "date": ("date",),
    "channel": ("channel",),
    "segment": ("segment",),
    "impressions": ("impressions",),
    "clicks": ("clicks",),
    "spend": ("spend", "cost"),
    "sessions": ("sessions",),
    "unique_visitors": ("unique_visitors",),
    "page_views": ("page_views",),
    "conversions": ("conversions",),
    "revenue": ("revenue", "revenue_attributed"),
    "bounce_rate": ("bounce_rate",),
    "currency": ("currency",),
}
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {"ga4": _GA4, "adobe": _ADOBE, "csv": _CSV}

# Channel labels of GA4 default channel groups and Adobe marketing channels -> canonical channels.
_CHANNELS: dict[str, str] = {
    "email": "email",
    "paid search": "paid_media",
    "paid social": "social",
    "organic social": "social",
    "social networks": "social",
    "social": "social",
    "display": "paid_media",
    "paid video": "paid_media",
    "paid other": "paid_media",
    "paid shopping": "paid_media",
    "cross-network": "paid_media",
    "affiliates": "partner",
    "referral": "partner",
    "referring domains": "web",
    "organic search": "web",
    "natural search": "web",
    "organic video": "web",
    "organic shopping": "web",
    "direct": "web",
    "events": "events",
}
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%b %d, %Y", "%B %d, %Y", "%m/%d/%Y")
_MONEY_JUNK = re.compile(r"[\s,$€£¥]")


@dataclass(frozen=True, slots=True)
class RowError:
    """A value that could not be read: the file line, the column (as the file names it) and the fix."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column!r}: {self.message}"


@dataclass(slots=True)
class ParsedRow:
    """One data row of an export, in neutral terms; ``key_systems`` are the tracking systems to match on."""

    line: int
    key: str
    key_systems: tuple[str, ...]
    date: dt.date
    channel: str
    segment: str | None = None
    impressions: int = 0
    clicks: int = 0
    conversions: int = 0
    sessions: int | None = None
    unique_visitors: int | None = None
    page_views: int | None = None
    bounce_rate: float | None = None
    spend: Decimal | None = None
    revenue: Decimal | None = None
    currency: str | None = None


@dataclass(slots=True)
class ParsedFile:
    format: Format
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    totals_skipped: int = 0


def _data_lines(text: str) -> Iterable[tuple[int, list[str]]]:
    """(1-based file line, cells) of every non-comment, non-blank line."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        yield number, next(csv.reader([line]))


def detect_format(header: list[str]) -> Format:
    """The format whose key column the header holds; ValueError naming the columns it looked for."""
    names = {h.strip().lower() for h in header}
    for fmt in ("adobe", "ga4", "csv"):
        if names & set(COLUMNS[fmt]["key"]):
            return fmt  # type: ignore[return-value]
    wanted = ", ".join(f"{fmt}: {COLUMNS[fmt]['key'][0]!r}" for fmt in COLUMNS)
    raise ValueError(f"no campaign key column in the header; expected one of ({wanted})")


def _int(raw: str) -> int:
    value = Decimal(_MONEY_JUNK.sub("", raw))
    if value != value.to_integral_value() or value < 0:
        raise ValueError(f"{raw!r} is not a whole number >= 0")
    return int(value)


def _money(raw: str) -> Decimal:
    value = Decimal(_MONEY_JUNK.sub("", raw))
    if not value.is_finite() or value < 0:
        raise ValueError(f"{raw!r} is not an amount >= 0")
    return value


def _rate(raw: str) -> float:
    text = raw.strip()
    value = float(text.rstrip("%")) / 100 if text.endswith("%") else float(text)
    if not 0 <= value <= 1:
        raise ValueError(f"{raw!r} is not a rate between 0 and 1 (or 0% and 100%)")
    return value


def _date(raw: str) -> dt.date:
    text = raw.strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{raw!r} is not a date (use YYYY-MM-DD, YYYYMMDD, 'Jan 5, 2027' or MM/DD/YYYY)")


def _channel(raw: str) -> str:
    text = raw.strip().lower()
    if text in {c.value for c in Channel}:
        return text
    return _CHANNELS.get(text, "other")


def _currency(raw: str) -> str:
    text = raw.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise ValueError(f"{raw!r} is not an ISO 4217 currency code (e.g. USD)")
    return text


def _key_systems(raw: str) -> tuple[str, ...]:
    text = raw.strip().lower()
    if text not in KEY_SYSTEMS:
        raise ValueError(f"{raw!r} is not a key system; use one of {list(KEY_SYSTEMS)}")
    return (text,)


_PARSERS: dict[str, Callable[[str], object]] = {
    "impressions": _int,
    "clicks": _int,
    "conversions": _int,
    "sessions": _int,
    "unique_visitors": _int,
    "page_views": _int,
    "bounce_rate": _rate,
    "spend": _money,
    "revenue": _money,
    "currency": _currency,
    "channel": _channel,
    "date": _date,
    "key_systems": _key_systems,
}
_DEFAULT_KEY_SYSTEMS: dict[str, tuple[str, ...]] = {
    "adobe": ("adobe_analytics",),
    "ga4": ("google_analytics",),
    "csv": KEY_SYSTEMS,
}


def parse_export(text: str, fmt: Format | None = None) -> ParsedFile:
    """Parse an export; ``fmt`` None detects it from the header. Header problems raise ValueError."""
    lines = iter(_data_lines(text.lstrip("\ufeff")))
    try:
        header_line, header = next(lines)
    except StopIteration:
        raise ValueError("the file has no header row (it is empty or only comments)") from None
    fmt = fmt or detect_format(header)
    names = [h.strip().lower() for h in header]
    columns: dict[str, int] = {}
    for neutral, accepted in COLUMNS[fmt].items():
        for name in accepted:
            if name in names:
                columns["key_systems" if neutral == "key_system" else neutral] = names.index(name)
                break
    for required in ("key", "date"):
        if required not in columns:
            wanted = " or ".join(repr(n) for n in COLUMNS[fmt][required])
            raise ValueError(f"line {header_line}: the {fmt} header has no {required} column; add {wanted}")
    out = ParsedFile(format=fmt)
    for number, cells in lines:
        _parse_row(out, fmt, header, columns, number, cells)
    return out


def _parse_row(
    out: ParsedFile, fmt: Format, header: list[str], columns: dict[str, int], number: int, cells: list[str]
) -> None:
    key = cells[columns["key"]].strip() if columns["key"] < len(cells) else ""
    dimensions = [cells[columns[d]].strip() for d in ("key", "date", "channel", "segment")
                  if d in columns and columns[d] < len(cells)]  # fmt: skip
    if key.lower() in TOTAL_LABELS or not any(dimensions):  # a totals row: labelled, or with every dimension blank
        out.totals_skipped += 1
        return
    if len(cells) != len(header):
        out.errors.append(RowError(number, "*", f"{len(cells)} cells, the header has {len(header)}"))
        return
    if not key:
        out.errors.append(RowError(number, header[columns["key"]], "empty campaign key; fill it or delete the row"))
        return
    values: dict[str, object] = {}
    ok = True
    for neutral, index in columns.items():
        if neutral == "key":
            continue
        raw = cells[index].strip()
        if not raw:
            if neutral == "date":
                out.errors.append(RowError(number, header[index], "empty date; every row needs its day"))
                ok = False
            continue
        if neutral == "segment":
            values[neutral] = raw[:128]
            continue
        try:
            values[neutral] = _PARSERS[neutral](raw)
        except (ValueError, InvalidOperation) as exc:
            message = str(exc) if isinstance(exc, ValueError) else f"{raw!r} is not a number"
            out.errors.append(RowError(number, header[index], message))
            ok = False
    if not ok:
        return
    values.setdefault("key_systems", _DEFAULT_KEY_SYSTEMS[fmt])
    values.setdefault("channel", "other" if fmt == "csv" else "web")  # web analytics exports measure the site
    out.rows.append(ParsedRow(line=number, key=key[:200], **values))  # type: ignore[arg-type]
