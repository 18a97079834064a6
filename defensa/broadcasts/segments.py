"""Who a broadcast reaches: the people of a segment.

A segment is a committee (and, optionally, the local committees below it), narrowed by any of:
an area (home ZIP codes and h3 cells), a current skill, a language. Empty filters mean
"everyone". Only active accounts count; the channels are each person's own choice.

Apps above broadcasts add filters of their own (events: "RSVPed to this event") with
`register_filter(name, filter, field)`: `filter(broadcast, queryset) -> queryset` narrows the
people by `broadcast.extra[name]`, and `field(committee)` gives the segment form's field for
it (or None when the committee has nothing to choose). The form stores the field's value in
`broadcast.extra[name]`; a filter whose name is not in `extra` must leave the people as they
are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from defensa.accounts.models import Skill, User
from defensa.committees.models import Committee, Membership
from defensa.core import geo
from defensa.subscribers.models import Subscription

SegmentFilter = Callable[["object", QuerySet[User]], QuerySet[User]]
FieldMaker = Callable[[Committee], Any]
EXTRA_FILTERS: dict[str, SegmentFilter] = {}
EXTRA_FIELDS: dict[str, FieldMaker] = {}


def register_filter(name: str, segment_filter: SegmentFilter, field: FieldMaker) -> None:
    """Add a filter to every segment, and its field to the segment form (once per name)."""
    EXTRA_FILTERS[name] = segment_filter
    EXTRA_FIELDS[name] = field


def committee_ids(committee: Committee, include_subcommittees: bool) -> list[int]:
    found = [committee.pk]
    if include_subcommittees:
        frontier = [committee.pk]
        while frontier:
            frontier = list(
                Committee.objects.filter(parent_id__in=frontier)
                .exclude(pk__in=found)
                .values_list("pk", flat=True)
            )
            found.extend(frontier)
    return found


def area_cells(zip_codes: list[str], cells: list[str]) -> list[str]:
    """Neighbourhood cells for the segment's area: each ZIP's own cell and the listed cells."""
    found = geo.area_cells_near(zip_codes, rings=0)
    found += [c for c in geo.area_cells_from(cells) if c not in found]
    return found


def recipients(broadcast) -> QuerySet[User]:  # type: ignore[no-untyped-def]
    """The segment's people (active accounts), in id order."""
    ids = committee_ids(broadcast.committee, broadcast.include_subcommittees)
    # EXISTS, not "id IN (the members)": SQLite built the whole list of members again for
    # every batch of the enqueuer (125 ms each for 100,000 members, 101 batches); with EXISTS
    # it walks people in id order from the batch's cursor, one index probe each.
    people = User.objects.filter(
        Exists(Membership.objects.filter(user_id=OuterRef("pk"), committee_id__in=ids)),
        is_active=True,
    )
    if broadcast.zip_codes or broadcast.h3_cells:
        people = people.filter(
            Q(home_zip__in=broadcast.zip_codes)
            | Q(home_cell__in=area_cells(broadcast.zip_codes, broadcast.h3_cells))
        )
    if broadcast.skill:
        today = timezone.localdate()
        people = people.filter(
            pk__in=Skill.objects.filter(kind=broadcast.skill)
            .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
            .values("user_id")
        )
    if broadcast.language:
        people = people.filter(language=broadcast.language)
    for extra in EXTRA_FILTERS.values():
        people = extra(broadcast, people)
    return people.order_by("pk")


def subscribers(broadcast) -> QuerySet[Subscription]:  # type: ignore[no-untyped-def]
    """The alert subscribers a public broadcast also reaches, in id order: confirmed ones of
    the segment's committees, narrowed by its area and language. None when the broadcast is
    not for them, or is narrowed by a skill or an extra filter in use, such as an event's
    RSVPs (subscribers have neither)."""
    if not broadcast.to_subscribers or broadcast.skill or broadcast.extra:
        return Subscription.objects.none()
    ids = committee_ids(broadcast.committee, broadcast.include_subcommittees)
    found = Subscription.objects.filter(committee_id__in=ids, confirmed_at__isnull=False)
    if broadcast.zip_codes or broadcast.h3_cells:
        found = found.filter(
            Q(zip_code__in=broadcast.zip_codes)
            | Q(cell__in=area_cells(broadcast.zip_codes, broadcast.h3_cells))
        )
    if broadcast.language:
        found = found.filter(language=broadcast.language)
    return found.order_by("pk")
