"""Shared pieces of the organising tests: an organiser, a workplace, contacts, texts."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from defensa.accounts.models import Skill, SkillKind, User
from defensa.committees.models import Committee
from defensa.core import testing
from defensa.notify.transports.twilio import signature
from defensa.organising import actions
from defensa.organising.models import StructureTest, Worker, Workplace
from defensa.testing.peers.twilio import AUTH_TOKEN

BASE = "https://defensa.example.org"
PATH = "/notify/twilio/inbound/"
_sids = itertools.count(1)


def make_organiser(name: str, committee: Committee, **roles: bool) -> User:
    """A full member of `committee` whose organiser skill a coordinator granted."""
    user = testing.make_user(name)
    testing.join(user, committee, **roles)
    Skill.objects.create(user=user, kind=SkillKind.ORGANISER)
    return user


def workplace(committee: Committee, actor: User, **overrides: Any) -> Workplace:
    values: dict[str, Any] = {
        "employer": "Sunrise Foods",
        "site": "Vernon plant",
        "sector": "Food processing",
        "area": "Vernon",
        "headcount": 40,
        "departments": ["Kitchen", "Packing"],
        "shifts": ["Day", "Night"],
        "union": "",
    }
    values.update(overrides)
    return actions.add_workplace(committee, actions.WorkplaceData(**values), actor=actor)


def contact(
    place: Workplace,
    actor: User,
    name: str,
    *,
    phone: str = "",
    dep: str = "Kitchen",
    shift: str = "Day",
    language: str = "en",
) -> Worker:
    return actions.add_contact(
        place,
        actions.ContactData(name=name, phone=phone, language=language, department=dep, shift=shift),
        actor=actor,
    )


def structure_test(
    committee: Committee, actor: User, places: list[Workplace], **overrides: Any
) -> StructureTest:
    values: dict[str, Any] = {
        "title": "Sign the heat petition",
        "kind": "petition",
        "workplaces": places,
        "departments": [],
        "goal_percent": 65,
        "deadline": timezone.now() + dt.timedelta(days=5),
    }
    values.update(overrides)
    return actions.open_structure_test(committee, actions.TestData(**values), actor=actor)


def text(client, body: str, *, number: str):  # type: ignore[no-untyped-def]
    params = {
        "From": number,
        "To": "+15005550006",
        "Body": body,
        "MessageSid": f"SM{next(_sids):032d}",
    }
    header = signature(AUTH_TOKEN, f"{BASE}{PATH}", params)
    return client.post(PATH, params, HTTP_X_TWILIO_SIGNATURE=header)
