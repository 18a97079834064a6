"""Which committee owns the number a report came in on (the SMS or voice number texted or
called), for reports that give no usable place.

Reports sits below the apps that map numbers to committees (voice's hotline numbers), so they
register a lookup here, as reports registers its SMS handler with notify.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from defensa.committees.models import Committee

NumberOwner = Callable[[str], "Committee | None"]

_OWNERS: list[NumberOwner] = []


def register_number_owner(lookup: NumberOwner) -> None:
    """`lookup(number)` answers the committee that owns an E.164 number, or None."""
    if lookup not in _OWNERS:
        _OWNERS.append(lookup)


def committee_owning(number: str) -> Committee | None:
    """The committee that owns the number (as the provider sent it in `To`), or None."""
    if not number:
        return None
    for lookup in _OWNERS:
        committee = lookup(number)
        if committee is not None:
            return committee
    return None
