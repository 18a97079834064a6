"""The events a member has a confirmed place at, in their private calendar feed (the one
accompaniment keeps: one address, one token, revoked in one place)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from defensa.accompaniment import ical
from defensa.events.models import Rsvp, RsvpStatus


def feed_events(user: Any, host: str) -> Iterable[ical.Event]:
    since = timezone.now() - dt.timedelta(days=30)
    rows = (
        Rsvp.objects.filter(user=user, status=RsvpStatus.GOING, event__ends_at__gte=since)
        .select_related("event", "shift")
        .order_by("event__starts_at", "pk")
    )
    for rsvp in rows:
        event = rsvp.event
        start, end = event.starts_at, event.ends_at
        summary = event.title
        if rsvp.shift is not None:
            start, end = rsvp.shift.starts_at, rsvp.shift.ends_at
            summary = _("%(title)s: %(role)s shift") % {
                "title": event.title,
                "role": rsvp.shift.get_role_display(),
            }
        yield ical.Event(
            uid=f"event-{event.pk}-{rsvp.pk}@{host}",
            sequence=0,
            start=start,
            end=end,
            summary=summary,
            location=event.place,
            description=event.description,
            cancelled=event.cancelled_at is not None,
        )


def register() -> None:
    ical.register_source(feed_events)
