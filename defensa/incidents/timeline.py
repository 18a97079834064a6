"""Timeline entries, each sealed by the audit chain (defensa/audit/timeline.py).

An incident's note is plain text (dispatchers' and verifiers' words, no one's identity), so its
entry's audit record holds the SHA-256 of the note itself. `verify_timeline()` finds an entry
that was altered, inserted or removed.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from defensa.audit.timeline import SealedTimeline
from defensa.incidents.models import Incident, TimelineEntry

SEALED = SealedTimeline("incident")


def add_entry(
    incident: Incident,
    action: str,
    *,
    actor: Any = None,
    note: str = "",
    detail: dict[str, Any] | None = None,
    audit_action: str,
    audit_obj: models.Model | None = None,
    **audit_data: Any,
) -> TimelineEntry:
    """Append a timeline entry and its one audit record. Call inside the action's transaction."""
    entry = TimelineEntry.objects.create(
        incident=incident,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        at=timezone.now(),
        detail=detail or {},
        note=note,
    )
    SEALED.seal(
        incident, entry, actor=actor, audit_action=audit_action, audit_obj=audit_obj, **audit_data
    )
    return entry


def verify_timeline(incident: Incident) -> list[str]:
    """Problems found in an incident's timeline against the audit chain ([] when intact)."""
    return SEALED.verify(incident)
