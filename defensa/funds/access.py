"""Who may see which fund (need to know).

- Members of the fund's committee (and of the committees above it) see its totals:
  `funds_for` / `get_fund_for`.
- Coordinators of the committee create funds and name reviewers: `get_coordinated_fund`.
- Reviewers, named by a coordinator, see who applied and why, approve, disburse and export
  the ledger: `reviewed_funds_for` / `get_reviewed_fund`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, committees_for, coordinated_committees_for
from defensa.committees.models import Committee
from defensa.core.access import active_user, one_from_url, pk_from_url
from defensa.funds.models import Application, Fund


def member_committees(user: AnyUser | None) -> QuerySet[Committee]:
    return committees_for(user)


def funds_for(user: AnyUser | None) -> QuerySet[Fund]:
    """The funds of the committees the user is a member of."""
    return Fund.objects.filter(committee__in=member_committees(user)).select_related("committee")


def get_fund_for(user: AnyUser | None, pk: Any) -> Fund:
    return one_from_url(funds_for(user), pk)


def get_coordinated_fund(user: AnyUser | None, pk: Any) -> Fund:
    found = (
        Fund.objects.filter(committee__in=coordinated_committees_for(user), pk=pk_from_url(pk))
        .select_related("committee")
        .first()
    )
    if found is None:
        raise Http404
    return found


def reviewed_funds_for(user: AnyUser | None) -> QuerySet[Fund]:
    """The funds the user reviews (named by a coordinator, still a member of the committee)."""
    person = active_user(user)
    if person is None:
        return Fund.objects.none()
    return funds_for(person).filter(reviewers__user=person).distinct()


def get_reviewed_fund(user: AnyUser | None, pk: Any) -> Fund:
    return one_from_url(reviewed_funds_for(user), pk)


def get_reviewed_application(user: AnyUser | None, fund_pk: Any, pk: Any) -> Application:
    fund = get_reviewed_fund(user, fund_pk)
    found = Application.objects.filter(fund=fund, pk=pk_from_url(pk)).first()
    if found is None:
        raise Http404
    return found
