"""Demo accompaniments (called by seed_demo): real Los Angeles courts and ICE offices,
fictional people (made-up A-numbers starting A0995, 555-01xx phone numbers).

Gives the legal persona a calendar with upcoming hearings and check-ins, one of them already
confirmed for the member persona (an accompanier), one waiting for the legal team to confirm.
Idempotent: a second call adds nothing.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from defensa.accompaniment import actions
from defensa.accompaniment.models import Appointment, Kind, Place, PlaceKind
from defensa.accounts.models import User
from defensa.committees.models import Committee

PLACES = (
    ("Los Angeles Immigration Court (Olive St)", PlaceKind.COURT,
     "606 S Olive St, Los Angeles, CA 90014"),
    ("Los Angeles Immigration Court (N Los Angeles St)", PlaceKind.COURT,
     "300 N Los Angeles St, Los Angeles, CA 90012"),
    ("ICE Los Angeles Field Office", PlaceKind.FIELD_OFFICE,
     "300 N Los Angeles St, Room 7631, Los Angeles, CA 90012"),
)  # fmt: skip

# (days ahead, local time, hours, kind, place index, languages, companions, person, A-number)
APPOINTMENTS = (
    (1, "08:30", 3, Kind.HEARING, 0, ["es"], 2, "Marta Q. (ficticia)", "A099512345"),
    (2, "07:00", 2, Kind.CHECKIN, 2, ["es", "mix"], 2, "Ramiro T. (ficticio)", "A099567890"),
    (4, "13:00", 4, Kind.HEARING, 1, ["quc", "es"], 3, "Lidia C. (ficticia)", ""),
    (8, "09:00", 2, Kind.CHECKIN, 2, ["en"], 1, "Kevin O. (fictional)", "A099511111"),
)


def seed(personas: dict[str, User], committees: dict[str, Committee]) -> dict[str, int]:
    boyle = committees["boyle-heights"]
    if Appointment.objects.filter(committee=boyle).exists():
        return {"accompaniments": 0}
    legal, member = personas["legal"], personas["member"]
    places = []
    for name, kind, address in PLACES:
        place, _created = Place.objects.get_or_create(
            name=name, defaults={"kind": kind, "address": address, "added_by": legal}
        )
        places.append(place)
    today = timezone.localdate(timezone=boyle.tz)
    made = []
    with transaction.atomic():
        for n, (days, at, hours, kind, where, languages, needed, person, a_number) in enumerate(
            APPOINTMENTS
        ):
            hour, minute = map(int, at.split(":"))
            starts = dt.datetime.combine(
                today + dt.timedelta(days=days), dt.time(hour, minute), tzinfo=boyle.tz
            )
            made.append(
                actions.schedule_appointment(
                    boyle,
                    kind=kind,
                    place=places[where],
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(hours=hours),
                    languages=languages,
                    companions_needed=needed,
                    person_name=person,
                    a_number=a_number,
                    contacts=[
                        {
                            "name": "Familia",
                            "address": f"+1323555{150 + n:04d}",
                            "channel": "sms",
                            "language": "es",
                        },
                    ],  # fmt: skip
                    actor=legal,
                )
            )
        # The member persona is an accompanier: confirmed for the first, waiting for the second.
        first = actions.sign_up(made[0], member, actor=member)
        actions.confirm_companion(first, actor=legal)
        actions.sign_up(made[1], member, actor=member)
    return {"accompaniments": len(made)}
