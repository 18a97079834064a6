"""The people of a committee who hold a role, for the actions that must tell them.

Not an access check (that is `access.py`, which answers what a signed-in person may see):
these are recipients, chosen by role, for messages queued inside an action's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from defensa.accounts.models import User
from defensa.committees.models import Committee, Membership, MemberStatus
from defensa.notify.actions import queue_message
from defensa.notify.models import Priority


def legal_team(committee: Committee) -> list[User]:
    """The committee's legal team: active people with a full membership marked legal."""
    return list(
        User.objects.filter(
            is_active=True,
            memberships__committee=committee,
            memberships__is_legal=True,
            memberships__status=MemberStatus.FULL,
        ).distinct()
    )


def dispatchers_to_tell(committee: Committee, at: dt.datetime) -> list[User]:
    """Who hears of something a dispatcher must act on (a voicemail, an incident nobody could
    place): the committee's dispatchers on duty or on a shift now; when none is, every
    dispatcher of the committee (a message nobody sees helps nobody)."""
    memberships = list(
        Membership.objects.filter(
            committee=committee,
            status=MemberStatus.FULL,
            is_dispatcher=True,
            user__is_active=True,
        )
        .select_related("user", "committee")
        .prefetch_related("shifts")
        .order_by("user_id")
    )
    on_duty = [m.user for m in memberships if m.user.on_duty or m.is_on_shift(at)]
    return on_duty or [m.user for m in memberships]


def tell_legal_team(committee: Committee, template: str, context: dict[str, Any], key: str) -> int:
    """Queue an urgent message to each of the legal team (once each: `key` plus their id).

    No audit record of its own: the calling action's one record names the cause. Returns how
    many people were told.
    """
    people = legal_team(committee)
    for person in people:
        queue_message(
            person,
            template,
            context,
            priority=Priority.URGENT,
            idempotency_key=f"{key}:{person.pk}",
            audit=False,
        )
    return len(people)


def on_the_rota(
    committees: Iterable[Committee], *, dispatcher: bool = False, skill: str = ""
) -> set[int]:
    """The ids of those `committees` where someone could take the work this week: an active
    full member (a dispatcher, or holding a current `skill`) who is on duty or has a weekly
    shift in it. Shifts repeat every week, so one shift row is a shift this week. One query."""
    people = Membership.objects.filter(
        committee__in=list(committees), status=MemberStatus.FULL, user__is_active=True
    )
    if dispatcher:
        people = people.filter(is_dispatcher=True)
    if skill:
        # A skill that lapses today still counts today, in any of the network's time zones.
        today = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
        people = people.filter(
            Q(user__skills__kind=skill),
            Q(user__skills__expires_on__isnull=True) | Q(user__skills__expires_on__gte=today),
        )
    on = people.filter(Q(user__on_duty=True) | Q(shifts__isnull=False))
    return set(on.values_list("committee_id", flat=True).distinct())
