"""The broadcast segment "RSVPed to this event": people with an account whose RSVP to the
event (or to one of its shifts) is confirmed or on the waiting list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.accounts.models import User
from defensa.broadcasts import segments
from defensa.committees.access import committee_and_below
from defensa.events.models import Event, Rsvp, RsvpStatus

NAME = "event"
# Events a broadcast may still be about: upcoming ones, and those that ended this week (a
# thank-you, the next step).
RECENT = dt.timedelta(days=7)


def rsvped(broadcast: Any, people: QuerySet[User]) -> QuerySet[User]:
    event_id = (broadcast.extra or {}).get(NAME)
    if not event_id:
        return people
    return people.filter(
        pk__in=Rsvp.objects.filter(
            event_id=event_id,
            event__committee_id__in=committee_and_below(broadcast.committee),
            user__isnull=False,
            status__in=(RsvpStatus.GOING, RsvpStatus.WAITLIST),
        ).values("user_id")
    )


def event_field(committee: Any) -> forms.Field | None:
    rows = Event.objects.filter(
        committee_id__in=committee_and_below(committee),
        ends_at__gte=timezone.now() - RECENT,
    ).order_by("starts_at")[:200]
    choices = [
        (str(e.pk), f"{e.title} ({timezone.localtime(e.starts_at, e.committee.tz):%Y-%m-%d})")
        for e in rows.select_related("committee")
    ]
    if not choices:
        return None
    return forms.TypedChoiceField(
        label=_("Only people who RSVPed to this event"),
        choices=[("", _("Any event or none")), *choices],
        coerce=int,
        empty_value=None,
        required=False,
    )


def register() -> None:
    segments.register_filter(NAME, rsvped, event_field)
