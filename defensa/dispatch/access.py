"""Which incidents the dispatcher console may open: those of the committee it is for and of
every committee under it (a city's console shows its locals' incidents), for the committee's
dispatchers. Like every access helper, the answer is the row or Http404, the same for a
missing id and another committee's id."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, committee_and_below, committees_for
from defensa.committees.models import Committee
from defensa.core.access import one_from_url
from defensa.dispatch.models import MemberMessage
from defensa.incidents.models import Incident


def console_committees_for(user: AnyUser | None, committee: Committee) -> QuerySet[Committee]:
    """The committee and every committee under it, for its dispatchers (everyone else: none):
    what its console shows and may be filtered by."""
    if not committees_for(user, "dispatcher").filter(pk=committee.pk).exists():
        return Committee.objects.none()
    return Committee.objects.filter(pk__in=committee_and_below(committee))


def get_console_committee_for(user: AnyUser | None, committee: Committee, slug: Any) -> Committee:
    """One committee of the console's subtree (the console's filter), or 404."""
    if not isinstance(slug, str):
        raise Http404
    found = console_committees_for(user, committee).filter(slug=slug).first()
    if found is None:
        raise Http404
    return found


def committee_incidents_for(user: AnyUser | None, committee: Committee) -> QuerySet[Incident]:
    """The incidents of the committee and the committees under it, for its dispatchers
    (everyone else: none)."""
    return Incident.objects.filter(committee__in=console_committees_for(user, committee))


def get_committee_incident_for(user: AnyUser | None, committee: Committee, pk: Any) -> Incident:
    """An incident of this committee or one under it, for one of its dispatchers, or 404."""
    return one_from_url(committee_incidents_for(user, committee), pk)


def member_messages_for(user: AnyUser | None, committee: Committee) -> QuerySet[MemberMessage]:
    """Texts from the members of the committee and of every committee under it to their
    dispatchers, for the committee's dispatchers (everyone else: none), newest first: a
    city's console shows its locals' members' texts, as it shows their incidents."""
    # The role check is a subquery, the subtree one query per level: the console's live
    # refresh asks often.
    return MemberMessage.objects.filter(
        Exists(committees_for(user, "dispatcher").filter(pk=committee.pk)),
        committee_id__in=committee_and_below(committee),
    ).select_related("member", "committee")
