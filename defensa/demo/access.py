"""Who may open the demo's "Messages sent" page: a demo persona, in demo mode only.

The page shows what the console transport "sent" to everyone, one-tap links included: on a
real network (DEFENSA_DEMO unset) it does not exist, and even in demo mode only the
published persona accounts (docs/demo.md) may open it. Anyone else gets 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from defensa.core.access import active_user
from defensa.notify.models import Delivery, Status


def console_deliveries_for(user: Any) -> QuerySet[Delivery]:
    """Every message the console transport delivered, newest first; 404 for anyone else."""
    from defensa.demo.network import PERSONAS

    person = active_user(user)
    if not settings.DEMO or person is None:
        raise Http404
    if person.email not in {p.email for p in PERSONAS}:
        raise Http404
    return (
        Delivery.objects.filter(transport="console", status=Status.SENT)
        .select_related("recipient")
        .order_by("-sent_at", "-id")
    )
