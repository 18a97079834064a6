"""The public page of verified incidents: coarse, approximate, verified only.

An incident appears only when its committee turned the page on (a response rule, off by
default) and it was verified: it is confirmed now, or it was confirmed and then closed. Never
one that is new, being verified, a false alarm, closed without confirmation, or merged into
another incident. What shows: the category, the neighbourhood (ZIP codes and a compass side,
never an address or a point), the hour it began (rounded down) and the committee's name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from defensa.incidents.areas import where_label
from defensa.incidents.models import Incident, State, TimelineAction, TimelineEntry

LIMIT = 100


@dataclass(frozen=True)
class PublicIncident:
    category: str
    where: str
    around: dt.datetime  # the hour it began, in the committee's time zone
    committee: str


def verified_incidents(
    now: dt.datetime | None = None, *, preview_for: Any = None
) -> list[PublicIncident]:
    """What the public page shows. With `preview_for` (a committee): what it would show of
    that committee, switched on or not (for its coordinators' settings page)."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=settings.PUBLIC_VERIFIED_DAYS)
    was_confirmed = TimelineEntry.objects.filter(
        incident=OuterRef("pk"), action=TimelineAction.STATE_CHANGED, detail__to=State.CONFIRMED
    )
    shown_by = (
        Q(committee=preview_for)
        if preview_for is not None
        else Q(committee__public_page__show_verified=True)
    )
    incidents = (
        Incident.objects.filter(
            shown_by,
            merged_into__isnull=True,
            first_observed_at__gte=since,
        )
        .alias(confirmed=Exists(was_confirmed))
        .filter(Q(state=State.CONFIRMED) | Q(state=State.CLOSED, confirmed=True))
        .select_related("committee")
        .order_by("-first_observed_at")
    )
    shown = []
    for incident in incidents[:LIMIT]:
        began = incident.first_observed_at.astimezone(incident.committee.tz)  # type: ignore[union-attr]
        shown.append(
            PublicIncident(
                category=incident.get_category_display(),
                where=where_label(incident),
                around=began.replace(minute=0, second=0, microsecond=0),
                committee=incident.committee.name,  # type: ignore[union-attr]
            )
        )
    return shown
