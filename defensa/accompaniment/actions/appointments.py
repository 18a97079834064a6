"""The legal team's calendar: places, and appointments with the identity sealed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from defensa.accompaniment.actions.base import CANCELLED_MESSAGE, record_step
from defensa.accompaniment.models import Appointment, CompanionStatus, Place, Status
from defensa.audit.log import record
from defensa.audit.reveals import RevealQuota as RevealQuota  # re-exported for the views
from defensa.audit.reveals import record_reveal
from defensa.committees.models import Committee
from defensa.core import crypto
from defensa.notify.actions import queue_message
from defensa.notify.models import Priority

MAX_CONTACTS = 3


@transaction.atomic
def add_place(name: str, kind: str, address: str, *, actor: Any) -> Place:
    place, created = Place.objects.get_or_create(
        name=name.strip()[:120],
        defaults={"kind": kind, "address": address.strip()[:200], "added_by": actor},
    )
    record("accompaniment.place_added", actor=actor, obj=place, created=created)
    return place


def _clean_contacts(contacts: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    kept = []
    for contact in contacts:
        address = str(contact.get("address") or "").strip()
        if not address:
            continue
        kept.append(
            {
                "name": str(contact.get("name") or "").strip()[:80],
                "address": address[:254],
                "channel": str(contact.get("channel") or "sms"),
                "language": str(contact.get("language") or "es"),
            }
        )
    return kept[:MAX_CONTACTS]


def _seal_identity(
    appointment: Appointment, person_name: str, a_number: str, contacts: list[dict[str, str]]
) -> None:
    crypto.seal(appointment, "person_name", person_name.strip() or None)
    crypto.seal(appointment, "a_number", a_number.strip() or None)
    crypto.seal_json(appointment, "contacts", contacts or None)
    appointment.contact_count = len(contacts)


@transaction.atomic
def schedule_appointment(
    committee: Committee,
    *,
    kind: str,
    place: Place,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    languages: Iterable[str] = (),
    companions_needed: int = 2,
    person_name: str = "",
    a_number: str = "",
    contacts: Iterable[Mapping[str, Any]] = (),
    case: Any = None,
    actor: Any,
) -> Appointment:
    """Put a hearing or check-in on the committee's calendar. The identity and contacts are
    sealed under the appointment's own new data key."""
    if ends_at <= starts_at:
        raise ValueError("an appointment ends after it starts")
    now = timezone.now()
    extra = {"case": case} if case is not None else {}
    appointment = Appointment.objects.create(
        committee=committee,
        kind=kind,
        place=place,
        starts_at=starts_at,
        ends_at=ends_at,
        languages=",".join(dict.fromkeys(languages)),
        companions_needed=companions_needed,
        data_key=crypto.new_key("accompaniment.appointment"),
        created_by=actor if getattr(actor, "pk", None) else None,
        created_at=now,
        updated_at=now,
        **extra,
    )
    _seal_identity(appointment, person_name, a_number, _clean_contacts(contacts))
    appointment.save(update_fields=["person_name", "a_number", "contacts", "contact_count"])
    record_step(
        appointment,
        "accompaniment.scheduled",
        actor=actor,
        note=f"Accompaniment scheduled: {place.name}, {starts_at:%Y-%m-%d %H:%M} UTC",
        what="scheduled",
    )
    return appointment


@transaction.atomic
def cancel_appointment(appointment: Appointment, *, actor: Any) -> Appointment:
    """Take it off the calendar; confirmed companions are told."""
    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
    locked.move_to(Status.CANCELLED)
    locked.sequence += 1
    locked.updated_at = timezone.now()
    locked.save(update_fields=["status", "sequence", "updated_at"])
    told = 0
    for companion in locked.companions.filter(  # type: ignore[attr-defined]
        status=CompanionStatus.CONFIRMED
    ).select_related("volunteer"):
        queue_message(
            companion.volunteer,
            CANCELLED_MESSAGE,
            {"companion": companion.pk},
            priority=Priority.NORMAL,
            idempotency_key=f"accomp-cancelled:{companion.pk}",
            audit=False,
        )
        told += 1
    record_step(
        locked, "accompaniment.cancelled", actor=actor, note="", what="cancelled", told=told
    )
    appointment.status, appointment.sequence = locked.status, locked.sequence
    return locked


def reveal_identity(appointment: Appointment, *, actor: Any) -> dict[str, Any]:
    """Who is accompanied and whom to tell, for this one response. Audited and counted
    against the one hourly reveal quota (defensa/audit/reveals.py; RevealQuota past it, the
    refusal audited). Callers check that the actor is on the committee's legal team."""
    record_reveal(
        "accompaniment.identity",
        actor=actor,
        obj=appointment,
        committee=appointment.committee_id,
    )
    try:
        return {
            "person_name": crypto.unseal(appointment, "person_name") or "",
            "a_number": crypto.unseal(appointment, "a_number") or "",
            "contacts": crypto.unseal_json(appointment, "contacts") or [],
            "shredded": False,
        }
    except crypto.KeyShredded:
        return {"person_name": "", "a_number": "", "contacts": [], "shredded": True}
