"""Incident actions: each atomic, each a timeline entry sealed by one audit record."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from defensa.incidents.models import Incident, TimelineAction, TimelineEntry
from defensa.incidents.timeline import add_entry


def change_state(incident: Incident, state: str, *, actor: Any, note: str = "") -> TimelineEntry:
    """Move an incident to a new state (raising IllegalTransition when it may not)."""
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        old = locked.move_to(state)
        locked.updated_at = timezone.now()
        locked.save(update_fields=["state", "updated_at"])
        incident.state, incident.updated_at = locked.state, locked.updated_at
        return add_entry(
            locked,
            TimelineAction.STATE_CHANGED,
            actor=actor,
            note=note,
            detail={"from": old, "to": state},
            audit_action="incidents.state_changed",
            old=old,
            new=state,
        )


def add_note(incident: Incident, note: str, *, actor: Any) -> TimelineEntry:
    """Add a dispatcher's or verifier's note to the timeline."""
    with transaction.atomic():
        return add_entry(
            incident, TimelineAction.NOTE, actor=actor, note=note, audit_action="incidents.note"
        )
