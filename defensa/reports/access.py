"""Who may read a report's need-to-know parts (the reporter's contact): the dispatchers and
coordinators of the committee whose incident it belongs to. 404 for everyone else."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, committees_for
from defensa.core.access import reference_from_url
from defensa.reports.models import Report


def reports_with_contact_for(user: AnyUser | None) -> QuerySet[Report]:
    """Reports whose contact the user may read (dispatchers and coordinators of the incident's
    committee)."""
    committees = committees_for(user, ("dispatcher", "coordinator"))
    return Report.objects.filter(incident__committee__in=committees.values("pk"))


def get_report_with_contact_for(user: AnyUser | None, reference: str) -> Report:
    found = (
        reports_with_contact_for(user)
        .filter(reference=reference_from_url(reference), contact__isnull=False)
        .select_related("incident", "data_key")
        .first()
    )
    if found is None:
        raise Http404
    return found
