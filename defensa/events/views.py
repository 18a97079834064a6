"""Event pages: members' list and each event (RSVP, shifts, check-in), the organisers' form,
the marshal's list, a legal observer's arrest report, and a public event's page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from defensa.accounts.models import User
from defensa.core.access import public, signed_in
from defensa.events import access, actions
from defensa.events.forms import ArrestForm, CheckinForm, EventForm, PhoneRsvpForm, ShiftForm
from defensa.events.models import Event, RsvpStatus, Visibility
from defensa.reports.flood import FloodGate

# RSVPs typed on a public page from one source (the day-keyed, in-memory source tag reports'
# flood control uses; nothing stored): enough for a household, not for a script.
rsvp_gate = FloodGate(limit=5, window_s=10 * 60)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _said(word: str) -> str:
    return {
        "going": _("You are confirmed. See you there."),
        "waitlist": _(
            "The event is full: you are on the waiting list. We will tell you if a place frees up."
        ),
        "already": _("You had already RSVPed."),
    }[word]


@signed_in
@never_cache
def index(request: HttpRequest) -> HttpResponse:
    """The events of the person's committees, upcoming first; their own attendance."""
    user = _user(request)
    now = timezone.now()
    rows = access.events_for(user)
    came, of = actions.attendance(user=user)
    return render(
        request,
        "events/index.html",
        {
            "upcoming": rows.filter(ends_at__gt=now).order_by("starts_at")[:100],
            "past": rows.filter(ends_at__lte=now).order_by("-starts_at")[:20],
            "organises": list(access.organiser_committees(user)),
            "came": came,
            "of": of,
        },
    )


@never_cache
def new(request: HttpRequest, slug: str) -> HttpResponse:
    committee = access.get_organiser_committee(request.user, slug)
    form = EventForm(request.POST or None, committee=committee)
    if request.method == "POST" and form.is_valid():
        try:
            event = actions.create_event(committee, form.event_data(), actor=_user(request))
        except actions.EventError as error:
            form.add_error("day" if error.code == "time" else None, error.message)
        else:
            messages.success(request, _("The event is on the calendar. Add its shifts below."))
            return redirect("events:detail", pk=event.pk)
    status = 400 if form.errors else 200
    return render(request, "events/new.html", {"committee": committee, "form": form}, status=status)


def _detail_context(request: HttpRequest, event: Event, **extra: Any) -> dict[str, Any]:
    user = _user(request)
    mine = list(access.rsvps_for(user, event))
    own_event = next((r for r in mine if r.shift_id is None), None)
    own_shifts = {r.shift_id: r for r in mine if r.shift_id is not None}
    confirmed = any(r.status == RsvpStatus.GOING for r in mine)
    organiser = access.is_organiser(user, event)
    shifts = []
    for shift in event.shifts.all():  # type: ignore[attr-defined]
        taken = shift.rsvps.filter(status=RsvpStatus.GOING).count()
        shifts.append(
            {
                "shift": shift,
                "taken": taken,
                "left": max(shift.capacity - taken, 0),
                "mine": own_shifts.get(shift.pk),
            }
        )
    going = event.rsvps.filter(shift=None, status=RsvpStatus.GOING).count()  # type: ignore[attr-defined]
    return {
        "event": event,
        "own_event": own_event,
        "shifts": shifts,
        "confirmed": confirmed,
        "organiser": organiser,
        "marshal": access.is_marshal(user, event),
        "observer": access.is_observer(user, event),
        "member": actions.is_member_for(event, user),
        "going": going,
        "waiting": event.rsvps.filter(status=RsvpStatus.WAITLIST).count(),  # type: ignore[attr-defined]
        "checkin_open": actions.checkin_open(event),
        "checked_in": any(r.checked_in_at for r in mine),
        "checkin_form": extra.pop("checkin_form", None) or CheckinForm(),
        "RsvpStatus": RsvpStatus,
        "Visibility": Visibility,
        "sms_number": settings.TWILIO_FROM_NUMBER,
        "public_link": settings.SITE_URL.rstrip("/") + f"/events/p/{event.code}/",
        **extra,
    }


@never_cache
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = access.get_event_for(request.user, pk)
    return render(request, "events/detail.html", _detail_context(request, event))


@never_cache
def shift_new(request: HttpRequest, pk: int) -> HttpResponse:
    event = access.get_organised_event_for(request.user, pk)
    form = ShiftForm(request.POST or None, event=event)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            actions.add_shift(
                event,
                role=d["role"],
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
                capacity=d["capacity"],
                actor=_user(request),
            )
        except actions.EventError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The shift is added."))
            return redirect("events:detail", pk=event.pk)
    status = 400 if form.errors else 200
    return render(request, "events/shift_new.html", {"event": event, "form": form}, status=status)


@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    event = access.get_organised_event_for(request.user, pk)
    try:
        actions.cancel_event(event, actor=_user(request))
    except actions.EventError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The event is called off."))
    return redirect("events:detail", pk=event.pk)


@require_POST
def rsvp(request: HttpRequest, pk: int) -> HttpResponse:
    """A member RSVPs to the event, or signs up for one of its shifts (`shift`)."""
    event = access.get_event_for(request.user, pk)
    shift = None
    if request.POST.get("shift"):
        shift = access.get_shift_for(request.user, event, request.POST["shift"])
    try:
        _row, word = actions.rsvp_as_member(event, _user(request), shift=shift)
    except actions.EventError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _said(word))
    return redirect("events:detail", pk=event.pk)


@require_POST
def not_coming(request: HttpRequest, pk: int, rsvp_pk: int) -> HttpResponse:
    event = access.get_event_for(request.user, pk)
    row = access.get_rsvp_for(request.user, event, rsvp_pk)
    try:
        actions.cancel_rsvp(row, actor=_user(request))
    except actions.EventError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your place is given up. Thank you for saying so."))
    return redirect("events:detail", pk=event.pk)


@require_POST
def checkin(request: HttpRequest, pk: int) -> HttpResponse:
    event = access.get_event_for(request.user, pk)
    form = CheckinForm(request.POST)
    if form.is_valid():
        try:
            actions.check_in_with_code(event, _user(request), form.cleaned_data["code"])
        except actions.EventError as error:
            form.add_error("code", error.message)
        else:
            messages.success(request, _("You are checked in. Thank you for coming."))
            return redirect("events:detail", pk=event.pk)
    context = _detail_context(request, event, checkin_form=form)
    return render(request, "events/detail.html", context, status=400)


@never_cache
def attendees(request: HttpRequest, pk: int) -> HttpResponse:
    """The marshal's list on a phone: who is confirmed, who came; check people in."""
    event = access.get_marshalled_event_for(request.user, pk)
    if request.method == "POST":
        row = access.get_attendee_for(request.user, event, request.POST.get("rsvp"))
        try:
            actions.check_in(row, actor=_user(request))
        except actions.EventError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Checked in."))
        return redirect("events:attendees", pk=event.pk)
    rows = []
    for row in access.attendees_for(request.user, event):
        came, of = (
            actions.attendance(user=row.user)
            if row.user_id
            else actions.attendance(digest=row.digest)
        )
        rows.append({"rsvp": row, "came": came, "of": of})
    return render(
        request,
        "events/attendees.html",
        {
            "event": event,
            "rows": rows,
            "checkin_open": actions.checkin_open(event),
            "RsvpStatus": RsvpStatus,
        },
    )


@never_cache
def arrest(request: HttpRequest, pk: int) -> HttpResponse:
    """A legal observer reports an arrest: a case opens for the legal team, who are alerted."""
    event = access.get_observed_event_for(request.user, pk)
    form = ArrestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            found = actions.report_arrest(
                event,
                actor=_user(request),
                person_name=d["person_name"],
                facility=d["facility"],
                note=d["note"],
            )
        except actions.EventError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("The legal team is alerted. Case %(reference)s is open.")
                % {"reference": found.case.reference},
            )
            return redirect("events:detail", pk=event.pk)
    status = 400 if form.errors else 200
    return render(request, "events/arrest.html", {"event": event, "form": form}, status=status)


@public
@never_cache
def public_page(request: HttpRequest, code: str) -> HttpResponse:
    """A public event for anyone: coarse place and time, and RSVP with a phone number."""
    event = access.get_public_event(code)
    form = PhoneRsvpForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        if not rsvp_gate.allow(getattr(request, "source_tag", "")):
            form.add_error(
                None, _("Too many RSVPs from here just now. Try again in a few minutes.")
            )
            status = 429
        else:
            language = (request.LANGUAGE_CODE or "en")[:2]
            try:
                _row, word = actions.rsvp_by_phone(
                    event, form.cleaned_data["phone"], channel="web", language=language
                )
            except actions.EventError as error:
                form.add_error("phone" if error.code == "phone" else None, error.message)
            else:
                messages.success(request, _said(word))
                return redirect("events:public", code=event.code)
    if form.errors and status == 200:
        status = 400
    going = event.rsvps.filter(shift=None, status=RsvpStatus.GOING).count()  # type: ignore[attr-defined]
    return render(
        request,
        "events/public.html",
        {
            "event": event,
            "form": form,
            "full": event.capacity is not None and going >= event.capacity,
            "sms_number": settings.TWILIO_FROM_NUMBER,
        },
        status=status,
    )
