"""How views declare who may reach them (security property 3: closed by default).

Every view is one of:
- `@public`: anyone, no account (home, rights, sign-in, invitation links, webhooks).
- `@signed_in`: any signed-in person, for their own things (my page, my settings).
- neither: the view must check a role through its app's access helper
  (e.g. `get_committee_for(user, slug, role=...)`), which raises Http404 for anyone else.

A test walks every URL pattern as an anonymous visitor and as a member on probation: only
`@public` (and, for the member, `@signed_in`) views may answer 2xx.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required

View = Callable[..., Any]


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
