"""Timeline entries, each sealed by the audit chain (defensa/audit/timeline.py).

An incident's note is plain text (dispatchers' and verifiers' words, no one's identity), so its
entry's audit record holds the SHA-256 of the note itself. `verify_timeline()` finds an entry
that was altered, inserted or removed.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from defensa.audit.timeline import SealedTimeline
from defensa.incidents.models import Incident, TimelineEntry


class IncidentTimeline(SealedTimeline[Incident, TimelineEntry]):
    owner = "incident"

    def write(
        self, incident: Incident, action: str, *, actor: Any, note: str, detail: dict[str, Any]
    ) -> TimelineEntry:
        return TimelineEntry.objects.create(
            incident=incident,
            actor=actor,
            action=action,
            at=timezone.now(),
            detail=detail,
            note=note,
        )


TIMELINE = IncidentTimeline()
# add_entry(incident, action, *, actor=, note=, detail=, audit_action=, audit_obj=, **data):
# append an entry and its one audit record, inside the action's transaction.
add_entry = TIMELINE.add
verify_timeline = TIMELINE.verify
