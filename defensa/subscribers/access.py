"""Who may see what of alert subscriptions (need to know, security properties 3-5).

Nobody sees a subscriber's number: not coordinators, not admins, not the deliveries page.
A committee's coordinators see how many confirmed subscriptions each ZIP code of their area
has (`counts_for`); everyone else gets 404 from `get_coordinated_committee_for`.
"""

from __future__ import annotations

from django.db.models import Count

from defensa.committees.access import AnyUser, coordinated_committees_for
from defensa.committees.models import Committee
from defensa.subscribers.models import Subscription


def counts_for(user: AnyUser | None, committee: Committee) -> list[tuple[str, int]]:
    """(ZIP code, confirmed subscriptions) of a committee the user coordinates, else []."""
    if not coordinated_committees_for(user).filter(pk=committee.pk).exists():
        return []
    rows = (
        Subscription.objects.filter(committee=committee, confirmed_at__isnull=False)
        .values("zip_code")
        .annotate(n=Count("id"))
        .order_by("zip_code")
    )
    return [(row["zip_code"], row["n"]) for row in rows]
