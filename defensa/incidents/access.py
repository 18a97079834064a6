"""Who may act on which incident: the dispatchers of its committee and of the committees
above it, a city's dispatchers for its locals (security property 5).

Like every access helper, these return the object or raise Http404, the same answer whether
the incident does not exist or belongs to another committee. An incident outside every
committee's area has no dispatcher here; the console (defensa/dispatch) deals with it.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, Role, Roles, memberships_for, subtrees_for
from defensa.committees.models import Committee
from defensa.core.access import reference_from_url
from defensa.incidents.models import Incident

# The evidence of an incident (its record, photos, videos and their digests) is for the
# committee's dispatchers, coordinators and legal team: the roles classified to read it.
EVIDENCE_ROLES: tuple[Role, ...] = ("dispatcher", "coordinator", "legal")


def incidents_for(user: AnyUser | None, roles: Roles = "dispatcher") -> QuerySet[Incident]:
    """Incidents of the committees in which the user holds the role (or any of the roles) and
    of every committee under them: by default those a dispatcher acts on; `EVIDENCE_ROLES`
    for those whose record they read (as the archive of a committee holds its locals')."""
    return Incident.objects.filter(committee_id__in=subtrees_for(user, roles))


def get_incident_for(user: AnyUser | None, reference: str, roles: Roles = "dispatcher") -> Incident:
    """The incident with this reference, for a holder of the role(s) in its committee, or 404."""
    found = (
        incidents_for(user, roles)
        .select_related("committee")
        .filter(reference=reference_from_url(reference))
        .first()
    )
    if found is None:
        raise Http404
    return found


def get_archive_committee_for(user: AnyUser | None, slug: str) -> Committee:
    """The committee whose incident archive (its own and its sub-committees' incidents) the
    user may read: its dispatchers, coordinators and legal team (`EVIDENCE_ROLES`), or 404."""
    found = memberships_for(user, EVIDENCE_ROLES).filter(committee__slug=slug).first()
    if found is None:
        raise Http404
    return found.committee
