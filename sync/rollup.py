"""Work-item rollups onto the campaign: after inbound changes, each touched campaign gets one
``campaign.progress_updated`` event in the outbox with its items by status and overall percent complete."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from spine.models import WorkItem
from spine.repositories import SpineStore


def progress(store: SpineStore, campaign_id: str) -> dict[str, Any]:
    """Items by status, total, completed and the mean percent complete (cancelled items left out)."""
    rows = store.session.execute(
        select(WorkItem.status, func.count(), func.sum(WorkItem.percent_complete))
        .where(WorkItem.tenant_id == store.tenant_id, WorkItem.campaign_id == campaign_id)
        .group_by(WorkItem.status)
    ).all()
    by_status = {str(s): int(n) for s, n, _ in rows}
    live = [(s, n, p) for s, n, p in rows if s != "cancelled"]
    total = sum(int(n) for _, n, _ in live)
    percent = round(sum(int(p or 0) for _, _, p in live) / total) if total else 0
    return {"campaign_id": campaign_id, "items": total, "completed": by_status.get("completed", 0),
            "percent_complete": percent, "by_status": by_status}  # fmt: skip


def roll_up(store: SpineStore, campaign_ids: Iterable[str], actor: str = "sync:inbound") -> list[dict[str, Any]]:
    """Compute and publish the rollup of every campaign in ``campaign_ids`` (caller's transaction)."""
    out = []
    for cid in sorted(set(campaign_ids)):
        payload = progress(store, cid)
        store.campaigns._emit("campaign.progress_updated", "campaign", cid, payload, actor)
        out.append(payload)
    return out
