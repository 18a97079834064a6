"""Who may see appointments (need to know, security properties 4 and 5).

- The committee's legal team (full members with `is_legal`) manages its appointments and is
  the only role that may reveal who is accompanied (each reveal audited).
- Accompaniers: full members of the committee with a *current* accompanier skill (training
  not expired) see its open appointments without the person's identity, and sign up.
- A volunteer sees their own sign-ups (and opens their check-in page through its link).
Everyone else gets 404, the same for a missing row and another compartment's row.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from defensa.accompaniment.models import Appointment, Companion, Status
from defensa.accounts.models import SkillKind
from defensa.committees.access import AnyUser, committees_for, memberships_for
from defensa.committees.models import Committee
from defensa.core.access import active_user, one_from_url, pk_from_url


def get_legal_committee_for(user: AnyUser | None, slug: str) -> Committee:
    committee = committees_for(user, "legal").filter(slug=slug).first()
    if committee is None:
        raise Http404
    return committee


def legal_appointments_for(user: AnyUser | None) -> QuerySet[Appointment]:
    return Appointment.objects.filter(committee__in=committees_for(user, "legal"))


def get_legal_appointment_for(user: AnyUser | None, committee: Committee, pk: Any) -> Appointment:
    found = (
        legal_appointments_for(user)
        .filter(committee=committee, pk=pk_from_url(pk))
        .select_related("committee", "place")
        .first()
    )
    if found is None:
        raise Http404
    return found


def get_legal_companion_for(user: AnyUser | None, appointment: Appointment, pk: Any) -> Companion:
    found = (
        Companion.objects.filter(appointment=appointment, pk=pk_from_url(pk))
        .filter(appointment__in=legal_appointments_for(user))
        .select_related("volunteer", "appointment")
        .first()
    )
    if found is None:
        raise Http404
    return found


def accompanier_committees_for(user: AnyUser | None) -> QuerySet[Committee]:
    """Committees in which the user is a full member with a current accompanier skill."""
    person = active_user(user)
    if person is None:
        return Committee.objects.none()
    today = timezone.localdate()
    skilled = person.skills.filter(  # type: ignore[attr-defined]
        Q(expires_on__isnull=True) | Q(expires_on__gte=today), kind=SkillKind.ACCOMPANIER
    ).exists()
    if not skilled:
        return Committee.objects.none()
    return Committee.objects.filter(
        pk__in=memberships_for(person, "full").values("committee_id")
    ).order_by("name")


def is_accompanier(user: AnyUser | None) -> bool:
    return accompanier_committees_for(user).exists()


def open_appointments_for(user: AnyUser | None) -> QuerySet[Appointment]:
    """Upcoming open appointments an accompanier may sign up for (no identity in them)."""
    return Appointment.objects.filter(
        committee__in=accompanier_committees_for(user),
        status=Status.SCHEDULED,
        starts_at__gt=timezone.now(),
    ).select_related("place", "committee")


def get_open_appointment_for(user: AnyUser | None, pk: Any) -> Appointment:
    return one_from_url(open_appointments_for(user), pk)


def own_companions_for(user: AnyUser | None) -> QuerySet[Companion]:
    person = active_user(user)
    if person is None:
        return Companion.objects.none()
    return Companion.objects.filter(volunteer=person).select_related(
        "appointment__place", "appointment__committee"
    )


def get_own_companion_for(user: AnyUser | None, pk: Any) -> Companion:
    return one_from_url(own_companions_for(user), pk)
