"""What the accompaniment actions share: message names, and the one audit record of each
action (on the linked case's timeline when there is one)."""

from __future__ import annotations

from typing import Any

from defensa.accompaniment.models import Appointment
from defensa.audit.log import record

CONFIRMED_MESSAGE = "accompaniment_confirmed"
REMINDER_MESSAGE = "accompaniment_reminder"
CANCELLED_MESSAGE = "accompaniment_cancelled"
MISSED_MESSAGE = "accompaniment_missed"
DETAINED_LEGAL_MESSAGE = "accompaniment_detained_legal"
DETAINED_FAMILY_MESSAGE = "accompaniment_detained_family"
RESCHEDULED_MESSAGE = "accompaniment_rescheduled"
WITHDRAWN_MESSAGE = "accompaniment_withdrawn"


def case_of(appointment: Appointment) -> Any:
    return getattr(appointment, "case", None)


def _timeline(
    appointment: Appointment,
    audit_action: str,
    *,
    actor: Any,
    note: str,
    audit_obj: Any,
    **data: Any,
) -> bool:
    """Write the action's one audit record as a timeline entry of the linked case, if any."""
    case = case_of(appointment)
    if case is None:
        return False
    from defensa.cases.models import EntryAction
    from defensa.cases.timeline import add_entry

    add_entry(
        case,
        EntryAction.NOTE,
        actor=actor,
        note=note,
        detail={"accompaniment": appointment.pk, "what": data.get("what", "")},
        audit_action=audit_action,
        audit_obj=audit_obj,
        appointment=appointment.pk,
        **data,
    )
    return True


def record_step(
    appointment: Appointment,
    audit_action: str,
    *,
    actor: Any,
    note: str = "",
    obj: Any = None,
    **data: Any,
) -> None:
    """One audit record: on the linked case's timeline when there is one, else plain."""
    obj = obj if obj is not None else appointment
    if not _timeline(appointment, audit_action, actor=actor, note=note, audit_obj=obj, **data):
        record(
            audit_action,
            actor=actor,
            obj=obj,
            committee=appointment.committee_id,
            appointment=appointment.pk,
            **data,
        )
