"""Row schema versions (seed §9): transformers upgrade rows written by older code when they are read.

Every versioned table has a ``_schema_version`` column. ``CURRENT`` says the version this code writes;
``upgrade(entity, data)`` walks the transformer chain (N-1 -> N). Rows more than the supported window
behind, or with no path, raise ``SchemaVersionError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from spine.errors import SchemaVersionError

Transformer = Callable[[dict[str, Any]], dict[str, Any]]

_LEGACY_CHANNELS = {"paid": "paid_media", "paid_search": "paid_media", "event": "events", "site": "web"}


def _campaign_v1_to_v2(row: dict[str, Any]) -> dict[str, Any]:
    # v2 normalised legacy channel names and made list fields never-null.
    out = dict(row)
    out["channels"] = list(dict.fromkeys(_LEGACY_CHANNELS.get(c, c) for c in row.get("channels") or []))
    for key in ("stakeholder_ids", "audiences", "products", "regions", "tags"):
        value = row.get(key)
        if isinstance(value, str):  # v1 stored comma-separated strings
            value = [v.strip() for v in value.split(",") if v.strip()]
        out[key] = list(value or [])
    return out


def _strategy_v1_to_v2(row: dict[str, Any]) -> dict[str, Any]:
    # v1 content was {"body": markdown}; v2 is {"sections": [...], "attachments": [...]}.
    out = dict(row)
    content = dict(row.get("content") or {})
    if "sections" not in content:
        body = content.pop("body", "")
        content = {
            "sections": [{"heading": row.get("title") or "Strategy", "body": body, "subsections": []}],
            "attachments": content.pop("attachments", []),
        }
    out["content"] = content
    return out


def _work_item_v1_to_v2(row: dict[str, Any]) -> dict[str, Any]:
    # v1 stored percent_complete as a 0-1 fraction.
    out = dict(row)
    pc = row.get("percent_complete")
    if pc is not None and 0 < pc <= 1:
        out["percent_complete"] = round(pc * 100)
    return out


CURRENT: Mapping[str, int] = MappingProxyType(
    {"campaign": 2, "strategy": 2, "work_item": 2, "asset": 1, "measurement": 1, "run": 1, "tenant": 1}
)

TRANSFORMERS: Mapping[str, Mapping[int, Transformer]] = MappingProxyType(
    {
        "campaign": MappingProxyType({1: _campaign_v1_to_v2}),
        "strategy": MappingProxyType({1: _strategy_v1_to_v2}),
        "work_item": MappingProxyType({1: _work_item_v1_to_v2}),
    }
)

SUPPORTED_WINDOW = 1  # N and N-1 must both read (seed §9.1)


def current_version(entity: str) -> int:
    """The schema version this code writes for ``entity``."""
    return CURRENT.get(entity, 1)


def upgrade(entity: str, data: dict[str, Any]) -> dict[str, Any]:
    """Upgrade a row dict (with ``schema_version``) to the current version; returns a new dict."""
    target = current_version(entity)
    version = int(data.get("schema_version") or 1)
    if version > target:
        raise SchemaVersionError(
            "_schema_version",
            f"{entity} row is at schema version {version}, newer than this code ({target})",
            "upgrade MCC",
        )
    if target - version > SUPPORTED_WINDOW:
        raise SchemaVersionError(
            "_schema_version",
            f"{entity} row is at schema version {version}; only {target - SUPPORTED_WINDOW}..{target} read",
            "run the batch migration (mcc db upgrade-rows) first",
        )
    row = dict(data)
    while version < target:
        step = TRANSFORMERS.get(entity, {}).get(version)
        if step is None:
            raise SchemaVersionError(
                "_schema_version", f"no upgrade path for {entity} from v{version}", "add a transformer"
            )
        row = step(row)
        version += 1
        row["schema_version"] = version
    return row
