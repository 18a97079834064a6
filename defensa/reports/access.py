"""Who may read a report's need-to-know parts (the reporter's contact): the dispatchers and
coordinators of the committee whose incident it belongs to. 404 for everyone else."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, Role, committees_for, memberships_for
from defensa.core.access import active_user, reference_from_url
from defensa.incidents.models import Incident, TimelineAction, TimelineEntry
from defensa.reports.models import Report

# Who may type a report from a call (the hotline operator form): dispatchers, and intake
# operators, who have no alert power (no verification, verdicts or alerts).
OPERATOR_ROLES: tuple[Role, ...] = ("dispatcher", "intake")

# How many of the operator's latest typed reports their own page follows.
CALLS_SHOWN = 200


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


def incidents_from_calls_for(user: AnyUser | None) -> QuerySet[Incident]:
    """The incidents the user's own typed reports are in now (following merges), newest
    first; Http404 for anyone who holds neither operator role.

    Only the reports this person typed on the operator form: the timeline records them as the
    actor of the report's arrival. Nothing here reveals a reporter's contact.
    """
    person = active_user(user)
    if person is None or not memberships_for(person, OPERATOR_ROLES).exists():
        raise Http404
    entries = TimelineEntry.objects.filter(
        actor=person, action__in=(TimelineAction.OPENED, TimelineAction.REPORT_ADDED)
    ).order_by("-at", "-id")[:CALLS_SHOWN]
    report_ids = [
        pk for pk in (e.detail.get("report") for e in entries.only("detail")) if isinstance(pk, int)
    ]
    return (
        Incident.objects.filter(reports__pk__in=report_ids)
        .distinct()
        .order_by("-last_observed_at", "-id")
    )
