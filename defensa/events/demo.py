"""Events of the demo network: a public picket in Boyle Heights with its shifts, and a
members' know-your-rights training in Spanish, with a few RSVPs, made through the real
actions (so their audit entries and reminders are real too)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db import transaction
from django.utils import timezone

from defensa.accounts.models import User
from defensa.committees.models import Committee
from defensa.events import actions
from defensa.events.models import Event

PICKET = actions.EventData(
    kind="picket",
    title="Picket at the Soto Street warehouse",
    description="Workers fired for organising. Bring water and a hat; marshals wear green.",
    starts_at=timezone.now(),  # replaced below, in the committee's time zone
    ends_at=timezone.now(),
    area="Soto Street, Boyle Heights",
    place="1200 S Soto St, the north gate",
    capacity=None,
    languages=["en", "es"],
    visibility="public",
)
# (role, start hour, end hour, places)
PICKET_SHIFTS = (
    ("picket", 6, 8, 8),
    ("picket", 8, 10, 8),
    ("marshal", 6, 10, 3),
    ("legal_observer", 6, 10, 2),
)
TRAINING = actions.EventData(
    kind="training",
    title="Taller: conoce tus derechos",
    description="Qué decir y qué no decir si llega ICE. Con abogada de la red.",
    starts_at=timezone.now(),
    ends_at=timezone.now(),
    area="Boyle Heights",
    place="Salón parroquial, 2º piso",
    capacity=25,
    languages=["es"],
    visibility="members",
)


def _at(committee: Committee, day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=committee.tz)


def seed(personas: dict[str, User], committees: dict[str, Committee]) -> dict[str, int]:
    boyle = committees["boyle-heights"]
    if Event.objects.filter(committee=boyle).exists():
        return {"events": 0}
    coordinator = personas["coordinator"]
    today = timezone.localdate(timezone=boyle.tz)
    picket_day, training_day = today + dt.timedelta(days=6), today + dt.timedelta(days=9)
    with transaction.atomic():
        picket = actions.create_event(
            boyle,
            dataclasses.replace(
                PICKET, starts_at=_at(boyle, picket_day, 6), ends_at=_at(boyle, picket_day, 10)
            ),
            actor=coordinator,
        )
        shifts = [
            actions.add_shift(
                picket,
                role=role,
                starts_at=_at(boyle, picket_day, start),
                ends_at=_at(boyle, picket_day, end),
                capacity=places,
                actor=coordinator,
            )
            for role, start, end, places in PICKET_SHIFTS
        ]
        training = actions.create_event(
            boyle,
            dataclasses.replace(
                TRAINING,
                starts_at=_at(boyle, training_day, 18),
                ends_at=_at(boyle, training_day, 20),
            ),
            actor=coordinator,
        )
        actions.rsvp_as_member(picket, personas["member"], shift=shifts[0])
        actions.rsvp_as_member(picket, personas["verifier"], shift=shifts[1])
        actions.rsvp_as_member(training, personas["member"])
        actions.rsvp_as_member(training, personas["dispatcher"])
    return {"events": 2}
