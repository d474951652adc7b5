"""Keeping the spine and the external systems in step: today the backfill of what a team already has
(``backfill_read`` reads Workfront through its REST client, ``backfill`` proposes and applies links)."""
