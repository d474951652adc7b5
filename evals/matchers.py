"""Matching: values (per-argument, BFCL style), tool names, tool-call lists and routes (strict, unordered, subset,
superset, as in agent trajectory evaluators).

A matcher returns ``None`` when the actual value matches, else a short reason naming the path that differs.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from evals.cases import CallSpec, MatchMode, RegexSpec, TextSpec

_MISSING = object()
OPERATORS = ("$one_of", "$contains", "$regex", "$absent", "$present", "$exact", "$unordered", "$not", "$gte", "$lte")


def norm_text(value: str) -> str:
    """Case- and space-insensitive form of a string."""
    return " ".join(value.split()).casefold()


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            return None
    return None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def is_operator(expected: Any) -> bool:
    """True for a one-key mapping whose key is a ``$`` operator."""
    return isinstance(expected, Mapping) and len(expected) == 1 and next(iter(expected)) in OPERATORS


def match_value(expected: Any, actual: Any, path: str = "value") -> str | None:
    """``None`` when ``actual`` matches ``expected``; strings ignore case and spacing, numbers compare by value
    ("25000" == 25000.0), dicts match partially (listed keys only), lists element-wise; ``$`` operators as in README."""
    if is_operator(expected):
        return _operator(next(iter(expected)), next(iter(expected.values())), actual, path)
    if actual is _MISSING:
        return None if expected is None else f"{path}: missing (expected {_show(expected)})"
    if expected is None:
        return None if actual is None else f"{path}: expected null, got {_show(actual)}"
    if isinstance(expected, bool) or isinstance(actual, bool):  # True is not 1 here
        return (
            None
            if type(expected) is type(actual) and expected == actual
            else f"{path}: expected {_show(expected)}, got {_show(actual)}"
        )
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return f"{path}: expected an object, got {_show(actual)}"
        for key, sub in expected.items():
            reason = match_value(sub, actual.get(key, _MISSING), f"{path}.{key}")
            if reason:
                return reason
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list | tuple):
            return f"{path}: expected a list, got {_show(actual)}"
        if len(expected) != len(actual):
            return f"{path}: expected {len(expected)} items, got {len(actual)} ({_show(actual)})"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            reason = match_value(e, a, f"{path}[{i}]")
            if reason:
                return reason
        return None
    e_num, a_num = _number(expected), _number(actual)
    if e_num is not None and a_num is not None:
        return None if e_num == a_num else f"{path}: expected {_show(expected)}, got {_show(actual)}"
    if isinstance(expected, str) and isinstance(actual, str):
        return (
            None
            if norm_text(expected) == norm_text(actual)
            else f"{path}: expected {_show(expected)}, got {_show(actual)}"
        )
    return None if str(expected) == str(actual) else f"{path}: expected {_show(expected)}, got {_show(actual)}"


def _operator(op: str, arg: Any, actual: Any, path: str) -> str | None:
    present = actual is not _MISSING and actual is not None
    if op == "$absent":
        return None if (not present) == bool(arg) else f"{path}: expected {'absent' if arg else 'present'}"
    if op == "$present":
        return None if present == bool(arg) else f"{path}: expected {'present' if arg else 'absent'}"
    if op == "$one_of":
        if not isinstance(arg, list) or not arg:
            return f"{path}: $one_of needs a non-empty list"
        ok = any(match_value(option, actual, path) is None for option in arg)
        return None if ok else f"{path}: got {_show(_plain(actual))}, expected one of {_show(arg)}"
    if op == "$not":
        return None if match_value(arg, actual, path) is not None else f"{path}: must not be {_show(arg)}"
    if not present:
        return f"{path}: missing (expected {op} {_show(arg)})"
    if op == "$exact":
        return None if actual == arg else f"{path}: expected exactly {_show(arg)}, got {_show(actual)}"
    if op == "$contains":
        if isinstance(actual, list | tuple):
            ok = any(match_value(arg, item, path) is None for item in actual)
        else:
            ok = norm_text(str(arg)) in norm_text(str(actual))
        return None if ok else f"{path}: {_show(actual)} does not contain {_show(arg)}"
    if op == "$regex":
        return None if re.search(str(arg), str(actual), re.I) else f"{path}: {_show(actual)} does not match /{arg}/"
    if op == "$unordered":
        if not isinstance(actual, list | tuple) or not isinstance(arg, list):
            return f"{path}: $unordered compares lists, got {_show(actual)}"
        if len(arg) != len(actual) or len(_pairs(arg, list(actual), lambda e, a: match_value(e, a) is None)) != len(
            arg
        ):
            return f"{path}: expected {_show(arg)} in any order, got {_show(actual)}"
        return None
    number = _number(actual)
    if number is None or _number(arg) is None:
        return f"{path}: {op} compares numbers, got {_show(actual)}"
    ok = number >= _number(arg) if op == "$gte" else number <= _number(arg)  # type: ignore[operator]
    return None if ok else f"{path}: expected {op} {arg}, got {_show(actual)}"


def _plain(value: Any) -> Any:
    return None if value is _MISSING else value


def get_path(record: Mapping[str, Any], dotted: str) -> Any:
    """``a.b.c`` of a nested record; a list on the way yields the list of its items' values."""
    current: Any = record
    for key in dotted.split("."):
        if isinstance(current, list):
            current = [item.get(key, _MISSING) if isinstance(item, Mapping) else _MISSING for item in current]
            current = [c for c in current if c is not _MISSING]
        elif isinstance(current, Mapping):
            current = current.get(key, _MISSING)
        else:
            return _MISSING
        if current is _MISSING:
            return _MISSING
    return current


def match_record(spec: Mapping[str, Any], record: Mapping[str, Any], path: str = "") -> str | None:
    """Every key of ``spec`` (dotted paths allowed) matches ``record``."""
    for key, expected in spec.items():
        reason = match_value(expected, get_path(record, key), f"{path}{key}")
        if reason:
            return reason
    return None


# --- tool names and calls ---------------------------------------------------------------------------------------


WRITES_ALIAS = "@writes"


@functools.cache
def write_tools() -> frozenset[str]:
    """``server.tool`` of every tool that changes something (the policy catalog's non-read kinds)."""
    from policies.catalog import DEFAULT_CATALOG

    return frozenset(f"{t.server}.{t.tool}" for t in DEFAULT_CATALOG if t.kind not in ("read", "audit"))


def tool_matches(pattern: str, server: str, tool: str) -> bool:
    """``server.tool``, a bare ``tool`` (any server), a glob over ``server.tool`` (``*.create_*``), or ``@writes``
    (every tool that changes something)."""
    full = f"{server}.{tool}"
    if pattern == WRITES_ALIAS:
        return full in write_tools()
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(full, pattern) or ("." not in pattern and fnmatch.fnmatchcase(tool, pattern))
    return pattern == full if "." in pattern else pattern == tool


def match_call(spec: CallSpec, call: Mapping[str, Any]) -> str | None:
    """``None`` when one recorded call (``server``, ``tool``, ``arguments``, ``decision``, ``result_status``) fits."""
    if not tool_matches(spec.tool, call["server"], call["tool"]):
        return f"tool: expected {spec.tool}, got {call['server']}.{call['tool']}"
    args = call.get("arguments") or {}
    for key, expected in spec.args.items():
        reason = match_value(expected, args.get(key, _MISSING), f"args.{key}")
        if reason:
            return reason
    if spec.args_exact:
        extra = sorted(k for k, v in args.items() if k not in spec.args and v is not None)
        if extra:
            return f"args: unexpected argument(s) {', '.join(extra)}"
    if spec.decision is not None and call.get("decision") != spec.decision:
        return f"decision: expected {spec.decision}, got {call.get('decision')}"
    if spec.status is not None and call.get("result_status") != spec.status:
        return f"status: expected {spec.status}, got {call.get('result_status')}"
    return None


def call_label(call: Mapping[str, Any]) -> str:
    """``server.tool`` of a recorded call."""
    return f"{call['server']}.{call['tool']}"


def _pairs(expected: Sequence[Any], actual: Sequence[Any], fits: Callable[[Any, Any], bool]) -> dict[int, int]:
    """A maximum matching expected index -> actual index (augmenting paths; lists here are short)."""
    edges = [[j for j, a in enumerate(actual) if fits(e, a)] for e in expected]
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(expected)):
        augment(i, set())
    return {i: j for j, i in owner.items()}


def match_sequence(
    mode: MatchMode,
    expected: Sequence[Any],
    actual: Sequence[Any],
    check: Callable[[Any, Any], str | None],
    show_expected: Callable[[Any], str],
    show_actual: Callable[[Any], str],
) -> str | None:
    """Trajectory matching: strict (same order and length), unordered (same items, any order), superset (every
    expected item occurs; extras allowed), subset (nothing beyond the expected items)."""
    got = ", ".join(show_actual(a) for a in actual) or "nothing"
    if mode == "strict":
        if len(expected) != len(actual):
            return f"expected {len(expected)} in order [{', '.join(map(show_expected, expected))}], got [{got}]"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            reason = check(e, a)
            if reason:
                return f"#{i + 1} {show_expected(e)}: {reason}"
        return None
    pairs = _pairs(expected, actual, lambda e, a: check(e, a) is None)
    missing = [e for i, e in enumerate(expected) if i not in pairs]
    extra = [a for j, a in enumerate(actual) if j not in set(pairs.values())]
    if mode in ("unordered", "superset") and missing:
        e = missing[0]
        near = [check(e, a) for a in actual]
        hint = next((r for r in near if r and not r.startswith("tool:")), None)
        return f"no call matches {show_expected(e)}" + (f" ({hint})" if hint else "") + f"; got [{got}]"
    if mode in ("unordered", "subset") and extra:
        wanted = ", ".join(map(show_expected, expected))
        return f"unexpected {', '.join(show_actual(a) for a in extra)}; expected only [{wanted}]"
    return None


def match_calls(mode: MatchMode, specs: Sequence[CallSpec], calls: Sequence[Mapping[str, Any]]) -> str | None:
    """The recorded calls against the expected ones in ``mode``."""
    return match_sequence(mode, specs, calls, match_call, lambda s: s.tool, call_label)


def match_route(mode: MatchMode, expected: Sequence[str], actual: Sequence[str]) -> str | None:
    """The agents a turn was routed to against the expected ones in ``mode``."""
    reason = match_sequence(mode, expected, actual, lambda e, a: None if e == a else f"expected {e}, got {a}", str, str)
    if reason is None:
        return None
    return f"route mismatch ({mode}): expected [{', '.join(expected)}], routed to [{', '.join(actual) or 'no agent'}]"


def text_matches(spec: TextSpec, text: str) -> bool:
    """A reply check: a case/space-insensitive substring, or a regex (case-insensitive)."""
    if isinstance(spec, RegexSpec):
        return re.search(spec.regex, text, re.I | re.S) is not None
    return norm_text(spec) in norm_text(text)


def text_label(spec: TextSpec) -> str:
    """How a reply check is named in diagnostics."""
    return f"/{spec.regex}/" if isinstance(spec, RegexSpec) else repr(spec)
