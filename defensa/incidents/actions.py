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


# Verification findings (dispatch). Each is one state change, one timeline entry, one audit
# record; `detail` carries ids only (e.g. {"offer": 7}) so the timeline says whose finding it was.


def _verdict(
    incident: Incident,
    state: str,
    *,
    actor: Any,
    note: str,
    audit_action: str,
    detail: dict[str, Any] | None = None,
) -> TimelineEntry:
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
            detail={"from": old, "to": state, **(detail or {})},
            audit_action=audit_action,
            old=old,
            new=state,
            **{k: v for k, v in (detail or {}).items() if isinstance(v, int)},
        )


def start_verification(
    incident: Incident, *, actor: Any, note: str = "", detail: dict[str, Any] | None = None
) -> TimelineEntry:
    """Mark an incident as being verified (verifiers have been asked to go and look)."""
    return _verdict(
        incident,
        "verifying",
        actor=actor,
        note=note,
        audit_action="incidents.start_verification",
        detail=detail,
    )


def confirm_incident(
    incident: Incident, *, actor: Any, note: str = "", detail: dict[str, Any] | None = None
) -> TimelineEntry:
    """A verifier (or a dispatcher) saw it: the incident is confirmed."""
    return _verdict(
        incident,
        "confirmed",
        actor=actor,
        note=note,
        audit_action="incidents.confirm",
        detail=detail,
    )


def mark_false_alarm(
    incident: Incident, *, actor: Any, note: str = "", detail: dict[str, Any] | None = None
) -> TimelineEntry:
    """A verifier (or a dispatcher) found it was not what was reported."""
    return _verdict(
        incident,
        "false_alarm",
        actor=actor,
        note=note,
        audit_action="incidents.false_alarm",
        detail=detail,
    )


def mark_not_found(
    incident: Incident, *, actor: Any, note: str = "", detail: dict[str, Any] | None = None
) -> TimelineEntry:
    """Nothing there when the verifier arrived: back to new, for another look or more reports."""
    return _verdict(
        incident,
        "new",
        actor=actor,
        note=note,
        audit_action="incidents.not_found",
        detail=detail,
    )
