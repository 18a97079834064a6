"""The periodic passes (`accompaniment_tick`): reminders before, escalation after."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from defensa.accompaniment.actions.base import MISSED_MESSAGE, REMINDER_MESSAGE, record_step
from defensa.accompaniment.models import Appointment, Companion, CompanionStatus, Status
from defensa.audit.log import record
from defensa.committees.teams import tell_legal_team
from defensa.notify.actions import queue_message
from defensa.notify.models import Priority

DAY_BEFORE = dt.timedelta(hours=24)
SOON_BEFORE = dt.timedelta(hours=2)


def send_reminders(*, now: dt.datetime | None = None) -> int:
    """One pass: remind each confirmed companion 24 hours and 2 hours before. Each reminder
    is claimed by setting its timestamp in its own transaction, and its idempotency key names
    it, so a second pass (or a second process) sends nothing again. Returns how many."""
    now = now or timezone.now()
    sent = 0
    for field, lead, until, which in (
        ("reminded_day_at", DAY_BEFORE, SOON_BEFORE, "day"),
        ("reminded_soon_at", SOON_BEFORE, dt.timedelta(0), "soon"),
    ):
        due = Companion.objects.filter(
            status=CompanionStatus.CONFIRMED,
            appointment__status=Status.SCHEDULED,
            appointment__starts_at__lte=now + lead,
            appointment__starts_at__gt=now + until,
            **{f"{field}__isnull": True},
        ).values_list("pk", flat=True)
        for pk in list(due):
            with transaction.atomic():
                if not Companion.objects.filter(pk=pk, **{f"{field}__isnull": True}).update(
                    **{field: now}
                ):
                    continue
                companion = Companion.objects.select_related("volunteer", "appointment").get(pk=pk)
                queue_message(
                    companion.volunteer,
                    REMINDER_MESSAGE,
                    {"companion": pk, "which": which},
                    priority=Priority.NORMAL,
                    idempotency_key=f"accomp-reminder:{pk}:{which}",
                    audit=False,
                )
                record(
                    "accompaniment.reminded",
                    obj=companion,
                    committee=companion.appointment.committee_id,
                    appointment=companion.appointment_id,
                    which=which,
                )
            sent += 1
    return sent


def escalate_missed(*, now: dt.datetime | None = None) -> int:
    """One pass: tell the legal team, once per appointment, when nobody reported how it ended
    by its expected end plus ACCOMPANIMENT_GRACE_MINUTES. Returns how many were escalated."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=settings.ACCOMPANIMENT_GRACE_MINUTES)
    due = Appointment.objects.filter(
        status=Status.SCHEDULED, escalated_at__isnull=True, ends_at__lte=cutoff
    ).values_list("pk", flat=True)
    escalated = 0
    for pk in list(due):
        with transaction.atomic():
            # Claim it: a second pass (or a second process) finds it taken and sends nothing.
            if not Appointment.objects.filter(
                pk=pk, status=Status.SCHEDULED, escalated_at__isnull=True
            ).update(escalated_at=now):
                continue
            appointment = Appointment.objects.select_related("committee", "place").get(pk=pk)
            arrived = appointment.companions.filter(  # type: ignore[attr-defined]
                status=CompanionStatus.CONFIRMED, arrived_at__isnull=False
            ).count()
            told = tell_legal_team(
                appointment.committee,
                MISSED_MESSAGE,
                {"appointment": pk},
                f"accomp-missed:{pk}",
            )
            record_step(
                appointment,
                "accompaniment.escalated",
                actor=None,
                note=f"No check-in after the appointment at {appointment.place.name}: "
                "escalated to the legal team.",
                what="escalated",
                arrived=arrived,
                told=told,
            )
        escalated += 1
    return escalated
