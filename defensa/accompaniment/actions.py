"""Accompaniment actions: each atomic, each exactly one audit record.

Messages go through notify.queue_message in the same transaction with audit=False (the
action's own record names the cause) and an idempotency key naming that cause, so a reminder,
an escalation or a family alert goes out once however often a pass runs.

"Detained" composes with the cases app: `report_outcome` calls `cases.actions.open_case`
(the case's own action, with its own audit record) and then writes its own record as the
new case's timeline entry. When the appointment is already linked to a case, every check-in
becomes an entry of that case's timeline (its audit record is the action's one record).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from defensa.accompaniment.models import (
    Appointment,
    Companion,
    CompanionStatus,
    FeedToken,
    Outcome,
    Place,
    Status,
)
from defensa.accounts.models import User
from defensa.audit.log import record
from defensa.committees.models import Committee, MemberStatus
from defensa.core import crypto
from defensa.core.tokens import derived_token, hash_token, is_plausible
from defensa.core.transitions import IllegalTransition
from defensa.notify.actions import Address, queue_message
from defensa.notify.models import Priority

CONFIRMED_MESSAGE = "accompaniment_confirmed"
REMINDER_MESSAGE = "accompaniment_reminder"
CANCELLED_MESSAGE = "accompaniment_cancelled"
MISSED_MESSAGE = "accompaniment_missed"
DETAINED_LEGAL_MESSAGE = "accompaniment_detained_legal"
DETAINED_FAMILY_MESSAGE = "accompaniment_detained_family"
RESCHEDULED_MESSAGE = "accompaniment_rescheduled"
WITHDRAWN_MESSAGE = "accompaniment_withdrawn"

CHECKIN_STEPS = ("arrived", *Outcome.values)
DAY_BEFORE = dt.timedelta(hours=24)
SOON_BEFORE = dt.timedelta(hours=2)
MAX_CONTACTS = 3


def legal_team(committee: Committee) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True,
            memberships__committee=committee,
            memberships__is_legal=True,
            memberships__status=MemberStatus.FULL,
        ).distinct()
    )


def _tell_legal_team(committee: Committee, template: str, context: dict[str, Any], key: str) -> int:
    people = legal_team(committee)
    for person in people:
        queue_message(
            person,
            template,
            context,
            priority=Priority.URGENT,
            idempotency_key=f"{key}:{person.pk}",
            audit=False,
        )
    return len(people)


def _case_of(appointment: Appointment) -> Any:
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
    case = _case_of(appointment)
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


def _record(
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


# Links --------------------------------------------------------------------------------


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


# Places -------------------------------------------------------------------------------


@transaction.atomic
def add_place(name: str, kind: str, address: str, *, actor: Any) -> Place:
    place, created = Place.objects.get_or_create(
        name=name.strip()[:120],
        defaults={"kind": kind, "address": address.strip()[:200], "added_by": actor},
    )
    record("accompaniment.place_added", actor=actor, obj=place, created=created)
    return place


# The legal team's calendar ------------------------------------------------------------


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
    _record(
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
    if locked.status != Status.SCHEDULED:
        raise IllegalTransition("only a scheduled appointment can be cancelled")
    locked.status = Status.CANCELLED
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
    _record(locked, "accompaniment.cancelled", actor=actor, note="", what="cancelled", told=told)
    appointment.status, appointment.sequence = locked.status, locked.sequence
    return locked


def reveal_identity(appointment: Appointment, *, actor: Any) -> dict[str, Any]:
    """Who is accompanied and whom to tell, for this one response. Audited. Callers check
    that the actor is on the committee's legal team."""
    with transaction.atomic():
        record(
            "accompaniment.identity_revealed",
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


# Volunteers ---------------------------------------------------------------------------


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
    if existing is not None:  # signing up again after withdrawing: a fresh link
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
    _record(
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
    if row.status != CompanionStatus.PENDING or row.appointment.status != Status.SCHEDULED:
        raise IllegalTransition("only a pending sign-up of an open appointment can be confirmed")
    row.status = CompanionStatus.CONFIRMED
    row.confirmed_at = timezone.now()
    row.confirmed_by = actor if getattr(actor, "pk", None) else None
    row.save(update_fields=["status", "confirmed_at", "confirmed_by"])
    Appointment.objects.filter(pk=row.appointment_id).update(sequence=row.appointment.sequence + 1)
    _queue_confirmed(row)
    _record(row.appointment, "accompaniment.confirmed", actor=actor, obj=row, what="confirmed")
    companion.status = row.status
    return row


@transaction.atomic
def decline_companion(companion: Companion, *, actor: Any) -> Companion:
    row = Companion.objects.select_for_update().select_related("appointment").get(pk=companion.pk)
    if row.status not in (CompanionStatus.PENDING, CompanionStatus.CONFIRMED):
        raise IllegalTransition("nothing to decline")
    row.status = CompanionStatus.DECLINED
    row.save(update_fields=["status"])
    _record(row.appointment, "accompaniment.declined", actor=actor, obj=row, what="declined")
    companion.status = row.status
    return row


@transaction.atomic
def withdraw(companion: Companion, *, actor: Any) -> Companion:
    """The volunteer cannot go after all. If they were confirmed, the legal team is told."""
    row = Companion.objects.select_for_update().select_related("appointment").get(pk=companion.pk)
    if row.status not in (CompanionStatus.PENDING, CompanionStatus.CONFIRMED):
        raise IllegalTransition("nothing to withdraw")
    if row.outcome or row.arrived_at:
        raise IllegalTransition("already checked in")
    was_confirmed = row.status == CompanionStatus.CONFIRMED
    row.status = CompanionStatus.WITHDRAWN
    row.save(update_fields=["status"])
    appointment = row.appointment
    if was_confirmed and appointment.status == Status.SCHEDULED:
        _tell_legal_team(
            appointment.committee,
            WITHDRAWN_MESSAGE,
            {"appointment": appointment.pk},
            f"accomp-withdrawn:{row.pk}:{int(row.created_at.timestamp())}",
        )
    _record(appointment, "accompaniment.withdrawn", actor=actor, obj=row, what="withdrawn")
    companion.status = row.status
    return row


# Check-ins ----------------------------------------------------------------------------


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
    case = _case_of(appointment)
    opened = False
    if case is None:
        case = _open_case(appointment, actor)
        appointment.case = case
        opened = True
    appointment.status = Status.DETAINED
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
    legal = _tell_legal_team(
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
            appointment.status = step
            appointment.sequence += 1
            appointment.updated_at = now
            appointment.save(update_fields=["status", "sequence", "updated_at"])
            if step == Outcome.RESCHEDULED:
                _tell_legal_team(
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
    _record(
        appointment,
        "accompaniment.checked_in",
        actor=actor if actor is not None else row.volunteer,
        obj=row,
        note=f"Accompaniment check-in at {appointment.place.name}: {labels[step]}.",
        **data,
    )
    companion.arrived_at, companion.outcome = row.arrived_at, row.outcome
    return row


# Periodic passes ----------------------------------------------------------------------


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
            told = _tell_legal_team(
                appointment.committee,
                MISSED_MESSAGE,
                {"appointment": pk},
                f"accomp-missed:{pk}",
            )
            _record(
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


def upcoming_for(user: User, *, since: dt.datetime | None = None) -> list[Appointment]:
    """The volunteer's own confirmed appointments for their calendar feed."""
    since = since or timezone.now() - dt.timedelta(days=30)
    return list(
        Appointment.objects.filter(
            companions__volunteer=user,
            companions__status=CompanionStatus.CONFIRMED,
            ends_at__gte=since,
        )
        .filter(~Q(status=Status.CANCELLED) | Q(updated_at__gte=since))
        .select_related("place", "committee")
        .order_by("starts_at")
        .distinct()
    )


# Calendar feed ------------------------------------------------------------------------


@transaction.atomic
def new_feed_token(user: User, *, actor: Any) -> str:
    """Make (or remake) the person's secret calendar address; the old one stops working.
    The token is returned once, to show; only its hash is kept."""
    for _attempt in range(5):
        token = secrets.token_urlsafe(32)
        try:
            with transaction.atomic():
                FeedToken.objects.update_or_create(
                    user=user,
                    defaults={"token_hash": hash_token(token), "created_at": timezone.now()},
                )
            break
        except IntegrityError:  # pragma: no cover - a 256-bit collision
            continue
    feed = FeedToken.objects.get(user=user)
    record("accompaniment.feed_made", actor=actor, obj=feed)
    return token


@transaction.atomic
def revoke_feed(user: User, *, actor: Any) -> bool:
    feed = FeedToken.objects.filter(user=user).first()
    if feed is None:
        return False
    record("accompaniment.feed_revoked", actor=actor, obj=feed)
    feed.delete()
    return True


def find_feed_user(token: str) -> User | None:
    if not is_plausible(token):
        return None
    feed = FeedToken.objects.filter(token_hash=hash_token(token)).select_related("user").first()
    if feed is None or not feed.user.is_active:
        return None
    return feed.user
