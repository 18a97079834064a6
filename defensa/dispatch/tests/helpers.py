"""Incidents and responders for the dispatch tests, built with the real intake path."""

from __future__ import annotations

import datetime as dt
import uuid

from defensa.accounts.models import Skill, SkillKind, User
from defensa.committees.models import Committee
from defensa.core.testing import join, make_user
from defensa.incidents.models import Incident
from defensa.reports.actions import receive_report

# Boyle Heights, near the 90033 ZIP centre.
BOYLE = (34.0505, -118.2095)


def report_incident(
    *,
    lat: float = BOYLE[0],
    lon: float = BOYLE[1],
    language: str = "en",
    category: str = "workplace_raid",
    zip_code: str = "90033",
    text: str = "Soto and 1st",
) -> Incident:
    report = receive_report(
        {
            "category": category,
            "lat": lat,
            "lon": lon,
            "precision_m": 50,
            "zip_code": zip_code,
            "location_text": text,
            "observed_at": dt.datetime.now(dt.UTC),
            "language": language,
            "description": "agents at the door",
        },
        channel="operator",
        idempotency_key=uuid.uuid4().hex,
    ).report
    return report.incident


def verifier(
    name: str,
    committee: Committee,
    *,
    home_zip: str = "90033",
    language: str = "en",
    on_duty: bool = True,
    expires_on: dt.date | None = None,
    **fields: object,
) -> User:
    user = make_user(name, language=language, home_zip=home_zip, on_duty=on_duty, **fields)
    join(user, committee)
    Skill.objects.create(user=user, kind=SkillKind.VERIFIER, expires_on=expires_on)
    return user
