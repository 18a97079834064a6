"""Whose figures a person may read: a committee's dispatchers and coordinators those of the
committee and every committee under it; network administrators the whole network's. Like
every access helper, the answer is the scope or Http404, the same for a committee that does
not exist and one the person holds no such role in."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone

from defensa.committees.access import AnyUser, committee_and_below, memberships_for
from defensa.committees.models import Committee
from defensa.core.access import active_user
from defensa.record.figures import Scope

FIGURES_ROLES = ("dispatcher", "coordinator")


def get_figures_scope_for(user: AnyUser | None, slug: str | None = None) -> Scope:
    """The committee's figures (with `slug`), or the network's (without): Scope, or 404."""
    if slug is None:
        person = active_user(user)
        if person is None or not person.is_network_admin:
            raise Http404
        return Scope(None, timezone.get_default_timezone(), tuple(Committee.objects.all()))
    found = memberships_for(user, FIGURES_ROLES).filter(committee__slug=slug).first()
    if found is None:
        raise Http404
    committee = found.committee
    below = tuple(Committee.objects.filter(pk__in=committee_and_below(committee)))
    return Scope(committee, committee.tz, below)
