"""Who may see which workplace, worker, assessment and structure test (need to know).

- Organisers: full members holding the organiser skill (granted by a coordinator, never by
  their own checkbox: accounts.models.TRUSTED_SKILLS). An organiser of a committee sees the
  workplaces organised by that committee and by every committee under it, their workers,
  assessments and structure tests. Nobody else does: coordinators included, unless they are
  organisers too.
- Readiness (counts only, no names) is for the committee's coordinators and organisers.
- A person sees their own history (`own_workers_for`): where they are recorded as a worker,
  their assessments and the actions they took part in.
- Members on probation see no one: roles count only for full members.

Every `get_*_for` raises Http404 for a missing row and for another compartment's alike.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from defensa.accounts.models import Skill, SkillKind
from defensa.committees.access import AnyUser, committee_and_below, committees_for
from defensa.committees.models import Committee
from defensa.core.access import active_user, one_from_url, pk_from_url
from defensa.core.tokens import is_short_code, normal_code
from defensa.imports.models import ImportJob
from defensa.organising.models import (
    CODE_LENGTH,
    StructureTest,
    Worker,
    Workplace,
)
from defensa.organising.rows import KIND as CONTACTS


def is_organiser(user: AnyUser | None) -> bool:
    """Holds a current organiser skill (the training, if dated, has not run out)."""
    person = active_user(user)
    if person is None:
        return False
    return any(s.is_current() for s in Skill.objects.filter(user=person, kind=SkillKind.ORGANISER))


def organiser_committees(user: AnyUser | None) -> QuerySet[Committee]:
    """The committees the user organises for: full membership and the organiser skill."""
    if not is_organiser(user):
        return Committee.objects.none()
    return committees_for(user, "full")


def organised_committee_ids(user: AnyUser | None) -> list[int]:
    """The committees an organiser sees into: their own and every committee under them."""
    ids: list[int] = []
    for committee in organiser_committees(user):
        ids.extend(committee_and_below(committee))
    return sorted(set(ids))


def get_organiser_committee(user: AnyUser | None, slug: str) -> Committee:
    """A committee the user organises for (or one under it), or 404."""
    found = Committee.objects.filter(pk__in=organised_committee_ids(user), slug=slug).first()
    if found is None:
        raise Http404
    return found


def get_readiness_committee(user: AnyUser | None, slug: str) -> Committee:
    """A committee whose readiness the user may see: its coordinators and organisers, or 404."""
    ids = set(organised_committee_ids(user))
    for own in committees_for(user, "coordinator"):
        ids.update(committee_and_below(own))
    found = Committee.objects.filter(pk__in=ids, slug=slug).first()
    if found is None:
        raise Http404
    return found


# Workplaces ---------------------------------------------------------------------------


def workplaces_for(user: AnyUser | None) -> QuerySet[Workplace]:
    """The workplaces the user organises (none for anyone else)."""
    return Workplace.objects.filter(committee_id__in=organised_committee_ids(user)).select_related(
        "committee"
    )


def get_workplace_for(user: AnyUser | None, pk: Any) -> Workplace:
    return one_from_url(workplaces_for(user), pk)


# Imports of contacts ------------------------------------------------------------------


def import_jobs_for(user: AnyUser | None, workplace: Workplace) -> QuerySet[ImportJob]:
    """The workplace's imports of contacts, for its organisers (none for anyone else)."""
    if not workplaces_for(user).filter(pk=workplace.pk).exists():
        return ImportJob.objects.none()
    return ImportJob.objects.filter(kind=CONTACTS, scope_id=workplace.pk)


def get_import_job_for(user: AnyUser | None, workplace: Workplace, pk: Any) -> ImportJob:
    found = import_jobs_for(user, workplace).select_related("data_key").filter(pk=pk_from_url(pk))
    job = found.first()
    if job is None:
        raise Http404
    return job


# Workers ------------------------------------------------------------------------------


def workers_for(user: AnyUser | None, workplace: Workplace) -> QuerySet[Worker]:
    """The workers of a workplace, for its organisers (none for anyone else)."""
    if not workplaces_for(user).filter(pk=workplace.pk).exists():
        return Worker.objects.none()
    return Worker.objects.filter(workplace=workplace).select_related("user")


def get_worker_for(user: AnyUser | None, workplace: Workplace, pk: Any) -> Worker:
    return one_from_url(workers_for(user, workplace), pk)


def own_workers_for(user: AnyUser | None) -> QuerySet[Worker]:
    """Where the person themselves is recorded as a worker (their own history)."""
    person = active_user(user)
    if person is None:
        return Worker.objects.none()
    return Worker.objects.filter(user=person).select_related("workplace")


# Structure tests ----------------------------------------------------------------------


def structure_tests_for(user: AnyUser | None) -> QuerySet[StructureTest]:
    """The structure tests of the committees the user organises."""
    return StructureTest.objects.filter(
        committee_id__in=organised_committee_ids(user)
    ).select_related("committee")


def get_structure_test_for(user: AnyUser | None, pk: Any) -> StructureTest:
    return one_from_url(structure_tests_for(user), pk)


def find_structure_test(code: str) -> StructureTest | None:
    """The test a text names by its code (still open or not), or None."""
    code = normal_code(code)
    if not is_short_code(code, CODE_LENGTH):
        return None
    return StructureTest.objects.filter(code=code).first()


# The network's scale and retention ----------------------------------------------------


def get_network_for(user: AnyUser | None, slug: str) -> Committee:
    """The network committee, for its coordinators (they set the scale), or 404."""
    found = committees_for(user, "coordinator").filter(slug=slug, parent__isnull=True).first()
    if found is None:
        raise Http404
    return found
