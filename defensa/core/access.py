"""How views declare who may reach them (security property 3: closed by default).

Every view is one of:
- `@public`: anyone, no account (home, rights, sign-in, invitation links, webhooks).
- `@signed_in`: any signed-in person, for their own things (my page, my settings).
- neither: the view must check a role through its app's access helper
  (e.g. `get_committee_for(user, slug, role=...)`), which raises Http404 for anyone else.

A test walks every URL pattern as an anonymous visitor and as a member on probation: only
`@public` (and, for the member, `@signed_in`) views may answer 2xx.

The pieces every app's access helpers share live here too, so that each app's `access.py`
writes them the same way: `active_user` (a signed-in, active person, or None),
`pk_from_url` and `reference_from_url` (an id or an incident/report reference from a URL, or
404). Helpers are named `<objects>_for(user, ...)` (a queryset, empty for anyone else) and
`get_<object>_for(user, ...)` (one row, or Http404: the same answer for a missing row and
another compartment's row, so ids cannot be probed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.db.models import Model, QuerySet
from django.http import Http404

View = Callable[..., Any]

M = TypeVar("M", bound=Model)


def public(view: View) -> View:
    view.defensa_access = "public"  # type: ignore[attr-defined]
    return view


def signed_in(view: View) -> View:
    wrapped = login_required(view)
    wrapped.defensa_access = "signed_in"  # type: ignore[attr-defined]
    return wrapped


def access_of(view: View) -> str:
    """The declared access of a resolved view ("role" when it checks a role itself)."""
    target = getattr(view, "view_class", None) or view
    return getattr(view, "defensa_access", None) or getattr(target, "defensa_access", "role")


# Shared by the access helpers of every app --------------------------------------------


def active_user(user: Any) -> Any | None:
    """The person, if signed in and active; None for anyone else (anonymous, deactivated)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return user


def pk_from_url(value: Any) -> int:
    """A primary key from a URL, or 404 (also for values the database could not hold)."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < pk < 2**63:
        raise Http404
    return pk


def one_from_url(queryset: QuerySet[M], value: Any) -> M:
    """The row of `queryset` (already narrowed to what the user may see) whose primary key
    the URL names, or 404: the same answer for a row that does not exist and one that is not
    theirs."""
    found = queryset.filter(pk=pk_from_url(value)).first()
    if found is None:
        raise Http404
    return found


def reference_from_url(value: Any) -> str:
    """An incident's or report's reference from a URL (upper case), or 404."""
    if not isinstance(value, str) or not value.isalnum() or len(value) > 8:
        raise Http404
    return value.upper()
