"""Volunteers: sign up, confirmed or declined by the legal team, withdraw."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from defensa.accompaniment.actions.base import (
    CONFIRMED_MESSAGE,
    WITHDRAWN_MESSAGE,
    record_step,
)
from defensa.accompaniment.actions.checkins import companion_token
from defensa.accompaniment.models import Appointment, Companion, CompanionStatus, Status
from defensa.accounts.models import User
from defensa.committees.teams import tell_legal_team
from defensa.core.tokens import hash_token
from defensa.core.transitions import IllegalTransition
from defensa.notify.actions import queue_message
from defensa.notify.models import Priority


def confirmed_count(appointment: Appointment) -> int:
    return appointment.companions.filter(  # type: ignore[attr-defined]
        status=CompanionStatus.CONFIRMED
    ).count()


def _queue_confirmed(companion: Companion) -> None:
    queue_message(
        companion.volunteer,
        CONFIRMED_MESSAGE,
        {"companion": companion.pk},
        priority=Priority.NORMAL,
        idempotency_key=f"accomp-confirmed:{companion.pk}",
        audit=False,
    )


@transaction.atomic
def sign_up(appointment: Appointment, volunteer: User, *, actor: Any) -> Companion:
    """The volunteer offers to go. Confirmed at once when ACCOMPANIMENT_AUTO_CONFIRM is on;
    otherwise the legal team confirms. A second tap returns the existing sign-up."""
    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if locked.status != Status.SCHEDULED or locked.starts_at <= timezone.now():
        raise IllegalTransition("the appointment is not open")
    existing = Companion.objects.filter(appointment=locked, volunteer=volunteer).first()
    if existing is not None and existing.status in (
        CompanionStatus.PENDING,
        CompanionStatus.CONFIRMED,
    ):
        return existing
    if confirmed_count(locked) >= locked.companions_needed:
        raise IllegalTransition("enough companions already")
    now = timezone.now()
    auto = bool(settings.ACCOMPANIMENT_AUTO_CONFIRM)
    status = CompanionStatus.CONFIRMED if auto else CompanionStatus.PENDING
    if existing is not None:  # signing up again: a new sign-up on the row, with a fresh link
        companion = existing
        companion.status = status
        companion.nonce = secrets.token_hex(16)
        companion.created_at = now
        companion.confirmed_at = now if auto else None
        companion.confirmed_by = None
        companion.save()
    else:
        companion = Companion.objects.create(
            appointment=locked,
            volunteer=volunteer,
            status=status,
            nonce=secrets.token_hex(16),
            token_hash=secrets.token_hex(32),  # unique placeholder: the token needs the id
            created_at=now,
            confirmed_at=now if auto else None,
        )
    companion.token_hash = hash_token(companion_token(companion))
    companion.save(update_fields=["token_hash"])
    if auto:
        _queue_confirmed(companion)
    record_step(
        locked,
        "accompaniment.signed_up",
        actor=actor,
        obj=companion,
        note="",
        what="signed_up",
        auto=auto,
    )
    return companion


@transaction.atomic
def confirm_companion(companion: Companion, *, actor: Any) -> Companion:
    locked = Companion.objects.select_for_update().select_related("appointment", "volunteer")
    row = locked.get(pk=companion.pk)
    if row.status == CompanionStatus.CONFIRMED:
        return row  # a double tap
    if row.appointment.status != Status.SCHEDULED:
        raise IllegalTransition("only a sign-up of an open appointment can be confirmed")
    row.move_to(CompanionStatus.CONFIRMED)
    row.confirmed_at = timezone.now()
    row.confirmed_by = actor if getattr(actor, "pk", None) else None
    row.save(update_fields=["status", "confirmed_at", "confirmed_by"])
    Appointment.objects.filter(pk=row.appointment_id).update(sequence=row.appointment.sequence + 1)
    _queue_confirmed(row)
    record_step(row.appointment, "accompaniment.confirmed", actor=actor, obj=row, what="confirmed")
    companion.status = row.status
    return row


@transaction.atomic
def decline_companion(companion: Companion, *, actor: Any) -> Companion:
    row = Companion.objects.select_for_update().select_related("appointment").get(pk=companion.pk)
    row.move_to(CompanionStatus.DECLINED)
    row.save(update_fields=["status"])
    record_step(row.appointment, "accompaniment.declined", actor=actor, obj=row, what="declined")
    companion.status = row.status
    return row


@transaction.atomic
def withdraw(companion: Companion, *, actor: Any) -> Companion:
    """The volunteer cannot go after all. If they were confirmed, the legal team is told."""
    row = Companion.objects.select_for_update().select_related("appointment").get(pk=companion.pk)
    if row.outcome or row.arrived_at:
        raise IllegalTransition("already checked in")
    was_confirmed = row.status == CompanionStatus.CONFIRMED
    row.move_to(CompanionStatus.WITHDRAWN)
    row.save(update_fields=["status"])
    appointment = row.appointment
    if was_confirmed and appointment.status == Status.SCHEDULED:
        tell_legal_team(
            appointment.committee,
            WITHDRAWN_MESSAGE,
            {"appointment": appointment.pk},
            f"accomp-withdrawn:{row.pk}:{int(row.created_at.timestamp())}",
        )
    record_step(appointment, "accompaniment.withdrawn", actor=actor, obj=row, what="withdrawn")
    companion.status = row.status
    return row
