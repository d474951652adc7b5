"""Search arguments in Workfront's own syntax: object codes, fields, ``_Mod`` filters, paging.

``parse_search`` validates a call the same way for both backends; the sandbox turns the result into SQL
and the REST client turns it back into query parameters. Semantics (documented once, here):

* a filter is ``{"field": value, "field_Mod": op}``; ``op`` defaults to ``eq``; ``between`` also needs
  ``field_Range``; ``in``/``notin`` take a list; ``isnull``/``notnull`` take no value;
* a null value matches only ``isnull`` (every other operator skips it, as SQL does);
* ``contains``/``eq``/``ne`` are case-sensitive, their ``ci`` variants are not;
* ``DE:`` custom fields may be filtered and requested on projects (as text);
* results are ordered by ID ascending, ``$$LIMIT`` defaults to 100 and may not exceed 2000.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from connectors.workfront.errors import InvalidArgument
from connectors.workfront.models import GUID_RE, NAME_MAX

DEFAULT_LIMIT = 100
MAX_LIMIT = 2000

CATALOG: dict[str, dict[str, str]] = {
    "PROJ": {
        "ID": "id",
        "objCode": "str",
        "name": "str",
        "description": "str",
        "status": "code",
        "percentComplete": "float",
        "plannedStartDate": "date",
        "plannedCompletionDate": "date",
        "portfolioID": "id",
        "templateID": "id",
        "ownerID": "id",
    },
    "TASK": {
        "ID": "id",
        "objCode": "str",
        "name": "str",
        "description": "str",
        "projectID": "id",
        "status": "code",
        "assignedToID": "id",
        "plannedStartDate": "date",
        "plannedCompletionDate": "date",
        "percentComplete": "float",
        "parentID": "id",
        "workRequired": "int",
    },
    "OPTASK": {
        "ID": "id",
        "objCode": "str",
        "name": "str",
        "description": "str",
        "projectID": "id",
        "status": "code",
        "priority": "int",
        "assignedToID": "id",
    },
    "NOTE": {
        "ID": "id",
        "objCode": "str",
        "noteText": "str",
        "noteObjCode": "str",
        "objID": "id",
        "entryDate": "datetime",
    },
    "USER": {"ID": "id", "objCode": "str", "name": "str", "emailAddr": "str", "homeTeamID": "id"},
    "TEAMOB": {"ID": "id", "objCode": "str", "name": "str"},
    "PORT": {"ID": "id", "objCode": "str", "name": "str"},
    "TMPL": {"ID": "id", "objCode": "str", "name": "str"},
}

OPERATORS = frozenset(
    {
        "eq",
        "ne",
        "cieq",
        "cine",
        "gt",
        "gte",
        "lt",
        "lte",
        "contains",
        "notcontains",
        "cicontains",
        "cinotcontains",
        "in",
        "notin",
        "between",
        "notbetween",
        "isnull",
        "notnull",
    }
)
_TEXT_OPS = frozenset({"cieq", "cine", "contains", "notcontains", "cicontains", "cinotcontains"})
_ORDER_OPS = frozenset({"gt", "gte", "lt", "lte", "between", "notbetween"})


@dataclass(frozen=True)
class Condition:
    """One validated filter: ``values`` are typed (dates, numbers), ``raw`` are the caller's strings."""

    field: str
    op: str
    values: tuple[Any, ...]
    raw: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class SearchQuery:
    obj_code: str
    conditions: tuple[Condition, ...]
    fields: tuple[str, ...]
    limit: int
    first: int


def field_type(obj_code: str, field: str) -> str | None:
    """The type of ``field`` on ``obj_code`` (custom ``DE:`` fields on projects are text)."""
    if obj_code == "PROJ" and field.startswith("DE:") and 3 < len(field) <= 103:
        return "str"
    if obj_code == "PROJ" and field == "parameterValues":
        return "custom"
    return CATALOG[obj_code].get(field)


def check_obj_code(obj_code: object) -> str:
    code = obj_code.upper() if isinstance(obj_code, str) else obj_code
    if code not in CATALOG:
        raise InvalidArgument("obj_code", f"{obj_code!r} is not searchable; use one of {', '.join(CATALOG)}")
    return str(code)


def _typed(obj_code: str, field: str, kind: str, op: str, value: object, where: str) -> tuple[Any, str]:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise InvalidArgument(where, f"{value!r} is not a text or number value")
    raw = str(value)
    if len(raw) > NAME_MAX * 4:
        raise InvalidArgument(where, f"filter values may be at most {NAME_MAX * 4} characters")
    if op in _TEXT_OPS:
        return raw, raw
    try:
        if kind == "date":
            return date.fromisoformat(raw), raw
        if kind == "datetime":
            return parse_wf_datetime(raw), raw
        if kind == "float":
            return float(raw), raw
        if kind == "int":
            return int(raw), raw
    except ValueError:
        raise InvalidArgument(where, f"{raw!r} is not a valid {kind} for {obj_code}.{field}") from None
    if kind == "id" and op in {"eq", "ne", "in", "notin"} and not GUID_RE.fullmatch(raw):
        raise InvalidArgument(where, f"{raw!r} is not a Workfront ID (32 lowercase hex characters)")
    return raw, raw


def parse_search(
    obj_code: object,
    filters: Mapping[str, object] | None,
    fields: Sequence[str] | None,
    limit: object,
    first: object,
) -> SearchQuery:
    """Validate a search call; raises InvalidArgument naming ``obj_code``/``filters.X``/``fields``/..."""
    code = check_obj_code(obj_code)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgument("limit", f"{limit!r} must be a whole number from 1 to {MAX_LIMIT} ($$LIMIT)")
    if not isinstance(first, int) or isinstance(first, bool) or first < 0:
        raise InvalidArgument("first", f"{first!r} must be a whole number >= 0 ($$FIRST)")
    filters = filters or {}
    if not isinstance(filters, Mapping):
        raise InvalidArgument("filters", "give filters as a mapping, e.g. {'name': 'x', 'name_Mod': 'cicontains'}")
    mods: dict[str, str] = {}
    ranges: dict[str, object] = {}
    values: dict[str, object] = {}
    for key, value in filters.items():
        if not isinstance(key, str):
            raise InvalidArgument("filters", f"filter names must be text, got {key!r}")
        if key.endswith("_Mod"):
            if not isinstance(value, str) or value not in OPERATORS:
                raise InvalidArgument(
                    f"filters.{key}", f"{value!r} is not a modifier; use one of {', '.join(sorted(OPERATORS))}"
                )
            mods[key[:-4]] = value
        elif key.endswith("_Range"):
            ranges[key[:-6]] = value
        else:
            values[key] = value
    conditions: list[Condition] = []
    for name in sorted(set(values) | set(mods) | set(ranges)):
        kind = field_type(code, name)
        if kind is None or kind == "custom":
            raise InvalidArgument(f"filters.{name}", f"unknown {code} field; known: {', '.join(CATALOG[code])}")
        op = mods.get(name, "eq")
        where = f"filters.{name}"
        if op in _TEXT_OPS and kind not in {"str", "code", "id"}:
            raise InvalidArgument(f"filters.{name}_Mod", f"{op} works on text fields only")
        if op in _ORDER_OPS and kind in {"id", "code"}:
            raise InvalidArgument(f"filters.{name}_Mod", f"{op} does not apply to {kind} fields")
        if name in ranges and op not in {"between", "notbetween"}:
            raise InvalidArgument(f"filters.{name}_Range", "a _Range needs the modifier between or notbetween")
        if op in {"isnull", "notnull"}:
            conditions.append(Condition(name, op, (), (), kind))
            continue
        if name not in values:
            raise InvalidArgument(where, f"the modifier {op} needs a value")
        given = values[name]
        if op in {"in", "notin"}:
            items = list(given) if isinstance(given, list | tuple) else [given]
            if not items:
                raise InvalidArgument(where, f"{op} needs at least one value")
        elif isinstance(given, list | tuple):
            raise InvalidArgument(where, f"only in/notin take a list; {op} takes one value")
        elif op in {"between", "notbetween"}:
            if name not in ranges:
                raise InvalidArgument(f"filters.{name}_Range", f"{op} needs the upper bound in {name}_Range")
            items = [given, ranges[name]]
        else:
            items = [given]
        typed = [_typed(code, name, kind, op, item, where) for item in items]
        conditions.append(Condition(name, op, tuple(t[0] for t in typed), tuple(t[1] for t in typed), kind))
    field_list = _parse_fields(code, fields)
    return SearchQuery(code, tuple(conditions), field_list, limit, first)


def _parse_fields(code: str, fields: Sequence[str] | None) -> tuple[str, ...]:
    if fields is None:
        return tuple(CATALOG[code])
    if isinstance(fields, str):
        fields = [f.strip() for f in fields.split(",") if f.strip()]
    chosen = ["ID", "objCode"]
    for name in fields:
        if not isinstance(name, str) or field_type(code, name) is None:
            raise InvalidArgument("fields", f"unknown {code} field {name!r}; known: {', '.join(CATALOG[code])}")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


# -- Workfront wire values --------------------------------------------------------------------------

_WF_DT = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.:](\d{1,6}))?(Z|[+-]\d{2}:?\d{2})?$")


def parse_wf_datetime(value: str) -> datetime:
    """Parse Workfront's ``2017-10-06T13:36:28:722-0600`` (or ISO 8601) into an aware UTC datetime."""
    m = _WF_DT.match(value)
    if not m:
        raise ValueError(f"{value!r} is not a Workfront date-time")
    day, hh, mm, ss, frac, tz = m.groups()
    micro = int((frac or "0").ljust(6, "0"))
    base = datetime.fromisoformat(day).replace(hour=int(hh), minute=int(mm), second=int(ss), microsecond=micro)
    if tz in (None, "Z"):
        return base.replace(tzinfo=UTC)
    tz = tz.replace(":", "")
    offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])) * (1 if tz[0] == "+" else -1)
    return base.replace(tzinfo=timezone(offset)).astimezone(UTC)


def parse_wf_date(value: str) -> date:
    """The calendar day of a Workfront date or date-time (in the time zone it was written in)."""
    return date.fromisoformat(value[:10])


def format_datetime(value: datetime) -> str:
    """One text form for date-times in results from either backend: UTC, milliseconds."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


def normalize(kind: str, value: Any) -> Any:
    """Turn a stored or wire value into the JSON value both backends return for a field of ``kind``."""
    if value is None:
        return None
    if kind == "date":
        return (value if isinstance(value, date) else parse_wf_date(str(value))).isoformat()
    if kind == "datetime":
        return format_datetime(value if isinstance(value, datetime) else parse_wf_datetime(str(value)))
    if kind == "float":
        return float(value)
    if kind == "int":
        return int(value)
    return value
