"""Demo cases and emergency plans (called by seed_demo; fictional people, 555 numbers).

A-numbers here start with A0995 and are made up; phone numbers are in the 555-01xx range
reserved for fiction. Gives the legal persona work to see: a new case, one whose 48-hour
consultation is overdue (the escalation loop of `make run` alerts the team about it), one
with a hearing and a bond being raised, a plan triggered through the hotline, and a case in
South LA that ended in release.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from defensa.accounts.models import User
from defensa.cases import actions, plans
from defensa.cases.models import (
    DEFAULT_FACILITIES,
    Case,
    Facility,
    HearingKind,
    Source,
    Status,
    Task,
)
from defensa.committees.models import Committee
from defensa.incidents.models import Incident


def _backdate(case: Case, hours: int) -> None:
    """Make a case look opened `hours` ago (its first task due 48 h after that)."""
    opened = timezone.now() - dt.timedelta(hours=hours)
    Case.objects.filter(pk=case.pk).update(created_at=opened)
    Task.objects.filter(case=case, kind="consultation").update(
        created_at=opened, due_at=opened + dt.timedelta(hours=48)
    )


def seed(personas: dict[str, User], committees: dict[str, Committee]) -> dict[str, int]:
    if Case.objects.exists():
        return {"cases": 0, "emergency plans": 0}
    boyle, south = committees["boyle-heights"], committees["south-la"]
    legal, dispatcher, member = personas["legal"], personas["dispatcher"], personas["member"]
    for name, city in DEFAULT_FACILITIES:
        Facility.objects.get_or_create(name=name, defaults={"city": city})
    adelanto = Facility.objects.get(name="Adelanto ICE Processing Center")
    b18 = Facility.objects.get(name__startswith="B-18")
    carwash = Incident.objects.filter(committee=boyle, state="confirmed").first()
    closed = Incident.objects.filter(committee=south, state="closed").first()

    new = actions.open_case(
        committee=boyle,
        source=Source.INCIDENT,
        incident=carwash,
        actor=legal,
        person_name="Esteban Ramírez Cruz",
        a_number="A099555101",
        birth_date="1986-03-14",
        birth_country="México",
        contacts=[
            {
                "name": "Lucía Ramírez",
                "relation": "esposa",
                "address": "+13235550141",
                "channel": "sms",
                "language": "es",
            }
        ],
        note="Detenido en el car wash de Chavez y Soto. La esposa llamó a la línea.",
    )
    actions.record_transfer(new, b18, since=timezone.localdate(), actor=legal)

    overdue = actions.open_case(
        committee=boyle,
        source=Source.INCIDENT,
        incident=carwash,
        actor=legal,
        person_name="Marvin Alexander López",
        a_number="A099555102",
        birth_country="Guatemala",
        contacts=[
            {
                "name": "Ana López",
                "relation": "hermana",
                "address": "+12135550157",
                "channel": "sms",
                "language": "es",
            }
        ],
    )
    actions.record_transfer(
        overdue, adelanto, since=timezone.localdate() - dt.timedelta(days=1), actor=legal
    )
    _backdate(overdue, 50)

    hearing = actions.open_case(
        committee=boyle,
        source=Source.OTHER,
        actor=legal,
        person_name="Rosa Elvira Méndez",
        a_number="A099555103",
        birth_date="1979-11-02",
        birth_country="El Salvador",
        contacts=[
            {
                "name": "Kevin Méndez",
                "relation": "son",
                "address": "kevin.m@demo.defensa.invalid",
                "channel": "email",
                "language": "en",
            }
        ],
    )
    _backdate(hearing, 24 * 9)
    actions.record_transfer(
        hearing, adelanto, since=timezone.localdate() - dt.timedelta(days=8), actor=legal
    )
    actions.assign_attorney(hearing, attorney=legal, outside="", actor=legal)
    actions.complete_task(Task.objects.get(case=hearing, kind="consultation"), actor=legal)
    when = timezone.now().replace(hour=16, minute=30, second=0, microsecond=0) + dt.timedelta(
        days=6
    )
    actions.add_hearing(
        hearing, kind=HearingKind.BOND, at=when, place="Adelanto Immigration Court", actor=legal
    )
    actions.change_status(hearing, Status.BOND, actor=legal, note="Fianza fijada en $7,500.")
    actions.update_bond(
        hearing, amount=7500, status="raising", fund="Fondo de fianzas del barrio", actor=legal
    )
    actions.add_task(
        hearing,
        title="Confirm the bond fund has the money",
        owner=legal,
        due_at=timezone.now() + dt.timedelta(days=2),
        actor=legal,
    )

    released = actions.open_case(
        committee=south,
        source=Source.INCIDENT,
        incident=closed,
        actor=None,
        person_name="Jorge Castillo Reyes",
        a_number="A099555104",
        birth_country="Honduras",
    )
    _backdate(released, 24 * 20)
    actions.complete_task(Task.objects.get(case=released, kind="consultation"), actor=None)
    actions.change_status(released, Status.RELEASED, actor=None, note="Released on bond.")

    # Emergency plans: the member persona's, and one triggered through the hotline today.
    plans.save_plan(
        member,
        committee=boyle,
        contacts=[
            {"name": "Mamá", "channel": "sms", "address": "+13235550162", "language": "es"},
            {
                "name": "Chris (vecino)",
                "channel": "sms",
                "address": "+13235550163",
                "language": "en",
            },
        ],
        instructions="Mi mamá recoge a los niños en la escuela Soto St. a las 3. "
        "Los papeles están en el fólder azul, arriba del refrigerador.",
        identity={"person_name": "Tomás Hernández Ruiz", "a_number": "A099555105"},
        actor=member,
    )
    others = list(
        User.objects.filter(memberships__committee=boyle, memberships__status="full")
        .exclude(pk__in=[p.pk for p in personas.values()])
        .order_by("pk")[:2]
    )
    plan_count = 1
    for n, person in enumerate(others):
        plan = plans.save_plan(
            person,
            committee=boyle,
            contacts=[
                {
                    "name": "Familia",
                    "channel": "sms",
                    "address": f"+1626555017{n}",
                    "language": person.language,
                }
            ],
            instructions="Call the legal team. Passport in the kitchen drawer.",
            identity={"person_name": person.display_name},
            actor=person,
        )
        plan_count += 1
        if n == 0:
            plans.trigger_plan(plan, via="hotline", actor=dispatcher)
    return {"cases": Case.objects.count(), "emergency plans": plan_count}
