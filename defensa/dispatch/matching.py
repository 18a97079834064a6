"""Choose the responders nearest an incident: on duty, trained, in the committee."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection
from dataclasses import dataclass

import h3
from django.db.models import Q
from django.utils import timezone

from defensa.accounts.models import SkillKind, User
from defensa.committees.models import Membership, MemberStatus
from defensa.core import geo
from defensa.incidents.models import Incident

# A shared language is worth this many neighbourhood cells (~1.4 km each) of extra distance:
# a Spanish speaker two cells farther beats an English-only one next door, not one across town.
LANGUAGE_BONUS_RINGS = 2
# Responders whose home area is unknown sort after everyone whose area is known.
UNKNOWN_DISTANCE = 10_000
_CELL_EDGE_KM = 1.4


@dataclass(frozen=True)
class Candidate:
    user: User
    rings: int  # h3 grid distance at the neighbourhood resolution (UNKNOWN_DISTANCE if none)
    shares_language: bool

    @property
    def rank(self) -> tuple[int, int, int]:
        bonus = LANGUAGE_BONUS_RINGS if self.shares_language else 0
        return (self.rings - bonus, self.rings, self.user.pk)


def incident_cell(incident: Incident) -> str:
    """The neighbourhood cell of the incident: its centroid, else its reports' first ZIP."""
    if incident.lat is not None and incident.lon is not None:
        return geo.cell_for(incident.lat, incident.lon)
    for zip_code in incident.reports.exclude(zip_code="").values_list("zip_code", flat=True)[:5]:  # type: ignore[attr-defined]
        centre = geo.zip_centroid(zip_code)
        if centre is not None:
            return geo.cell_for(*centre)
    return ""


def home_cell(user: User) -> str:
    """A responder's coarse home cell: the one they chose, else their ZIP's centre."""
    if user.home_cell and geo.is_area_cell(user.home_cell):
        return user.home_cell
    centre = geo.zip_centroid(user.home_zip) if user.home_zip else None
    return geo.cell_for(*centre) if centre else ""


def rings_between(a: str, b: str) -> int:
    if not a or not b:
        return UNKNOWN_DISTANCE
    try:
        return int(h3.grid_distance(a, b))
    except (h3.H3BaseException, ValueError):
        # Far apart or across a pentagon: h3 gives up; the straight line does not.
        (lat1, lon1), (lat2, lon2) = geo.cell_center(a), geo.cell_center(b)
        km = 6371 * math.dist(
            (math.radians(lat1), math.radians(lon1) * math.cos(math.radians((lat1 + lat2) / 2))),
            (math.radians(lat2), math.radians(lon2) * math.cos(math.radians((lat1 + lat2) / 2))),
        )
        return min(UNKNOWN_DISTANCE - 1, int(km / _CELL_EDGE_KM) + 1)


def report_languages(incident: Incident) -> set[str]:
    return set(incident.reports.values_list("language", flat=True).distinct())  # type: ignore[attr-defined]


def on_duty_verifiers(incident: Incident, at: dt.datetime) -> list[User]:
    """Active full members of the incident's committee with a current verifier skill who are
    on duty (the switch) or on a shift now."""
    if incident.committee_id is None:
        return []
    today = at.astimezone(incident.committee.tz).date()  # type: ignore[union-attr]
    memberships = (
        Membership.objects.filter(
            committee_id=incident.committee_id,
            status=MemberStatus.FULL,
            user__is_active=True,
        )
        # One filter() call: the kind and the expiry must hold for the same skill row.
        .filter(
            Q(user__skills__kind=SkillKind.VERIFIER),
            Q(user__skills__expires_on__isnull=True) | Q(user__skills__expires_on__gte=today),
        )
        .select_related("user", "committee")
        .prefetch_related("shifts")
        .distinct()
    )
    return [m.user for m in memberships if m.user.on_duty or m.is_on_shift(at)]


def nearest_responders(
    incident: Incident,
    n: int,
    *,
    exclude: Collection[int] = (),
    at: dt.datetime | None = None,
) -> list[Candidate]:
    """The `n` best responders for the incident, nearest first (shared language preferred)."""
    at = at or timezone.now()
    target = incident_cell(incident)
    languages = report_languages(incident)
    found = [
        Candidate(user, rings_between(home_cell(user), target), user.language in languages)
        for user in on_duty_verifiers(incident, at)
        if user.pk not in exclude
    ]
    found.sort(key=lambda cand: cand.rank)
    return found[: max(n, 0)]
