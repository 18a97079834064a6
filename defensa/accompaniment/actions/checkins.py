"""Check-ins: the companion's private link, and what they report from the place (arrived,
out safe, detained, rescheduled)."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from defensa.accompaniment.actions.base import (
    DETAINED_FAMILY_MESSAGE,
    DETAINED_LEGAL_MESSAGE,
    RESCHEDULED_MESSAGE,
    case_of,
    record_step,
)
from defensa.accompaniment.models import Appointment, Companion, CompanionStatus, Outcome, Status
from defensa.audit.log import record
from defensa.committees.teams import tell_legal_team
from defensa.core import crypto
from defensa.core.tokens import derived_token, hash_token, is_plausible
from defensa.core.transitions import IllegalTransition
from defensa.notify.actions import Address, queue_message
from defensa.notify.models import Channel, Priority

CHECKIN_STEPS = ("arrived", *Outcome.values)


def companion_token(companion: Companion) -> str:
    """The check-in link's secret, derived from the row (defensa/core/tokens.py): the worker
    recomputes it when it renders a reminder, so neither the database nor the outbox holds a
    working link."""
    return derived_token("defensa.accompaniment.checkin", f"{companion.pk}:{companion.nonce}")


def checkin_path(companion: Companion) -> str:
    from django.urls import reverse

    return reverse("accompaniment:checkin", kwargs={"token": companion_token(companion)})


def checkin_link(companion: Companion) -> str:
    return settings.SITE_URL.rstrip("/") + checkin_path(companion)


def find_companion(token: str) -> Companion | None:
    if not is_plausible(token):
        return None
    return (
        Companion.objects.select_related(
            "appointment__place", "appointment__committee", "volunteer"
        )
        .filter(token_hash=hash_token(token))
        .first()
    )


def link_problem(companion: Companion, now: dt.datetime | None = None) -> str:
    """Why a check-in link does not work now ("" when it does)."""
    now = now or timezone.now()
    appointment = companion.appointment
    if not companion.volunteer.is_active:
        return "expired"  # a switched-off account's link answers like an expired one
    if companion.status in (CompanionStatus.WITHDRAWN, CompanionStatus.DECLINED):
        return "withdrawn"
    if appointment.status == Status.CANCELLED:
        return "cancelled"
    if now > appointment.ends_at + dt.timedelta(hours=settings.ACCOMPANIMENT_LINK_HOURS_AFTER):
        return "expired"
    return ""


def checkin_window(appointment: Appointment) -> tuple[dt.datetime, dt.datetime]:
    """When the check-in link takes "I'm here" and "detained": from a while before the start
    to the expected end plus the grace the missed check-out escalation waits."""
    opens = appointment.starts_at - dt.timedelta(
        minutes=settings.ACCOMPANIMENT_CHECKIN_OPENS_MINUTES
    )
    closes = appointment.ends_at + dt.timedelta(minutes=settings.ACCOMPANIMENT_GRACE_MINUTES)
    return opens, closes


def step_refused(companion: Companion, step: str, now: dt.datetime | None = None) -> str:
    """Why this step is not taken now ("" when it is): "early" before the window opens,
    "closed" for "I'm here", or "detained" from a companion who never checked in during the
    window, once it has closed. Days ahead, a tap (or an infiltrator) must not open a case
    and alarm a family; a late "out safe" or "rescheduled" is still welcome."""
    now = now or timezone.now()
    opens, closes = checkin_window(companion.appointment)
    if now < opens:
        return "early"
    if now > closes:
        if step == "arrived":
            return "closed"
        if step == Outcome.DETAINED and not (
            companion.arrived_at is not None and companion.arrived_at <= closes
        ):
            return "closed"
    return ""


def _family_addresses(appointment: Appointment, case: Any) -> list[dict[str, str]]:
    """Whom to tell: the case's family contacts and the appointment's own, once each."""
    found: list[dict[str, str]] = []
    if case is not None:
        for contact in case.contacts.all():
            try:
                address = crypto.unseal(contact, "address") or ""
            except crypto.CryptoError:
                continue
            found.append(
                {"address": address, "channel": contact.channel, "language": contact.language}
            )
    with contextlib.suppress(crypto.CryptoError):
        found += crypto.unseal_json(appointment, "contacts") or []
    seen: set[tuple[str, str]] = set()
    unique = []
    for contact in found:
        key = (contact.get("channel", ""), contact.get("address", "").strip().lower())
        if key[1] and key not in seen:
            seen.add(key)
            unique.append(contact)
    return unique


def _open_case(appointment: Appointment, actor: Any) -> Any:
    from defensa.cases.actions import open_case
    from defensa.cases.models import Source

    try:
        person_name = crypto.unseal(appointment, "person_name") or ""
        a_number = crypto.unseal(appointment, "a_number") or ""
        contacts = crypto.unseal_json(appointment, "contacts") or []
    except crypto.KeyShredded:
        person_name, a_number, contacts = "", "", []
    return open_case(
        committee=appointment.committee,
        source=Source.CHECKIN,
        actor=actor,
        person_name=person_name,
        a_number=a_number,
        contacts=[{**c, "relation": ""} for c in contacts],
        note=f"Detained at {appointment.place.name} ({appointment.get_kind_display()}).",
    )


def _detained(appointment: Appointment, companion: Companion, actor: Any) -> dict[str, Any]:
    """Open (or reuse) the case, tell the family, tell the legal team. Once per appointment."""
    case = case_of(appointment)
    opened = False
    if case is None:
        case = _open_case(appointment, actor)
        appointment.case = case
        opened = True
    appointment.move_to(Status.DETAINED)
    appointment.sequence += 1
    appointment.updated_at = timezone.now()
    appointment.save(update_fields=["status", "case", "sequence", "updated_at"])
    family = _family_addresses(appointment, case)
    for i, contact in enumerate(family):
        queue_message(
            Address(contact["channel"], contact["address"], contact.get("language", "")),
            DETAINED_FAMILY_MESSAGE,
            {"appointment": appointment.pk},
            priority=Priority.URGENT,
            idempotency_key=f"accomp-detained-family:{appointment.pk}:{i}",
            audit=False,
        )
    legal = tell_legal_team(
        appointment.committee,
        DETAINED_LEGAL_MESSAGE,
        {"appointment": appointment.pk, "case": case.pk},
        f"accomp-detained-legal:{appointment.pk}",
    )
    # The case's id is in the record already (it is the case's timeline entry).
    return {"case_opened": opened, "family": len(family), "legal": legal}


@transaction.atomic
def check_in(companion: Companion, step: str, *, actor: Any = None) -> Companion:
    """A confirmed companion reports from the place: "arrived", then how it ended.

    - "detained" (the first time for the appointment): a case opens with the person's sealed
      identity and contacts (or the linked case is used), the family is told in their
      languages and the legal team is alerted.
    - "rescheduled": the legal team is told to put the new date on the calendar.
    - Outside the appointment's window nothing changes (`step_refused`).
    - Repeating a step changes nothing and sends nothing.
    """
    if step not in CHECKIN_STEPS:
        raise IllegalTransition(f"unknown step {step!r}")
    row = (
        Companion.objects.select_for_update()
        .select_related("appointment__place", "appointment__committee", "volunteer")
        .get(pk=companion.pk)
    )
    if row.status != CompanionStatus.CONFIRMED or link_problem(row):
        raise IllegalTransition("this sign-up cannot check in")
    if refused := step_refused(row, step):
        raise IllegalTransition(f"not now: {refused}", code=refused)
    appointment = Appointment.objects.select_for_update().get(pk=row.appointment_id)
    appointment.place = row.appointment.place
    appointment.committee = row.appointment.committee
    now = timezone.now()
    data: dict[str, Any] = {"what": step}
    if step == "arrived":
        if row.arrived_at is not None:
            return row
        row.arrived_at = now
        row.save(update_fields=["arrived_at"])
    else:
        if row.outcome == step:
            return row
        if row.outcome == Outcome.DETAINED:
            raise IllegalTransition("already reported detained")
        row.outcome = step
        row.outcome_at = now
        if row.arrived_at is None:
            row.arrived_at = now
        row.save(update_fields=["outcome", "outcome_at", "arrived_at"])
        if step == Outcome.DETAINED:
            if appointment.status != Status.DETAINED:
                data.update(_detained(appointment, row, actor))
        elif appointment.status == Status.SCHEDULED:
            appointment.move_to(step)
            appointment.sequence += 1
            appointment.updated_at = now
            appointment.save(update_fields=["status", "sequence", "updated_at"])
            if step == Outcome.RESCHEDULED:
                tell_legal_team(
                    appointment.committee,
                    RESCHEDULED_MESSAGE,
                    {"appointment": appointment.pk},
                    f"accomp-rescheduled:{appointment.pk}",
                )
    labels = {
        "arrived": "companion arrived",
        "out_safe": "out safe",
        "detained": "DETAINED",
        "rescheduled": "rescheduled",
    }
    record_step(
        appointment,
        "accompaniment.checked_in",
        actor=actor if actor is not None else row.volunteer,
        obj=row,
        note=f"Accompaniment check-in at {appointment.place.name}: {labels[step]}.",
        **data,
    )
    companion.arrived_at, companion.outcome = row.arrived_at, row.outcome
    return row


SMS_REPLY = "accompaniment_sms_reply"


@transaction.atomic
def check_in_by_text(companion: Companion, step: str, *, reply_to: str, text_key: str) -> str:
    """A companion without mobile data checks in by a reply word (accompaniment/sms.py): the
    same step as the check-in page, with the same checks; the companion is answered by text
    in their language. Returns the answer's code: the step, or why nothing changed."""
    volunteer = companion.volunteer
    try:
        with transaction.atomic():
            check_in(companion, step, actor=volunteer)
        result = step
    except IllegalTransition as refused:
        result = str(refused.code) if refused.code in ("early", "closed") else "refused"
        record(
            "accompaniment.sms_checkin_refused",
            actor=volunteer,
            obj=companion,
            committee=companion.appointment.committee_id,
            step=step,
            reason=result,
        )
    queue_message(
        Address(Channel.SMS, reply_to, volunteer.language),
        SMS_REPLY,
        {"companion": companion.pk, "result": result},
        priority=Priority.URGENT,
        idempotency_key=f"{SMS_REPLY}:{text_key}",
        audit=False,
    )
    return result
