"""Picket hours: what another app (a strike fund) reads of a person's attended shifts.

    from defensa.events.hours import hours_for
    hours_for(user, since)                    # picket hours since a moment, as a float
    hours_for(user, since, roles=None)        # hours of every attended shift, any role
    hours_for(user, since, committee=c)       # only events of c and the committees under it

The strike funds read them through their own registry (`funds_hours`, registered at start-up
with `defensa.funds.hours.register_hours_source`): every picket hour on record at the fund's
committee and the committees under it.

A shift counts when the person was checked in on it (by the code or a marshal's list); its
hours are the shift's own length. Nothing is written; no audit entry (a figure, no identity).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from defensa.accounts.models import User
from defensa.committees.access import committee_and_below
from defensa.events.models import Role, Rsvp


def hours_for(
    user: User,
    since: dt.datetime,
    *,
    roles: Iterable[str] | None = (Role.PICKET,),
    committee: Any = None,
) -> float:
    rows = Rsvp.objects.filter(
        user=user,
        shift__isnull=False,
        checked_in_at__isnull=False,
        shift__starts_at__gte=since,
        event__cancelled_at__isnull=True,
    )
    if roles is not None:
        rows = rows.filter(shift__role__in=list(roles))
    if committee is not None:
        rows = rows.filter(event__committee_id__in=committee_and_below(committee))
    total = sum(
        (
            (end - start).total_seconds()
            for start, end in rows.values_list("shift__starts_at", "shift__ends_at")
        ),
        0.0,
    )
    return round(total / 3600, 2)


def funds_hours(user: Any, committee: Any) -> float:
    """Every picket hour on record (events keep two years) at the fund's committee and below."""
    return hours_for(user, dt.datetime.min.replace(tzinfo=dt.UTC), committee=committee)
