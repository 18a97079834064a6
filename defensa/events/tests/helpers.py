"""Shared pieces of the event tests: an event, a shift, moving an event in time, and texts
through the signed webhook."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from defensa.committees.models import Committee
from defensa.events import actions
from defensa.events.models import Event, Shift
from defensa.notify.transports.twilio import signature
from defensa.testing.peers.twilio import AUTH_TOKEN

BASE = "https://defensa.example.org"
PATH = "/notify/twilio/inbound/"
_sids = itertools.count(1)


def data(**overrides: Any) -> actions.EventData:
    start = timezone.now() + dt.timedelta(days=2)
    values: dict[str, Any] = {
        "kind": "picket",
        "title": "Picket at the warehouse",
        "description": "Bring water.",
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=3),
        "area": "Near Mariachi Plaza",
        "place": "1st St and Boyle Ave, north gate",
        "capacity": None,
        "languages": ["en", "es"],
        "visibility": "members",
    }
    values.update(overrides)
    return actions.EventData(**values)


def make_event(committee: Committee, actor, **overrides: Any) -> Event:  # type: ignore[no-untyped-def]
    return actions.create_event(committee, data(**overrides), actor=actor)


def add_shift(event: Event, actor, *, role: str = "picket", capacity: int = 5) -> Shift:  # type: ignore[no-untyped-def]
    return actions.add_shift(
        event,
        role=role,
        starts_at=event.starts_at,
        ends_at=event.starts_at + dt.timedelta(hours=2),
        capacity=capacity,
        actor=actor,
    )


def move(event: Event, *, starts_in: dt.timedelta, hours: float = 3) -> Event:
    """Put the event (and its shifts, kept two hours long) at another time, as a test's clock."""
    start = timezone.now() + starts_in
    Event.objects.filter(pk=event.pk).update(
        starts_at=start, ends_at=start + dt.timedelta(hours=hours)
    )
    Shift.objects.filter(event=event).update(starts_at=start, ends_at=start + dt.timedelta(hours=2))
    event.refresh_from_db()
    return event


def text(client, body: str, *, number: str):  # type: ignore[no-untyped-def]
    params = {
        "From": number,
        "To": "+15005550006",
        "Body": body,
        "MessageSid": f"SM{next(_sids):032d}",
    }
    header = signature(AUTH_TOKEN, f"{BASE}{PATH}", params)
    return client.post(PATH, params, HTTP_X_TWILIO_SIGNATURE=header)
