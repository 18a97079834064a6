"""Small builders for the accompaniment tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from defensa.accompaniment import actions
from defensa.accompaniment.models import Appointment, Companion, Place, PlaceKind
from defensa.accounts.models import Skill, SkillKind, User
from defensa.core.tests.canary import CANARY_A_NUMBER, CANARY_PHONE

CANARY_NAME = "Canary Quetzalli Person"
FAMILY_PHONE = "+13235550188"


def accompanier(user: User, *, expires_on: dt.date | None = None) -> User:
    Skill.objects.update_or_create(
        user=user, kind=SkillKind.ACCOMPANIER, defaults={"expires_on": expires_on}
    )
    return user


def court() -> Place:
    place, _created = Place.objects.get_or_create(
        name="Los Angeles Immigration Court (Olive St)",
        defaults={"kind": PlaceKind.COURT, "address": "606 S Olive St, Los Angeles, CA 90014"},
    )
    return place


def schedule(
    net: Any, *, starts_in: dt.timedelta = dt.timedelta(days=3), **extra: Any
) -> Appointment:
    """A Boyle Heights hearing for a canary person, one Spanish SMS contact and the canary
    phone as an English email-less SMS contact."""
    starts = timezone.now() + starts_in
    defaults: dict[str, Any] = {
        "kind": "hearing",
        "place": court(),
        "starts_at": starts,
        "ends_at": starts + dt.timedelta(hours=3),
        "languages": ["es", "mix"],
        "companions_needed": 2,
        "person_name": CANARY_NAME,
        "a_number": CANARY_A_NUMBER,
        "contacts": [
            {"name": "Hermana", "address": FAMILY_PHONE, "channel": "sms", "language": "es"},
            {"name": "Primo", "address": CANARY_PHONE, "channel": "sms", "language": "en"},
        ],
        "actor": net.lucia,
    }
    defaults.update(extra)
    return actions.schedule_appointment(net.boyle, **defaults)


def confirmed(net: Any, appointment: Appointment, user: User | None = None) -> Companion:
    user = user or accompanier(net.vero)
    with transaction.atomic():
        companion = actions.sign_up(appointment, user, actor=user)
        return actions.confirm_companion(companion, actor=net.lucia)
