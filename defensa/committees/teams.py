"""The people of a committee who hold a role, for the actions that must tell them.

Not an access check (that is `access.py`, which answers what a signed-in person may see):
these are recipients, chosen by role, for messages queued inside an action's transaction.
"""

from __future__ import annotations

from typing import Any

from defensa.accounts.models import User
from defensa.committees.models import Committee, MemberStatus
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
