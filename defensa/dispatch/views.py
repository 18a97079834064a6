"""Responder page (public: the link's token is the credential) and the dispatcher console."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Case, Count, Q, QuerySet, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from defensa.committees.access import (
    committee_and_below,
    committees_for,
    get_committee_for,
    get_managed_committee_for,
)
from defensa.committees.models import Committee
from defensa.core import geo, maps, media
from defensa.core.access import public, signed_in
from defensa.core.transitions import IllegalTransition
from defensa.dispatch import actions, consequences, feedback
from defensa.dispatch.access import (
    get_committee_incident_for,
    get_console_committee_for,
    member_messages_for,
)
from defensa.dispatch.forms import FindingForm, PolicyForm
from defensa.dispatch.matching import home_cell, on_duty_verifiers, rings_between
from defensa.dispatch.models import Offer, OfferStatus, Outcome
from defensa.dispatch.response import ALERTED_STEP
from defensa.evidence.models import PublicPage
from defensa.incidents import actions as incident_actions
from defensa.incidents import grouping, triage
from defensa.incidents.areas import incident_cell, where_label
from defensa.incidents.models import Incident, State

STEPS = {"accept", "decline", "arrived", *Outcome.values}


def _first_name(name: str) -> str:
    return (name.split() or [""])[0]


def _link_gone(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(request, "dispatch/link_gone.html", {"reason": reason}, status=status)


@public
@never_cache
def respond(request: HttpRequest, token: str) -> HttpResponse:
    """One offer, one page: accept or decline, then "I'm there", then the finding."""
    offer = actions.find_offer(token)
    if offer is None:
        return _link_gone(request, "unknown", 404)
    # The page speaks the responder's language, whatever browser they opened it in.
    translation.activate(offer.responder.language)
    request.LANGUAGE_CODE = offer.responder.language
    problem = offer.link_problem()
    if request.method == "POST" and not problem:
        step = request.POST.get("step", "")
        if step not in STEPS:
            return _link_gone(request, "unknown", 400)
        try:
            if step == "accept":
                actions.accept_offer(offer)
            elif step == "decline":
                actions.decline_offer(offer)
                return _link_gone(request, "declined", 200)
            elif step == "arrived":
                actions.mark_arrived(offer)
            else:
                form = FindingForm(request.POST, request.FILES)
                try:
                    if not form.is_valid():
                        # Nothing changed: the same page, the reason beside the field.
                        return _respond_page(request, offer, form, status=400)
                    actions.report_finding(
                        offer,
                        step,
                        note=form.cleaned_data["note"],
                        photos=form.clean_photos_list,
                        videos=form.clean_videos_list,
                    )
                except media.StoreUnavailable:
                    # Nothing changed; the verifier can send the finding without the files.
                    form.add_error(
                        None,
                        _(
                            "Your photos and videos could not be stored just now, so "
                            "nothing was sent. Send your finding again, without them if "
                            "it fails again."
                        ),
                    )
                    return _respond_page(request, offer, form, status=503)
                finally:
                    form.discard_media()
                return _link_gone(request, "thanks", 200)
        except IllegalTransition:
            # A double tap or a second device: show where things stand instead of failing.
            pass
        return redirect("dispatch:respond", token=token)
    if problem:
        return _link_gone(request, problem, 410)
    return _respond_page(request, offer, FindingForm())


def _respond_page(
    request: HttpRequest, offer: Offer, form: FindingForm, status: int = 200
) -> HttpResponse:
    incident = offer.incident
    others = (
        Offer.objects.going()
        .filter(incident=incident)
        .exclude(pk=offer.pk)
        .select_related("responder")
    )
    places = [
        text
        for text in incident.reports.exclude(location_text="")  # type: ignore[attr-defined]
        .order_by("-created_at")
        .values_list("location_text", flat=True)[:3]
    ]
    return render(
        request,
        "dispatch/respond.html",
        {
            "offer": offer,
            "incident": incident,
            "where": where_label(incident),
            "places": list(dict.fromkeys(places)),
            "going": [_first_name(o.responder.display_name) for o in others],
            "dispatcher": _first_name(offer.offered_by.display_name) if offer.offered_by else "",
            "hotline": settings.HOTLINE_NUMBER,
            "settled": incident.state != State.VERIFYING,
            "outcomes": [
                (value, label, consequences.of_finding(value, incident))
                for value, label in Outcome.choices
            ]
            if offer.status == OfferStatus.ARRIVED
            else [],
            "form": form,
            "video_seconds": settings.VIDEO_MAX_SECONDS,
            "video_mb": settings.VIDEO_MAX_MB,
        },
        status=status,
    )


# Console ------------------------------------------------------------------------------

QUEUE_STATES = (State.NEW, State.VERIFYING, State.CONFIRMED)
MEMBER_MESSAGES_SHOWN = dt.timedelta(days=1)
MEMBER_MESSAGES_MAX = 20


def _queue_context(request: HttpRequest, committee: Any) -> dict[str, Any]:
    """The console's queue: the open incidents of the committee and of every committee under
    it (a city's dispatchers see their locals'), or of one of them (`?committee=<slug>`)."""
    now = timezone.now()
    # The view has checked that the user dispatches for `committee`: its subtree is theirs.
    subtree = committee_and_below(committee)
    scope = list(Committee.objects.filter(pk__in=subtree)) if len(subtree) > 1 else []
    shown = None
    if request.GET.get("committee"):
        shown = get_console_committee_for(request.user, committee, request.GET["committee"])
    within = committee_and_below(shown) if shown else subtree
    open_ones = Incident.objects.filter(committee_id__in=within, state__in=QUEUE_STATES)
    hide_single_web = request.GET.get("hide") == "single_web"
    queued = open_ones.filter(held=False)
    if hide_single_web:
        queued = queued.exclude(triage.single_web_q())
    # Triage order (docs/rapid-response.md): what came in the last hours first; then what is
    # most likely real and most urgent (the signals each row shows in words); then, at the
    # same signals, incidents without a place (nobody can be sent until someone places them);
    # then the newest. One indexed query, however many incidents are open.
    incidents = list(
        _ordered(queued, now)
        .select_related("committee")
        .annotate(going=Count("offers", filter=Q(offers__status__in=["accepted", "arrived"])))
        .prefetch_related("offers__responder")[:QUEUE_ROWS]
    )
    held = list(_ordered(open_ones.filter(held=True), now)[:QUEUE_ROWS])
    held_count = len(held) if len(held) < QUEUE_ROWS else open_ones.filter(held=True).count()
    maybe_same = _maybe_same(incidents, within)
    # Who is on duty is asked once per committee in the queue: each incident's verifiers are
    # its own committee's.
    responders: dict[int, list[Any]] = {}
    # And what "Request verification" does, by each incident's own committee's policy.
    says: dict[int, Any] = {}
    for incident in incidents:
        if incident.committee_id not in responders:
            responders[incident.committee_id] = on_duty_verifiers(incident, now)  # type: ignore[index]
            says[incident.committee_id] = consequences.of_requesting_verification(  # type: ignore[index]
                incident.committee
            )
    everyone = {u.pk: u for people in responders.values() for u in people}
    homes = {pk: home_cell(user) for pk, user in everyone.items()}
    with_map = maps.tiles_configured()
    rows = []
    for incident in incidents:
        cell = incident_cell(incident)
        near = sorted(
            (rings_between(homes[u.pk], cell), u.display_name)
            for u in responders.get(incident.committee_id, [])  # type: ignore[arg-type]
        )
        rows.append(
            {
                "incident": incident,
                "elsewhere": incident.committee_id != committee.pk,
                "verify_consequence": says[incident.committee_id],  # type: ignore[index]
                "where": where_label(incident),
                "near": [name for rings, name in near[:5]],
                "offers": list(incident.offers.all()),  # type: ignore[attr-defined]
                # A lone verifier's "false alarm" or "not found" on a corroborated incident
                # does not settle it: the dispatcher gives the verdict (docs/rapid-response.md).
                "awaits_verdict": _awaits_verdict(incident),
                "signals": triage.signals(incident),
                "maybe_same": maybe_same.get(incident.pk),
                # The neighbourhood cell's centre, never the reports' own points.
                "spot": _spot(cell) if with_map and cell else None,
            }
        )
    context = {
        "committee": committee,
        # Texts from the members of the committees shown, in the last day (dispatch/sms.py).
        "member_messages": list(
            member_messages_for(request.user, committee).filter(
                committee_id__in=within, created_at__gte=now - MEMBER_MESSAGES_SHOWN
            )[:MEMBER_MESSAGES_MAX]
        ),
        # The filter, for a console that sees more than its own committee.
        "scope": scope,
        "shown": shown,
        "rows": rows,
        "held": [{"incident": i, "signals": triage.signals(i)} for i in held],
        "held_count": held_count,
        "flood_mode": triage.in_flood_mode(committee.pk),
        "hide_single_web": hide_single_web,
        "now": now,
        "with_map": with_map,
    }
    if with_map:
        context["duty_areas"] = _duty_areas(list(everyone.values()), homes)
    return context


# How many incidents each queue shows (the rest is a scroll of the archive away).
QUEUE_ROWS = 100
# Incidents observed within this long are "fresh" and come before older ones.
FRESH = dt.timedelta(hours=2)


def _ordered(incidents: QuerySet[Incident], now: dt.datetime) -> QuerySet[Incident]:
    return incidents.annotate(
        fresh=Case(When(last_observed_at__gte=now - FRESH, then=1), default=0),
        unplaced=Case(When(lat__isnull=True, then=1), default=0),
    ).order_by("-fresh", "-triage_rank", "-unplaced", "-last_observed_at", "-report_count", "pk")


@dataclass(frozen=True)
class MaybeSame:
    """A near miss of grouping, for one queue row: the other incident and why."""

    other: Incident
    reason: str
    # The merge keeps the better corroborated of the two.
    keep: Incident
    merge: Incident


def _maybe_same(incidents: list[Incident], within: list[int]) -> dict[int, MaybeSame]:
    """Near misses of grouping among the open incidents of the shown rows' committees."""
    if not incidents:
        return {}
    rules = grouping.Rules.from_settings()
    since = min(i.first_observed_at for i in incidents) - rules.gap
    rows = Incident.objects.filter(
        committee_id__in=within,
        state__in=QUEUE_STATES,
        lat__isnull=False,
        last_observed_at__gte=since,
    ).values_list(
        "pk",
        "lat",
        "lon",
        "radius_m",
        "first_observed_at",
        "last_observed_at",
        "category",
        "committee_id",
    )
    group = {pk: committee for (pk, *_rest, committee) in rows}
    found = grouping.near_misses(
        [grouping.Candidate.of(i) for i in incidents if i.lat is not None],
        [
            grouping.Candidate(pk, lat, lon, radius or grouping.MAX_PRECISION_M, a, b, what)
            for pk, lat, lon, radius, a, b, what, _c in rows
        ],
        rules,
        same_group={**group, **{i.pk: i.committee_id for i in incidents}},
    )
    if not found:
        return {}
    others = Incident.objects.in_bulk([other for other, _reason in found.values()])
    said = {}
    for pk, (other_pk, reason) in found.items():
        mine = next(i for i in incidents if i.pk == pk)
        other = others[other_pk]
        keep, merge = (
            (mine, other)
            if (mine.triage_rank, mine.report_count) >= (other.triage_rank, other.report_count)
            else (other, mine)
        )
        said[pk] = MaybeSame(other, REASONS[reason](), keep, merge)
    return said


REASONS = {
    grouping.NEAR_OTHER_CATEGORY: lambda: _("same place and time, another category"),
    grouping.NEAR_ZIP_ONLY: lambda: _("one was given only as a ZIP code near the other"),
    grouping.NEAR_PLACE: lambda: _("a few hundred metres apart, at the same time"),
}


def _awaits_verdict(incident: Incident) -> bool:
    return incident.state == State.VERIFYING and any(
        offer.outcome in actions.NEGATIVE_FINDINGS
        for offer in incident.offers.all()  # type: ignore[attr-defined]
    )


def _spot(cell: str) -> str:
    lat, lon = geo.cell_center(cell)
    return f"{lat:.5f},{lon:.5f}"


def _duty_areas(responders: list[Any], homes: dict[int, str]) -> list[dict[str, Any]]:
    """On-duty verifiers' coarse home cells as hexagons for the map, with who is in each."""
    by_cell: dict[str, list[str]] = {}
    for user in responders:
        if homes.get(user.pk):
            by_cell.setdefault(homes[user.pk], []).append(user.display_name)
    return [
        {
            "boundary": geo.cell_outline(cell),
            "names": ", ".join(sorted(names)),
            "count": len(names),
        }
        for cell, names in sorted(by_cell.items())
    ]


@maps.shows_map
def console(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for(request.user, slug, role="dispatcher")
    context = {**_queue_context(request, committee), **maps.map_context()}
    selected = request.GET.get("incident")
    if selected:
        # Outside the refreshed fragment, so a note being typed here is never replaced.
        incident = get_committee_incident_for(request.user, committee, selected)
        context["selected"] = incident
        reports = list(incident.reports.order_by("created_at")[:50])  # type: ignore[attr-defined]
        context["selected_reports"] = reports
        context["selected_facts"] = _facts(reports)
        context["selected_evidence"] = _evidence(request, incident)
        references = dict(incident.reports.values_list("pk", "reference"))  # type: ignore[attr-defined]
        context["selected_timeline"] = feedback.timeline(
            incident.timeline.select_related("actor"),  # type: ignore[attr-defined]
            references,
        )
        context["selected_offers"] = incident.offers.select_related("responder")  # type: ignore[attr-defined]
        context["selected_awaits_verdict"] = _awaits_verdict(incident)
        if incident.state in (State.NEW, State.VERIFYING):
            context["confirm_consequence"] = consequences.of_confirming(incident)
    return render(request, "dispatch/console.html", context)


def _facts(reports: list[Any]) -> dict[str, Any]:
    """What the reports say, summed up for the panel: the most agents and vehicles any report
    counted, the agencies, languages and channels named."""
    agents = [r.agents for r in reports if r.agents is not None]
    vehicles = [r.vehicles for r in reports if r.vehicles is not None]
    from defensa.accounts.models import Language
    from defensa.reports.models import Channel

    def label(choices: Any, value: str) -> str:
        try:
            return str(choices(value).label)
        except ValueError:
            return value

    return {
        "agents": max(agents) if agents else None,
        "vehicles": max(vehicles) if vehicles else None,
        "agencies": list(dict.fromkeys(r.agency for r in reports if r.agency)),
        "languages": [label(Language, c) for c in dict.fromkeys(r.language for r in reports)],
        "channels": [label(Channel, c) for c in dict.fromkeys(r.channel for r in reports)],
    }


def _evidence(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    """The incident's photos and videos: counted for everyone at the console, shown (as
    thumbnails through the record's audited file view) only to a role that may see them."""
    from defensa.evidence.models import Kind, Media
    from defensa.incidents.access import EVIDENCE_ROLES, incidents_for
    from defensa.reports.models import Photo

    # The keys are the record's file addresses ("p12" a report photo, "m7" a Media row).
    photos = Photo.of_incident(incident.pk).order_by("created_at", "id").values_list("pk")
    media = Media.of_incident(incident.pk).order_by("created_at", "id").values_list("pk", "kind")
    items = [Thumb(f"p{pk}", Kind.PHOTO) for (pk,) in photos]
    items += [Thumb(f"m{pk}", kind) for pk, kind in media]
    may_see = incidents_for(request.user, EVIDENCE_ROLES).filter(pk=incident.pk).exists()
    return {
        "photos": sum(1 for i in items if i.kind == Kind.PHOTO),
        "videos": sum(1 for i in items if i.kind != Kind.PHOTO),
        "items": items if may_see else [],
        "may_see": may_see,
    }


@dataclass(frozen=True)
class Thumb:
    key: str
    kind: str


VERDICTS = {
    "confirm": actions.confirm_and_respond,
    "false_alarm": incident_actions.mark_false_alarm,
    "not_found": incident_actions.mark_not_found,
}


@require_POST
def decide(request: HttpRequest, slug: str, pk: int, verb: str) -> HttpResponse:
    """A dispatcher's own step: confirm, false alarm or not found (a reason is required),
    note, close."""
    committee = get_committee_for(request.user, slug, role="dispatcher")
    incident = get_committee_incident_for(request.user, committee, pk)
    note = request.POST.get("note", "").strip()[: actions.NOTE_LIMIT]
    back = redirect(f"{reverse('dispatch:console', kwargs={'slug': slug})}?incident={incident.pk}")
    if verb not in (*VERDICTS, "note", "close", "release"):
        raise Http404
    if verb == "release":
        try:
            incident_actions.release_incident(incident, actor=request.user, note=note)
        except incident_actions.CannotRelease:
            messages.info(
                request, _("%(ref)s is in the queue already.") % {"ref": incident.reference}
            )
        else:
            messages.success(
                request, _("%(ref)s is in the queue now.") % {"ref": incident.reference}
            )
        return redirect("dispatch:console", slug=committee.slug)
    if verb in VERDICTS and not note:
        messages.error(request, _("Say why: the reason goes on the incident's record."))
        return back
    if verb == "note" and not note:
        messages.error(request, _("Write the note first."))
        return back
    try:
        if verb in VERDICTS:
            VERDICTS[verb](incident, actor=request.user, note=note)
            if verb == "confirm":
                # What the confirmation did, from the entry it wrote on the timeline.
                _say(request, _step_entry(incident, ALERTED_STEP), feedback.of_alerts)
        elif verb == "note":
            incident_actions.add_note(incident, note, actor=request.user)
        else:
            incident_actions.change_state(incident, State.CLOSED, actor=request.user, note=note)
    except IllegalTransition:
        messages.error(request, _("That step is not possible from the incident's state now."))
    else:
        messages.success(request, _("Saved on the incident's record."))
    return back


@require_POST
def flood_mode(request: HttpRequest, slug: str) -> HttpResponse:
    """Switch the committee's flood mode on or off (its dispatchers and coordinators)."""
    committee = get_committee_for(request.user, slug, role=("dispatcher", "coordinator"))  # type: ignore[arg-type]
    on = request.POST.get("on") == "1"
    incident_actions.switch_flood_mode(committee, on=on, actor=request.user)
    if on:
        messages.warning(
            request,
            _("Flood mode is on: single web reports that nothing backs up are held apart."),
        )
    else:
        messages.success(request, _("Flood mode is off: every held report is in the queue."))
    return redirect("dispatch:console", slug=committee.slug)


def queue(request: HttpRequest, slug: str) -> HttpResponse:
    """The queue fragment alone, for the console's live refresh."""
    committee = get_committee_for(request.user, slug, role="dispatcher")
    return render(request, "dispatch/_queue.html", _queue_context(request, committee))


@require_POST
def request_verification(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = get_committee_for(request.user, slug, role="dispatcher")
    incident = get_committee_incident_for(request.user, committee, pk)
    try:
        offers = actions.offer_to_nearest(incident, actor=request.user)
    except IllegalTransition:
        messages.error(request, _("This incident can no longer be sent for verification."))
    else:
        # The words come from the timeline entry this request wrote (its offers and counts),
        # not from an escalation that may have written another one just now.
        ids = [o.pk for o in offers]
        recent = incident.timeline.filter(detail__has_key="asked").order_by("-pk")[:5]  # type: ignore[attr-defined]
        entry = next((e for e in recent if e.detail.get("offers") == ids), None)
        said = feedback.of_offers(entry.detail if entry else {"offers": ids})
        (messages.warning if said.warn else messages.success)(
            request, f"{incident.reference}: {said.text}"
        )
    return redirect("dispatch:console", slug=committee.slug)


def _step_entry(incident: Incident, step: str) -> Any:
    return (
        incident.timeline.filter(detail__step=step)  # type: ignore[attr-defined]
        .order_by("-pk")
        .first()
    )


def _say(request: HttpRequest, entry: Any, words: Any) -> None:
    if entry is None:
        return
    for said in words(entry.detail):
        (messages.warning if said.warn else messages.info)(request, said.text)


# Community alerts (opt-in) ------------------------------------------------------------


@signed_in
def area_alerts(request: HttpRequest) -> HttpResponse:
    """A member chooses the neighbourhoods they want confirmed-incident alerts for."""
    from defensa.committees.areas import area_choices
    from defensa.dispatch.models import AreaAlert
    from defensa.dispatch.response import set_area_alerts

    user = request.user
    choices = area_choices(user)  # type: ignore[arg-type]
    if request.method == "POST":
        set_area_alerts(
            user,  # type: ignore[arg-type]
            request.POST.getlist("cell"),
            allowed=[cell for cell, _label in choices],
        )
        messages.success(request, _("Saved."))
        return redirect("dispatch:alerts")
    chosen = set(AreaAlert.objects.filter(user=user).values_list("cell", flat=True))
    return render(request, "dispatch/alerts.html", {"choices": choices, "chosen": chosen})


# A committee's dispatch policy (network administrators; coordinators for their subtree) ---


def policy(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_managed_committee_for(request.user, slug)
    current = actions.policy_for(committee)
    form = PolicyForm(
        request.POST if request.method == "POST" else None,
        initial={
            "offer_size": current.offer_size,
            "accept_target": current.accept_target,
            "escalate_minutes": current.escalate_minutes,
            "reach": current.reach,
        },
    )
    if request.method == "POST" and form.is_valid():
        actions.set_dispatch_policy(committee, actor=request.user, **form.cleaned_data)
        messages.success(request, _("The dispatch policy is saved. New requests follow it."))
        return redirect("dispatch:policy", slug=committee.slug)
    public_page = PublicPage.objects.filter(committee=committee).first()
    return render(
        request,
        "dispatch/policy.html",
        {
            "committee": committee,
            "form": form,
            "own": current.own,
            "public_on": bool(public_page and public_page.show_verified),
            "can_switch_public": committees_for(request.user, "coordinator")
            .filter(pk=committee.pk)
            .exists(),
        },
        status=400 if form.errors else 200,
    )
