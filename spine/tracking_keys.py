"""Tracking-key conventions (seed §8.2): how analytics systems name a campaign."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """Lower-case ASCII slug with ``_`` separators: ``"Q1 Launch!"`` -> ``"q1_launch"``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _NON_ALNUM.sub("_", ascii_name.lower()).strip("_") or "campaign"


def quarter(day: dt.date) -> str:
    """``Q1``..``Q4`` for a date."""
    return f"Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True, slots=True)
class TrackingKeys:
    campaign_id: str
    adobe_analytics: str
    google_analytics: str
    internal_metrics: str
    utm_template: dict[str, str] = field(default_factory=dict)
    salesforce: str | None = None  # set when the Salesforce campaign exists

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "adobe_analytics": self.adobe_analytics,
            "google_analytics": self.google_analytics,
            "salesforce": self.salesforce,
            "internal_metrics": self.internal_metrics,
            "utm_template": dict(self.utm_template),
        }


def generate_tracking_keys(campaign_id: str, name: str, launch_date: dt.date) -> TrackingKeys:
    """Adobe ``slug_year``, Google ``CMP_`` + last 8 of the id, internal ``MKT-Q{n}{year}-SLUG10``, UTM."""
    base = slugify(name)
    year = launch_date.year
    return TrackingKeys(
        campaign_id=campaign_id,
        adobe_analytics=f"{base}_{year}",
        google_analytics=f"CMP_{campaign_id[-8:].upper()}",
        internal_metrics=f"MKT-{quarter(launch_date)}{year}-{base[:10].upper()}",
        utm_template={
            "utm_source": "{source}",
            "utm_medium": "{medium}",
            "utm_campaign": f"{base}_{year}",
            "utm_content": "{content}",
            "utm_term": "{term}",
        },
    )
