"""Small builders for the cases tests."""

from __future__ import annotations

from typing import Any

from defensa.cases import actions, plans
from defensa.cases.models import Case, EmergencyPlan, Facility, Source
from defensa.core.tests.canary import CANARY_A_NUMBER, CANARY_PHONE


def canary_case(net: Any, **extra: Any) -> Case:
    """A Boyle Heights case holding both canaries (A-number and a family phone)."""
    from django.db import transaction

    with transaction.atomic():
        return actions.open_case(
            committee=net.boyle,
            source=Source.OTHER,
            person_name="Canary Person",
            a_number=CANARY_A_NUMBER,
            birth_date="1990-01-02",
            birth_country="Guatemala",
            facility=Facility.objects.get_or_create(name="Adelanto ICE Processing Center")[0],
            contacts=[
                {
                    "name": "Canary Sister",
                    "relation": "sister",
                    "address": CANARY_PHONE,
                    "channel": "sms",
                    "language": "es",
                }
            ],
            actor=net.lucia,
            **extra,
        )


def canary_plan(net: Any) -> EmergencyPlan:
    """Mo's plan: two contacts (Spanish SMS with the canary phone, English email)."""
    return plans.save_plan(
        net.mo,
        committee=net.boyle,
        contacts=[
            {"name": "Rosa", "channel": "sms", "address": CANARY_PHONE, "language": "es"},
            {"name": "Jim", "channel": "email", "address": "jim@example.org", "language": "en"},
        ],
        instructions="Rosa picks up the kids at 3pm. Papers in the blue folder.",
        identity={"person_name": "Mo Canary", "a_number": CANARY_A_NUMBER},
        actor=net.mo,
    )
