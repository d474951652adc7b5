"""The sandbox's search: a validated ``SearchQuery`` turned into SQL over the sandbox tables."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal, not_, select
from sqlalchemy.orm import Session

from connectors.workfront.models import SearchPage
from connectors.workfront.query import Condition, SearchQuery, field_type, normalize
from connectors.workfront.sandbox_schema import COLUMNS, ROWS, ParamValueRow


def _compare(col: Any, cond: Condition) -> ColumnElement[bool]:
    v = cond.values
    op = cond.op
    if op == "isnull":
        return col.is_(None)
    if op == "notnull":
        return col.is_not(None)
    # Nulls match nothing but isnull (SQL three-valued logic made explicit).
    present = col.is_not(None)
    if op == "eq":
        expr = col == v[0]
    elif op == "ne":
        expr = col != v[0]
    elif op == "cieq":
        expr = func.lower(col) == v[0].lower()
    elif op == "cine":
        expr = func.lower(col) != v[0].lower()
    elif op == "gt":
        expr = col > v[0]
    elif op == "gte":
        expr = col >= v[0]
    elif op == "lt":
        expr = col < v[0]
    elif op == "lte":
        expr = col <= v[0]
    elif op == "contains":
        expr = func.instr(col, v[0]) > 0
    elif op == "notcontains":
        expr = func.instr(col, v[0]) == 0
    elif op == "cicontains":
        expr = func.instr(func.lower(col), v[0].lower()) > 0
    elif op == "cinotcontains":
        expr = func.instr(func.lower(col), v[0].lower()) == 0
    elif op == "in":
        expr = col.in_(v)
    elif op == "notin":
        expr = col.not_in(v)
    elif op == "between":
        expr = col.between(v[0], v[1])
    else:  # notbetween
        expr = not_(col.between(v[0], v[1]))
    return and_(present, expr)


def _condition(row_cls: Any, obj_code: str, cond: Condition) -> ColumnElement[bool]:
    if cond.field.startswith("DE:"):
        value = ParamValueRow.value_text
        match = and_(ParamValueRow.obj_id == row_cls.id, ParamValueRow.name == cond.field)
        if cond.op == "isnull":
            return not_(exists().where(match, value.is_not(None)))
        return exists().where(match, _compare(value, cond))
    if cond.field == "objCode":
        return _compare(literal(obj_code), cond)
    col = getattr(row_cls, COLUMNS[cond.field])
    if cond.kind == "datetime":  # stored naive UTC
        cond = Condition(
            cond.field,
            cond.op,
            tuple(x.astimezone(UTC).replace(tzinfo=None) for x in cond.values),
            cond.raw,
            cond.kind,
        )
    return _compare(col, cond)


def run_search(session: Session, query: SearchQuery) -> SearchPage:
    """One page of results, ordered by ID, with the requested fields normalized like the REST client's."""
    row_cls: Any = ROWS[query.obj_code]
    where = [_condition(row_cls, query.obj_code, c) for c in query.conditions]
    total = session.scalar(select(func.count()).select_from(row_cls).where(*where)) or 0
    rows = session.scalars(
        select(row_cls).where(*where).order_by(row_cls.id).offset(query.first).limit(query.limit)
    ).all()
    custom_wanted = any(f.startswith("DE:") or f == "parameterValues" for f in query.fields)
    params: dict[str, dict[str, Any]] = {}
    if custom_wanted and rows:
        for p in session.scalars(select(ParamValueRow).where(ParamValueRow.obj_id.in_([r.id for r in rows]))):
            params.setdefault(p.obj_id, {})[p.name] = json.loads(p.value_json)
    items = []
    for row in rows:
        item: dict[str, Any] = {}
        for name in query.fields:
            if name == "objCode":
                item[name] = query.obj_code
            elif name == "parameterValues":
                item[name] = dict(sorted(params.get(row.id, {}).items()))
            elif name.startswith("DE:"):
                item[name] = params.get(row.id, {}).get(name)
            else:
                raw = getattr(row, COLUMNS[name])
                kind = field_type(query.obj_code, name) or "str"
                if kind == "datetime" and raw is not None:
                    raw = raw.replace(tzinfo=UTC)
                item[name] = normalize(kind, raw)
        items.append(item)
    nxt = query.first + len(rows)
    return SearchPage(
        obj_code=query.obj_code,
        first=query.first,
        limit=query.limit,
        total=total,
        items=items,
        next_first=nxt if nxt < total and rows else None,
    )
