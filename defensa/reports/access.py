"""Who may read a report's need-to-know parts (the reporter's contact): the dispatchers and
coordinators of the committee whose incident it belongs to. 404 for everyone else."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, committees_for
from defensa.reports.models import Report


def contact_readable_for(user: AnyUser | None) -> QuerySet[Report]:
    committees = committees_for(user, "dispatcher") | committees_for(user, "coordinator")
    return Report.objects.filter(incident__committee__in=committees.values("pk"))


def get_contact_readable_for(user: AnyUser | None, reference: str) -> Report:
    if not isinstance(reference, str) or not reference.isalnum() or len(reference) > 8:
        raise Http404
    found = (
        contact_readable_for(user)
        .filter(reference=reference.upper(), contact__isnull=False)
        .select_related("incident", "data_key")
        .first()
    )
    if found is None:
        raise Http404
    return found
