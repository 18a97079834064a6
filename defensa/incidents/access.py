"""Who may act on which incident: the dispatchers of its committee (security property 5).

Like every access helper, these return the object or raise Http404, the same answer whether
the incident does not exist or belongs to another committee. An incident outside every
committee's area has no dispatcher here; the console (defensa/dispatch) deals with it.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, committees_for, memberships_for
from defensa.incidents.models import Incident


def dispatchable_for(user: AnyUser | None) -> QuerySet[Incident]:
    """Incidents of the committees in which the user is a dispatcher."""
    return Incident.objects.filter(committee__in=committees_for(user, "dispatcher"))


def get_dispatchable_for(user: AnyUser | None, reference: str) -> Incident:
    if not isinstance(reference, str) or not reference.isalnum() or len(reference) > 8:
        raise Http404
    found = dispatchable_for(user).filter(reference=reference.upper()).first()
    if found is None:
        raise Http404
    return found


# The evidence of an incident (its record, photos, videos and their digests) is for the
# committee's dispatchers, coordinators and legal team: the roles classified to read it.
EVIDENCE_ROLES = ("dispatcher", "coordinator", "legal")


def evidence_viewable_for(user: AnyUser | None) -> QuerySet[Incident]:
    """Incidents of the committees in which the user is a dispatcher, coordinator or legal."""
    committees: set[int] = set()
    for role in EVIDENCE_ROLES:
        committees.update(memberships_for(user, role).values_list("committee_id", flat=True))  # type: ignore[arg-type]
    return Incident.objects.filter(committee_id__in=committees)


def get_evidence_viewable_for(user: AnyUser | None, reference: str) -> Incident:
    if not isinstance(reference, str) or not reference.isalnum() or len(reference) > 8:
        raise Http404
    found = (
        evidence_viewable_for(user)
        .select_related("committee")
        .filter(reference=reference.upper())
        .first()
    )
    if found is None:
        raise Http404
    return found
