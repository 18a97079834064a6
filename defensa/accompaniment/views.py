"""Accompaniment pages: the legal team's calendar, volunteers' sign-up list, the phone
check-in page (public: the link's token is the credential) and the private calendar feed."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from defensa.accompaniment import access, actions, ical
from defensa.accompaniment.forms import AppointmentForm, PlaceForm
from defensa.accompaniment.messages import local_time
from defensa.accompaniment.models import (
    Appointment,
    CompanionStatus,
    FeedToken,
    Outcome,
    Status,
)
from defensa.accounts.models import User
from defensa.committees.access import committees_for
from defensa.core.access import public, signed_in
from defensa.core.transitions import IllegalTransition


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _rows(appointments: Any, user: User | None = None) -> list[dict[str, Any]]:
    """What a volunteer may see of each appointment: never who is accompanied."""
    rows = []
    for appointment in appointments:
        confirmed = sum(
            1 for c in appointment.companions.all() if c.status == CompanionStatus.CONFIRMED
        )
        mine = next(
            (c for c in appointment.companions.all() if user and c.volunteer_id == user.pk), None
        )
        rows.append(
            {
                "appointment": appointment,
                "when": local_time(appointment),
                "languages": appointment.language_labels(),
                "still_needed": max(appointment.companions_needed - confirmed, 0),
                "mine": mine,
            }
        )
    return rows


# Volunteers and the legal team's front page -------------------------------------------


def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    legal = list(committees_for(user, "legal"))
    accompanier = access.is_accompanier(user)
    if not legal and not accompanier:
        raise Http404
    context: dict[str, Any] = {"legal": legal, "accompanier": accompanier}
    if accompanier:
        open_list = access.open_appointments_for(user).prefetch_related("companions")[:100]
        context["open_rows"] = _rows(open_list, user)
    mine = (
        access.own_companions_for(user)
        .filter(
            status__in=[CompanionStatus.PENDING, CompanionStatus.CONFIRMED],
            appointment__ends_at__gte=timezone.now() - dt.timedelta(hours=12),
        )
        .order_by("appointment__starts_at")
    )
    context["mine"] = [
        {
            "companion": c,
            "when": local_time(c.appointment),
            "link": actions.checkin_path(c) if c.status == CompanionStatus.CONFIRMED else "",
        }
        for c in mine
    ]
    return render(request, "accompaniment/index.html", context)


@require_POST
def sign_up(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    appointment = access.get_open_appointment_for(user, pk)
    try:
        companion = actions.sign_up(appointment, user, actor=user)
    except IllegalTransition:
        messages.error(request, _("This appointment already has enough companions."))
        return redirect("accompaniment:index")
    if companion.status == CompanionStatus.CONFIRMED:
        messages.success(request, _("You are confirmed. We sent you the check-in link."))
    else:
        messages.success(request, _("Thank you. The legal team will confirm you."))
    return redirect("accompaniment:index")


@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    companion = access.get_own_companion_for(user, pk)
    try:
        actions.withdraw(companion, actor=user)
        messages.success(request, _("You are no longer signed up."))
    except IllegalTransition:
        messages.error(request, _("You cannot withdraw after checking in."))
    return redirect("accompaniment:index")


# The legal team -----------------------------------------------------------------------


def calendar(request: HttpRequest, slug: str) -> HttpResponse:
    committee = access.get_legal_committee_for(request.user, slug)
    since = timezone.now() - dt.timedelta(days=7)
    appointments = (
        Appointment.objects.filter(committee=committee, ends_at__gte=since)
        .select_related("place")
        .prefetch_related("companions__volunteer")
        .order_by("starts_at")[:200]
    )
    rows = _rows(appointments)
    for row in rows:
        row["pending"] = sum(
            1 for c in row["appointment"].companions.all() if c.status == CompanionStatus.PENDING
        )
    return render(
        request,
        "accompaniment/calendar.html",
        {"committee": committee, "rows": rows, "place_form": PlaceForm()},
    )


def _find_case(user: User, committee: Any, reference: str) -> Any:
    if not reference or not apps.is_installed("defensa.cases"):
        return None
    from defensa.cases.access import cases_for

    return cases_for(user).filter(committee=committee, reference=reference).first()


def new(request: HttpRequest, slug: str) -> HttpResponse:
    user = _user(request)
    committee = access.get_legal_committee_for(user, slug)
    data = request.POST if request.method == "POST" else None
    initial = {"case_reference": request.GET.get("case", "")[:12]}
    form = AppointmentForm(data, committee=committee, initial=initial)
    if data is not None:
        case = None
        if form.is_valid():
            reference = form.cleaned_data["case_reference"]
            case = _find_case(user, committee, reference)
            if reference and case is None:
                form.add_error("case_reference", _("No open case of this committee has it."))
        if form.is_valid():
            d = form.cleaned_data
            appointment = actions.schedule_appointment(
                committee,
                kind=d["kind"],
                place=d["place"],
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
                languages=d["languages"],
                companions_needed=d["companions_needed"],
                person_name=d["person_name"],
                a_number=d["a_number"],
                contacts=d["contacts"],
                case=case,
                actor=user,
            )
            messages.success(request, _("On the calendar. Volunteers can sign up now."))
            return redirect("accompaniment:appointment", slug=committee.slug, pk=appointment.pk)
        status = 400
    else:
        status = 200
    return render(
        request,
        "accompaniment/new.html",
        {"committee": committee, "form": form},
        status=status,
    )


def _appointment_context(appointment: Appointment, **extra: Any) -> dict[str, Any]:
    companions = list(appointment.companions.select_related("volunteer").order_by("created_at"))  # type: ignore[attr-defined]
    return {
        "committee": appointment.committee,
        "appointment": appointment,
        "when": local_time(appointment),
        "companions": companions,
        "confirmed": sum(1 for c in companions if c.status == CompanionStatus.CONFIRMED),
        "case": getattr(appointment, "case", None),
        **extra,
    }


def appointment(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = access.get_legal_committee_for(request.user, slug)
    found = access.get_legal_appointment_for(request.user, committee, pk)
    return render(request, "accompaniment/appointment.html", _appointment_context(found))


@never_cache
@require_POST
def reveal(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = access.get_legal_committee_for(request.user, slug)
    found = access.get_legal_appointment_for(request.user, committee, pk)
    try:
        revealed = actions.reveal_identity(found, actor=request.user)
    except actions.RevealQuota:
        messages.error(request, _("You have opened too many records in the last hour. Try later."))
        return redirect("accompaniment:appointment", slug=committee.slug, pk=found.pk)
    return render(
        request,
        "accompaniment/appointment.html",
        _appointment_context(found, revealed=revealed),
    )


@require_POST
def cancel(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = access.get_legal_committee_for(request.user, slug)
    found = access.get_legal_appointment_for(request.user, committee, pk)
    try:
        actions.cancel_appointment(found, actor=request.user)
        messages.success(request, _("Cancelled. Confirmed companions were told."))
    except IllegalTransition:
        messages.error(request, _("This appointment is already over."))
    return redirect("accompaniment:appointment", slug=committee.slug, pk=found.pk)


@require_POST
def companion(request: HttpRequest, slug: str, pk: int, cid: int, verb: str) -> HttpResponse:
    committee = access.get_legal_committee_for(request.user, slug)
    found = access.get_legal_appointment_for(request.user, committee, pk)
    row = access.get_legal_companion_for(request.user, found, cid)
    if verb not in ("confirm", "decline"):
        raise Http404
    try:
        if verb == "confirm":
            actions.confirm_companion(row, actor=request.user)
            messages.success(request, _("Confirmed. We sent them the check-in link."))
        else:
            actions.decline_companion(row, actor=request.user)
            messages.success(request, _("Done."))
    except IllegalTransition:
        messages.error(request, _("That is not possible any more."))
    return redirect("accompaniment:appointment", slug=committee.slug, pk=found.pk)


@require_POST
def add_place(request: HttpRequest, slug: str) -> HttpResponse:
    committee = access.get_legal_committee_for(request.user, slug)
    form = PlaceForm(request.POST)
    if form.is_valid():
        actions.add_place(**form.cleaned_data, actor=request.user)
        messages.success(request, _("Place added."))
    else:
        messages.error(request, _("Give the place a name and a kind."))
    return redirect("accompaniment:calendar", slug=committee.slug)


# The companion's phone page -----------------------------------------------------------


def _gone(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(request, "accompaniment/checkin_gone.html", {"reason": reason}, status=status)


@public
@never_cache
def checkin(request: HttpRequest, token: str) -> HttpResponse:
    """One sign-up, one page: "I'm here", then how it ended. "Detained" asks once more."""
    found = actions.find_companion(token)
    if found is None:
        return _gone(request, "unknown", 404)
    translation.activate(found.volunteer.language)
    request.LANGUAGE_CODE = found.volunteer.language
    problem = actions.link_problem(found)
    if problem:
        return _gone(request, problem, 410)
    confirm_detained = False
    refused = ""
    if request.method == "POST":
        step = request.POST.get("step", "")
        if step not in actions.CHECKIN_STEPS:
            return _gone(request, "unknown", 400)
        refused = actions.step_refused(found, step)
        if refused:
            pass  # said on the page below; nothing changes
        elif step == Outcome.DETAINED and request.POST.get("sure") != "yes":
            confirm_detained = True
        else:
            # A double tap or a second device: show where things stand.
            with contextlib.suppress(IllegalTransition):
                actions.check_in(found, step, actor=found.volunteer)
            return redirect("accompaniment:checkin", token=token)
    appointment = found.appointment
    opens, closes = actions.checkin_window(appointment)
    now = timezone.now()
    tz = appointment.committee.tz
    return render(
        request,
        "accompaniment/checkin.html",
        {
            "early": now < opens,
            "closed": now > closes,
            "refused": refused,
            "may_detain": not actions.step_refused(found, Outcome.DETAINED, now),
            "opens": formats.date_format(opens.astimezone(tz), "D j M, H:i", use_l10n=True),
            "late_outcomes": [(v, label) for v, label in Outcome.choices if v != Outcome.DETAINED],
            "companion": found,
            "appointment": appointment,
            "when": local_time(appointment),
            "languages": appointment.language_labels(),
            "confirmed": found.status == CompanionStatus.CONFIRMED,
            "confirm_detained": confirm_detained,
            "outcomes": Outcome.choices,
            "hotline": settings.HOTLINE_NUMBER,
            "others": [
                (c.volunteer.display_name.split() or [""])[0]
                for c in appointment.companions.filter(status=CompanionStatus.CONFIRMED)
                .exclude(pk=found.pk)
                .select_related("volunteer")
            ],
            "detained": appointment.status == Status.DETAINED,
        },
    )


# Calendar feed ------------------------------------------------------------------------


@public
@never_cache
def feed(request: HttpRequest, token: str) -> HttpResponse:
    user = actions.find_feed_user(token)
    if user is None:
        raise Http404
    now = timezone.now()
    events = []
    with translation.override(user.language):
        for appointment in actions.upcoming_for(user):
            place = appointment.place
            kind = appointment.get_kind_display()
            languages = ", ".join(appointment.language_labels())
            description = _("Accompaniment: %(kind)s.") % {"kind": kind}
            if languages:
                description += "\n" + _("Languages needed: %(languages)s") % {
                    "languages": languages
                }
            description += "\n" + _("Check in with the link in your reminder message.")
            events.append(
                ical.Event(
                    uid=f"accompaniment-{appointment.pk}@{request.get_host().split(':')[0]}",
                    sequence=appointment.sequence,
                    start=appointment.starts_at,
                    end=appointment.ends_at,
                    summary=_("Accompaniment: %(kind)s, %(place)s")
                    % {"kind": kind, "place": place.name},
                    location=f"{place.name}, {place.address}" if place.address else place.name,
                    description=description,
                    cancelled=appointment.status == Status.CANCELLED,
                )
            )
        host = request.get_host().split(":")[0]
        for source in ical.sources():
            events.extend(source(user, host))
        name = _("%(network)s accompaniment") % {"network": settings.NETWORK_NAME}
        body = ical.calendar(events, name=name, now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["Content-Disposition"] = 'inline; filename="accompaniment.ics"'
    return response


@signed_in
def my_calendar(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    link = ""
    if request.method == "POST":
        what = request.POST.get("do", "")
        if what == "make":
            token = actions.new_feed_token(user, actor=user)
            link = settings.SITE_URL.rstrip("/") + reverse(
                "accompaniment:feed", kwargs={"token": token}
            )
            messages.success(
                request, _("Your new calendar link is below. Any older link stopped working.")
            )
        elif what == "revoke":
            actions.revoke_feed(user, actor=user)
            messages.success(request, _("Your calendar link no longer works."))
            return redirect("accompaniment:my_calendar")
        else:
            return redirect("accompaniment:my_calendar")
    has_feed = FeedToken.objects.filter(user=user).exists()
    return render(request, "accompaniment/my_calendar.html", {"link": link, "has_feed": has_feed})
