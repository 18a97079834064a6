"""Which incidents the dispatcher console may open: those of the committee it is for, for the
committee's dispatchers. Like every access helper, the answer is the row or Http404, the
same for a missing id and another committee's id."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, committees_for
from defensa.committees.models import Committee
from defensa.core.access import pk_from_url
from defensa.dispatch.models import MemberMessage
from defensa.incidents.models import Incident


def committee_incidents_for(user: AnyUser | None, committee: Committee) -> QuerySet[Incident]:
    """The committee's incidents, for its dispatchers (everyone else: none)."""
    if not committees_for(user, "dispatcher").filter(pk=committee.pk).exists():
        return Incident.objects.none()
    return Incident.objects.filter(committee=committee)


def get_committee_incident_for(user: AnyUser | None, committee: Committee, pk: Any) -> Incident:
    """An incident of this committee, for one of its dispatchers, or 404."""
    incident = committee_incidents_for(user, committee).filter(pk=pk_from_url(pk)).first()
    if incident is None:
        raise Http404
    return incident


def member_messages_for(user: AnyUser | None, committee: Committee) -> QuerySet[MemberMessage]:
    """Texts from the committee's members to its dispatchers, for its dispatchers (everyone
    else: none), newest first."""
    # One query with the role check as a subquery: the console's live refresh asks often.
    return MemberMessage.objects.filter(
        committee=committee, committee__in=committees_for(user, "dispatcher").values("pk")
    ).select_related("member")
