"""Who may see and act on broadcasts: the coordinators of the committee they come from.

Returns rows or raises Http404, like every access helper.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from defensa.broadcasts.models import Broadcast
from defensa.committees.access import get_committee_for
from defensa.committees.models import Committee
from defensa.core.access import one_from_url


def broadcasts_for(user: Any, slug: str) -> tuple[Committee, QuerySet[Broadcast]]:
    committee = get_committee_for(user, slug, "coordinator")
    return committee, Broadcast.objects.filter(committee=committee)


def get_broadcast_for(user: Any, slug: str, pk: Any) -> Broadcast:
    _committee, rows = broadcasts_for(user, slug)
    return one_from_url(rows.select_related("committee", "created_by", "approved_by"), pk)
