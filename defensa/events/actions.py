"""Writes of events: create, add a shift, RSVP, cancel an RSVP, check in, report an arrest,
send reminders.

Every write is atomic and records exactly one audit entry with ids, never a phone number.
Capacity holds under concurrency: an RSVP locks the event's row (or the shift's) before it
counts who is confirmed, so two people can never take the last place together.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.accounts.models import Skill, User
from defensa.audit.log import record
from defensa.cases.actions import begin_case
from defensa.cases.models import Facility, Source
from defensa.committees.access import committee_and_below
from defensa.committees.forms import normalize_phone
from defensa.committees.models import Committee, Membership
from defensa.core import crypto
from defensa.core.crypto.digests import digest_key, keyed_digest
from defensa.core.tokens import short_code
from defensa.events.models import (
    CODE_LENGTH,
    Arrest,
    Channel,
    CheckinMiss,
    Event,
    Rsvp,
    RsvpStatus,
    Shift,
    Visibility,
)
from defensa.notify.actions import Address, queue_message
from defensa.notify.models import Channel as NotifyChannel
from defensa.notify.models import Priority

DIGEST_KEY = "events.phone"
REMINDER_TEMPLATE = "event_reminder"
REPLY_TEMPLATE = "event_sms_reply"
PROMOTED_TEMPLATE = "event_promoted"
CANCELLED_TEMPLATE = "event_cancelled"
# Check-in opens this long before the start, and closes at the end.
CHECKIN_EARLY = dt.timedelta(hours=1)
# Wrong check-in codes a person may type per event in MISS_WINDOW before the form stops.
MISS_LIMIT = 5
MISS_WINDOW = dt.timedelta(minutes=15)
MAX_AHEAD = dt.timedelta(days=365)
MAX_LENGTH = dt.timedelta(days=3)


class EventError(Exception):
    """A step that cannot be taken; `message` is for the person (translated), `code` a word
    (also the outcome of an SMS reply)."""

    def __init__(self, message: Any, code: str) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code


# Phones and digests --------------------------------------------------------------------


def canonical_phone(number: str) -> str:
    try:
        return normalize_phone(number)
    except ValidationError:
        raise EventError(_("Enter a mobile number, e.g. +1 213 555 0100."), "phone") from None


def phone_digest(number: str) -> str:
    """A keyed hash of the number: one RSVP per phone, and attendance adds up across events,
    without the number (HMAC under a key the master key wraps)."""
    return keyed_digest(digest_key(DIGEST_KEY), canonical_phone(number))


def member_digest(user: User) -> str:
    if user.phone:
        try:
            return phone_digest(user.phone)
        except EventError:
            pass
    return keyed_digest(digest_key(DIGEST_KEY), f"member:{user.pk}")


def new_code(field: str = "code") -> str:
    if field != "code":
        return short_code(CODE_LENGTH)
    return short_code(CODE_LENGTH, taken=lambda code: Event.objects.filter(code=code).exists())


# Creating -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class EventData:
    kind: str
    title: str
    description: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    area: str
    place: str
    capacity: int | None
    languages: list[str]
    visibility: str


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    now = timezone.now()
    if not now < starts_at <= now + MAX_AHEAD:
        raise EventError(_("The event must start in the future, within a year."), "time")
    if not starts_at < ends_at <= starts_at + MAX_LENGTH:
        raise EventError(
            _("The event must end after it starts, and last at most three days."), "time"
        )


@transaction.atomic
def create_event(committee: Committee, data: EventData, *, actor: User) -> Event:
    _check_times(data.starts_at, data.ends_at)
    event = Event.objects.create(
        committee=committee,
        code=new_code(),
        checkin_code=new_code("checkin_code"),
        created_by=actor,
        data_key=crypto.new_key("events.event"),
        **dataclasses.asdict(data),
    )
    record("events.created", actor=actor, obj=event, committee=committee, kind=event.kind)
    return event


@transaction.atomic
def add_shift(
    event: Event,
    *,
    role: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    actor: User,
) -> Shift:
    if event.cancelled_at is not None or event.has_ended:
        raise EventError(_("This event is over or called off."), "ended")
    if not (starts_at < ends_at and event.starts_at - MAX_LENGTH <= starts_at <= event.ends_at):
        raise EventError(
            _("A shift must end after it starts, and start before the event ends."), "time"
        )
    if capacity < 1:
        raise EventError(_("A shift needs at least one place."), "capacity")
    shift = Shift.objects.create(
        event=event, role=role, starts_at=starts_at, ends_at=ends_at, capacity=capacity
    )
    record("events.shift_added", actor=actor, obj=shift, event=event.pk, role=role)
    return shift


@transaction.atomic
def cancel_event(event: Event, *, actor: User) -> Event:
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.cancelled_at is not None or event.has_ended:
        raise EventError(_("This event is over or called off."), "ended")
    event.cancelled_at = timezone.now()
    event.save(update_fields=["cancelled_at"])
    # Everyone who meant to come hears it: nobody should stand alone at a called-off picket.
    told = 0
    for rsvp in Rsvp.objects.filter(
        event=event, status__in=(RsvpStatus.GOING, RsvpStatus.WAITLIST)
    ).select_related("event", "user"):
        _tell(rsvp, CANCELLED_TEMPLATE, {"rsvp": rsvp.pk}, f"event-cancelled:{rsvp.pk}")
        told += 1
    record("events.cancelled", actor=actor, obj=event, told=told)
    return event


# RSVPs --------------------------------------------------------------------------------


def is_member_for(event: Event, user: User) -> bool:
    """Whether the person belongs to the organising committee or one under it."""
    return Membership.objects.filter(
        user=user, user__is_active=True, committee_id__in=committee_and_below(event.committee)
    ).exists()


def member_with_phone(event: Event, number: str) -> User | None:
    return (
        User.objects.filter(
            is_active=True,
            phone=canonical_phone(number),
            memberships__committee_id__in=committee_and_below(event.committee),
        )
        .distinct()
        .first()
    )


def _check_open(event: Event) -> None:
    if event.cancelled_at is not None:
        raise EventError(_("This event was called off."), "cancelled")
    if event.has_ended:
        raise EventError(_("This event is over."), "ended")


def _has_skill(user: User, kind: str) -> bool:
    today = timezone.localdate()
    return (
        Skill.objects.filter(user=user, kind=kind)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        .exists()
    )


def _take_place(
    event: Event,
    shift: Shift | None,
    digest: str,
    *,
    user: User | None,
    channel: str,
    language: str,
) -> tuple[Rsvp, str]:
    """Inside the caller's transaction, with the event (or shift) row locked: a confirmed
    place, a waiting-list place (the event) or EventError "full" (a shift).
    Returns the RSVP and a word: going, waitlist, already."""
    # The event's row is locked first, for every RSVP to it: capacity is counted, and its
    # state (called off, over) read, by one RSVP at a time.
    _check_open(Event.objects.select_for_update().get(pk=event.pk))
    if shift is not None:
        holder = Shift.objects.select_for_update().get(pk=shift.pk)
        capacity: int | None = holder.capacity
        taken = Rsvp.objects.filter(shift=holder, status=RsvpStatus.GOING)
        existing = Rsvp.objects.filter(shift=holder, digest=digest).first()
    else:
        capacity = event.capacity
        taken = Rsvp.objects.filter(event=event, shift=None, status=RsvpStatus.GOING)
        existing = Rsvp.objects.filter(event=event, shift=None, digest=digest).first()
    if existing is not None and existing.status != RsvpStatus.CANCELLED:
        return existing, "already"
    full = capacity is not None and taken.count() >= capacity
    if full and shift is not None:
        raise EventError(_("This shift is full. Choose another shift."), "full")
    status = RsvpStatus.WAITLIST if full else RsvpStatus.GOING
    if existing is not None:
        existing.status = status
        existing.created_at = timezone.now()
        existing.save(update_fields=["status", "created_at"])
        return existing, status
    rsvp = Rsvp.objects.create(
        event=event,
        shift=shift,
        user=user,
        digest=digest,
        data_key=event.data_key if user is None else None,
        language=language,
        channel=channel,
        status=status,
    )
    return rsvp, status


@transaction.atomic
def rsvp_as_member(event: Event, user: User, *, shift: Shift | None = None) -> tuple[Rsvp, str]:
    """A member's RSVP to the event, or their sign-up for one of its shifts."""
    _check_open(event)
    if not is_member_for(event, user):
        raise EventError(_("Only members of the organising committee can sign up."), "member")
    if shift is not None:
        if shift.event_id != event.pk:
            raise EventError(_("That shift is not part of this event."), "shift")
        if shift.skill and not _has_skill(user, shift.skill):
            raise EventError(
                _(
                    "This shift needs a skill a coordinator grants after training. "
                    "Ask your coordinator."
                ),
                "skill",
            )
    rsvp, word = _take_place(
        event,
        shift,
        member_digest(user),
        user=user,
        channel=Channel.MEMBER,
        language=user.language,
    )
    record(
        "events.rsvp",
        actor=user,
        obj=rsvp,
        event=event.pk,
        shift=getattr(shift, "pk", None),
        outcome=word,
    )
    return rsvp, word


@transaction.atomic
def rsvp_by_phone(event: Event, number: str, *, channel: str, language: str) -> tuple[Rsvp, str]:
    """An RSVP from a phone number: the public page of a public event, or a text (which may
    also come from a member's own phone, for a members-only event)."""
    number = canonical_phone(number)
    _check_open(event)
    member = member_with_phone(event, number)
    if event.visibility != Visibility.PUBLIC and member is None:
        raise EventError(_("We know no event with that code."), "unknown")
    if member is not None:
        rsvp, word = _take_place(
            event,
            None,
            member_digest(member),
            user=member,
            channel=channel,
            language=member.language,
        )
    else:
        rsvp, word = _take_place(
            event, None, phone_digest(number), user=None, channel=channel, language=language
        )
        if word != "already":
            crypto.seal(rsvp, "phone", number)
            rsvp.phone_end = number[-2:]
            rsvp.save(update_fields=["phone", "data_key", "phone_end"])
    # No actor and no number: the audit log must not say who is going to a protest.
    record("events.rsvp", obj=rsvp, event=event.pk, channel=channel, outcome=word)
    return rsvp, word


def _promote_next(event: Event) -> Rsvp | None:
    """The first on the event's waiting list gets the place that freed up, and is told."""
    if event.capacity is not None:
        going = Rsvp.objects.filter(event=event, shift=None, status=RsvpStatus.GOING).count()
        if going >= event.capacity:
            return None
    nxt = (
        Rsvp.objects.filter(event=event, shift=None, status=RsvpStatus.WAITLIST)
        .order_by("created_at", "pk")
        .first()
    )
    if nxt is None:
        return None
    nxt.status = RsvpStatus.GOING
    nxt.save(update_fields=["status"])
    _tell(nxt, PROMOTED_TEMPLATE, {"rsvp": nxt.pk}, f"event-promoted:{nxt.pk}")
    return nxt


@transaction.atomic
def cancel_rsvp(rsvp: Rsvp, *, actor: User) -> Rsvp:
    """The person is not coming after all; a waiting-list place moves up."""
    Event.objects.select_for_update().filter(pk=rsvp.event_id).first()
    rsvp = Rsvp.objects.select_related("event").get(pk=rsvp.pk)
    if rsvp.status == RsvpStatus.CANCELLED:
        raise EventError(_("You had already cancelled."), "already")
    _check_open(rsvp.event)
    was_going = rsvp.status == RsvpStatus.GOING
    rsvp.status = RsvpStatus.CANCELLED
    rsvp.save(update_fields=["status"])
    promoted = _promote_next(rsvp.event) if was_going and rsvp.shift_id is None else None
    record(
        "events.rsvp_cancelled",
        actor=actor,
        obj=rsvp,
        event=rsvp.event_id,
        promoted=getattr(promoted, "pk", None),
    )
    return rsvp


# Check-in -----------------------------------------------------------------------------


def checkin_open(event: Event, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return event.cancelled_at is None and event.starts_at - CHECKIN_EARLY <= now < event.ends_at


def guesses_left(event: Event, user: User) -> int:
    since = timezone.now() - MISS_WINDOW
    misses = CheckinMiss.objects.filter(event=event, user=user, at__gte=since).count()
    return max(MISS_LIMIT - misses, 0)


@transaction.atomic
def note_wrong_code(event: Event, user: User) -> int:
    """Count a wrong code (the guard against guessing). Returns the guesses left."""
    CheckinMiss.objects.create(event=event, user=user)
    record("events.checkin_code_wrong", actor=user, obj=event)
    return guesses_left(event, user)


def check_in_with_code(event: Event, user: User, code: str) -> int:
    """The member typed the code the marshals show: every confirmed place of theirs at the
    event is checked in. Wrong codes count toward MISS_LIMIT; then the form stops."""
    if not checkin_open(event):
        raise EventError(
            _("Check-in opens an hour before the event and closes at its end."), "closed"
        )
    if guesses_left(event, user) <= 0:
        raise EventError(
            _("Too many wrong codes. Ask a marshal to check you in from their list."), "locked"
        )
    if not secrets.compare_digest(code.strip().upper().encode()[:32], event.checkin_code.encode()):
        left = note_wrong_code(event, user)
        raise EventError(
            _("That is not the code. Check it with a marshal.")
            if left
            else _("Too many wrong codes. Ask a marshal to check you in from their list."),
            "wrong",
        )
    return _check_in_own(event, user)


@transaction.atomic
def _check_in_own(event: Event, user: User) -> int:
    rows = list(
        Rsvp.objects.select_for_update().filter(
            event=event, user=user, status=RsvpStatus.GOING, checked_in_at__isnull=True
        )
    )
    already = Rsvp.objects.filter(event=event, user=user, checked_in_at__isnull=False).exists()
    if not rows and not already:
        raise EventError(
            _("You have no confirmed place at this event. RSVP first, or ask a marshal."),
            "none",
        )
    now = timezone.now()
    for rsvp in rows:
        rsvp.checked_in_at = now
        rsvp.checked_in_by = user
        rsvp.save(update_fields=["checked_in_at", "checked_in_by"])
    record("events.checked_in", actor=user, obj=event, rsvps=[r.pk for r in rows], how="code")
    return len(rows)


@transaction.atomic
def check_in(rsvp: Rsvp, *, actor: User) -> Rsvp:
    """A marshal checks someone in from the list."""
    rsvp = Rsvp.objects.select_for_update(of=("self",)).select_related("event").get(pk=rsvp.pk)
    if not checkin_open(rsvp.event):
        raise EventError(
            _("Check-in opens an hour before the event and closes at its end."), "closed"
        )
    if rsvp.status != RsvpStatus.GOING:
        raise EventError(_("Only confirmed places can be checked in."), "status")
    if rsvp.checked_in_at is not None:
        raise EventError(_("Already checked in."), "already")
    rsvp.checked_in_at = timezone.now()
    rsvp.checked_in_by = actor
    rsvp.save(update_fields=["checked_in_at", "checked_in_by"])
    record("events.checked_in", actor=actor, obj=rsvp.event, rsvps=[rsvp.pk], how="list")
    return rsvp


# Arrests ------------------------------------------------------------------------------


@transaction.atomic
def report_arrest(
    event: Event,
    *,
    actor: User,
    person_name: str = "",
    facility: Facility | None = None,
    note: str = "",
) -> Arrest:
    """A legal observer saw an arrest: a jail-support case opens for the legal team, who are
    alerted at once (cases.actions.begin_case tells them), and the event keeps the link."""
    if event.cancelled_at is not None or not (
        event.starts_at - CHECKIN_EARLY <= timezone.now() < event.ends_at + dt.timedelta(hours=12)
    ):
        raise EventError(
            _("Arrests are reported from an hour before the event to 12 hours after it."),
            "closed",
        )
    case = begin_case(
        committee=event.committee,
        source=Source.EVENT,
        actor=actor,
        facility=facility,
        person={"person_name": person_name},
        note=note,
        audit_action="events.arrest_reported",
        event=event.pk,
    )
    return Arrest.objects.create(event=event, case=case, reported_by=actor)


# Messages -----------------------------------------------------------------------------


def _tell(rsvp: Rsvp, template: str, context: dict[str, Any], key: str) -> None:
    if rsvp.user_id is not None:
        if rsvp.user.is_active:  # type: ignore[union-attr]
            queue_message(rsvp.user, template, context, idempotency_key=key, audit=False)  # type: ignore[arg-type]
        return
    number = crypto.unseal(rsvp, "phone")
    if number:
        queue_message(
            Address(NotifyChannel.SMS, number, rsvp.language),
            template,
            context,
            idempotency_key=key,
            audit=False,
            address_key=rsvp.event.data_key,
        )


@transaction.atomic
def reply_by_text(event: Event | None, number: str, language: str, outcome: str, sid: str) -> None:
    """Answer a texted RSVP by text, in the keyword's language."""
    try:
        number = canonical_phone(number)
    except EventError:
        return
    queue_message(
        Address(NotifyChannel.SMS, number, language),
        REPLY_TEMPLATE,
        {"event": event.pk if event else None, "outcome": outcome},
        priority=Priority.NORMAL,
        idempotency_key=f"event-sms:{sid}",
        audit=False,
        address_key=event.data_key if event else None,
    )
    record("events.sms_answered", obj=event, outcome=outcome)


def _due(now: dt.datetime, ahead: dt.timedelta, after: dt.timedelta) -> Q:
    window = (now + after, now + ahead)
    return Q(
        shift__isnull=True, event__starts_at__gt=window[0], event__starts_at__lte=window[1]
    ) | Q(shift__isnull=False, shift__starts_at__gt=window[0], shift__starts_at__lte=window[1])


@transaction.atomic
def send_reminders(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Remind confirmed people 24 hours and 2 hours before their event or shift starts, once
    each, in their own language and channel. One audit entry for the pass."""
    now = now or timezone.now()
    base = Rsvp.objects.select_for_update(of=("self",)).filter(
        status=RsvpStatus.GOING, event__cancelled_at__isnull=True
    )
    sent = {"24h": 0, "2h": 0}
    two = list(
        base.filter(
            _due(now, dt.timedelta(hours=2), dt.timedelta(0)), reminded_2h_at__isnull=True
        ).select_related("event", "user")
    )
    for rsvp in two:
        _tell(rsvp, REMINDER_TEMPLATE, {"rsvp": rsvp.pk, "hours": 2}, f"event-reminder:{rsvp.pk}:2")
        rsvp.reminded_2h_at = now
        rsvp.reminded_24h_at = rsvp.reminded_24h_at or now
        rsvp.save(update_fields=["reminded_2h_at", "reminded_24h_at"])
        sent["2h"] += 1
    day = list(
        base.filter(
            _due(now, dt.timedelta(hours=24), dt.timedelta(hours=2)),
            reminded_24h_at__isnull=True,
        ).select_related("event", "user")
    )
    for rsvp in day:
        _tell(
            rsvp, REMINDER_TEMPLATE, {"rsvp": rsvp.pk, "hours": 24}, f"event-reminder:{rsvp.pk}:24"
        )
        rsvp.reminded_24h_at = now
        rsvp.save(update_fields=["reminded_24h_at"])
        sent["24h"] += 1
    if any(sent.values()):
        record("events.reminders_sent", **sent)
    return sent


# Reading ------------------------------------------------------------------------------


def attendance(*, user: User | None = None, digest: str = "", last: int = 4) -> tuple[int, int]:
    """(came, of): of the last `last` ended events this person had a confirmed place at, how
    many they were checked in at ("came to 3 of the last 4")."""
    who = Q(user=user) if user is not None else Q(digest=digest, user__isnull=True)
    rows = (
        Rsvp.objects.filter(who, event__ends_at__lte=timezone.now(), event__cancelled_at=None)
        .filter(Q(status=RsvpStatus.GOING) | Q(checked_in_at__isnull=False))
        .values_list("event_id", "event__starts_at", "checked_in_at")
    )
    events: dict[int, tuple[dt.datetime, bool]] = {}
    for event_id, starts_at, checked in rows:
        came = events.get(event_id, (starts_at, False))[1] or checked is not None
        events[event_id] = (starts_at, came)
    recent = sorted(events.values(), key=lambda item: item[0], reverse=True)[:last]
    return sum(1 for _s, came in recent if came), len(recent)
