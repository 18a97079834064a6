"""Who may read the readiness checklist: network admins (it names the server's weak spots)."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from defensa.core.access import active_user
from defensa.ops import readiness


def readiness_for(user: Any) -> list[readiness.Line]:
    """The readiness checklist, for a network admin, or Http404."""
    person = active_user(user)
    if person is None or not person.is_network_admin:
        raise Http404
    return readiness.checklist(person)
