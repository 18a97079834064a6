"""Who may see which campaign (need to know, security properties 3-5 and 30).

- A campaign's coordinators are the full-member coordinators of the committee that runs it;
  `get_campaign_for` gives them the campaign or raises 404 for everyone else.
- The public page is found by the campaign's code (`get_public_campaign`): it shows the
  pledge, the counts and the trend, never who pledged.
- Nobody, coordinators included, sees who pledged before the threshold: `actions.pledgers`
  returns nothing until then, and each view of the list after it is an audited reveal.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, coordinated_committees_for
from defensa.core.access import one_from_url
from defensa.core.tokens import is_short_code, normal_code
from defensa.pledges.models import CODE_LENGTH, Campaign


def campaigns_for(user: AnyUser | None) -> QuerySet[Campaign]:
    """The campaigns of the committees the user coordinates."""
    return Campaign.objects.filter(committee__in=coordinated_committees_for(user)).select_related(
        "committee"
    )


def get_campaign_for(user: AnyUser | None, pk: Any) -> Campaign:
    """A campaign the user coordinates, or 404 (the same for a missing one and another's)."""
    return one_from_url(campaigns_for(user), pk)


def find_campaign(code: str) -> Campaign | None:
    code = normal_code(code)
    if not is_short_code(code, CODE_LENGTH):
        return None
    return Campaign.objects.select_related("committee").filter(code=code).first()


def get_public_campaign(code: str) -> Campaign:
    """The campaign with this code, for its public page, or 404."""
    found = find_campaign(code)
    if found is None:
        raise Http404
    return found
