"""Who may see which vote (need to know).

- A vote's coordinators are the full-member coordinators of the committee that runs it:
  `get_vote_for` gives them the vote (turnout, codes sent, the roll export) or raises 404.
- The vote's own page is found by its code (`get_public_vote`): the question, the roll's size,
  a form that takes a one-time code, and the result once it is closed. It never shows who.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, coordinated_committees_for
from defensa.core.access import one_from_url
from defensa.core.tokens import is_short_code, normal_code
from defensa.votes.models import VOTE_CODE_LENGTH, Vote


def votes_for(user: AnyUser | None) -> QuerySet[Vote]:
    """The votes of the committees the user coordinates."""
    return Vote.objects.filter(committee__in=coordinated_committees_for(user)).select_related(
        "committee"
    )


def get_vote_for(user: AnyUser | None, pk: Any) -> Vote:
    """A vote the user coordinates, or 404 (the same for a missing one and another's)."""
    return one_from_url(votes_for(user), pk)


def find_vote(code: str) -> Vote | None:
    code = normal_code(code)
    if not is_short_code(code, VOTE_CODE_LENGTH):
        return None
    return Vote.objects.select_related("committee").filter(code=code).first()


def get_public_vote(code: str) -> Vote:
    """The vote with this code, for its page, or 404."""
    found = find_vote(code)
    if found is None:
        raise Http404
    return found
