"""Merge and split pages: plain forms for a committee's dispatchers (no JavaScript)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from defensa.committees.access import committees_for
from defensa.committees.models import Committee
from defensa.core import geocoder
from defensa.core.geo import cell_label, cell_text
from defensa.incidents import actions
from defensa.incidents.access import get_incident_for
from defensa.incidents.forms import LookupForm, MergeForm, PlaceForm, SplitForm
from defensa.incidents.models import OPEN_STATES, Incident


def merge(request: HttpRequest, ref: str) -> HttpResponse:
    """Fold another open incident of the same committee into this one."""
    incident = get_incident_for(request.user, ref)
    candidates = incident.committee.incidents.filter(  # type: ignore[union-attr]
        state__in=OPEN_STATES, merged_into__isnull=True
    ).exclude(pk=incident.pk)
    form = MergeForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and incident.is_open and form.is_valid():
        other = form.cleaned_data["other"]
        try:
            actions.merge_incidents(
                incident, other, actor=request.user, note=form.cleaned_data["note"]
            )
        except actions.CannotMerge:
            messages.error(request, _("These incidents can no longer be merged."))
        else:
            messages.success(
                request,
                _("%(other)s was merged into %(ref)s.")
                % {"other": other.reference, "ref": incident.reference},
            )
        return redirect("incidents:merge", ref=incident.reference)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "incidents/merge.html", {"incident": incident, "form": form}, status=status
    )


def split(request: HttpRequest, ref: str) -> HttpResponse:
    """Move chosen reports of this incident into a new one."""
    incident = get_incident_for(request.user, ref)
    form = SplitForm(request.POST or None, incident=incident)
    if request.method == "POST" and incident.is_open and form.is_valid():
        try:
            new = actions.split_incident(
                incident, form.report_ids(), actor=request.user, note=form.cleaned_data["note"]
            )
        except actions.CannotSplit:
            messages.error(
                request, _("Choose some of the reports, not all of them, of an open incident.")
            )
        else:
            messages.success(
                request,
                _("The chosen reports are now incident %(new)s.") % {"new": new.reference},
            )
        return redirect("incidents:split", ref=incident.reference)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "incidents/split.html", {"incident": incident, "form": form}, status=status
    )


def place(request: HttpRequest, ref: str) -> HttpResponse:
    """Give a place to an incident no report could place; grouping runs again. With the
    operator's own geocoder configured, an address can be looked up first (`lookup`)."""
    incident = get_incident_for(request.user, ref)
    if request.method == "POST" and "lookup" in request.POST:
        return _lookup(request, incident)
    form = PlaceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        lat, lon, precision = form.cleaned_data["point"]
        before = incident.committee
        try:
            now_in = actions.place_incident(
                incident,
                lat=lat,
                lon=lon,
                precision_m=precision,
                zip_code=form.cleaned_data["zip_code"],
                actor=request.user,
                note=form.cleaned_data["note"],
            )
        except actions.CannotPlace:
            messages.error(request, _("This incident is closed or already has a place."))
            return redirect("incidents:place", ref=incident.reference)
        if now_in.pk != incident.pk:
            messages.success(
                request,
                _("Placed: it was the same as %(ref)s, and joined it.") % {"ref": now_in.reference},
            )
        elif now_in.committee_id != getattr(before, "pk", None) and now_in.committee:
            messages.success(
                request,
                _("Placed: it is now in the queue of %(committee)s.")
                % {"committee": now_in.committee.name},
            )
        else:
            messages.success(request, _("Placed. Verifiers near it can now be asked."))
        console = _console_of(request, before)
        return (
            redirect("dispatch:console", slug=console.slug) if console else redirect("pages:home")
        )
    status = 400 if request.method == "POST" else 200
    return _place_page(request, incident, form, status=status)


def _console_of(request: HttpRequest, committee: Committee | None) -> Committee | None:
    """The console to go back to: the nearest of the committee and those above it that the
    person dispatches for (a city's dispatcher placed a local's incident from the city's)."""
    if committee is None:
        return None
    mine = set(committees_for(request.user, "dispatcher").values_list("pk", flat=True))
    return next((c for c in [committee, *committee.ancestors()] if c.pk in mine), None)


def _place_page(
    request: HttpRequest,
    incident: Incident,
    form: PlaceForm,
    *,
    lookup: LookupForm | None = None,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    reports = list(incident.reports.order_by("created_at"))  # type: ignore[attr-defined]
    said = next((r.location_text for r in reports if r.location_text), "")
    if lookup is None and geocoder.configured():
        lookup = LookupForm(initial={"text": said[:200]})
    context = {"incident": incident, "form": form, "reports": reports, "lookup": lookup, **extra}
    return render(request, "incidents/place.html", context, status=status)


FAILURES = {
    "timeout": gettext_lazy(
        "The geocoder did not answer in time. Try again, or give the ZIP code."
    ),
    "unreachable": gettext_lazy(
        "The geocoder could not be reached. Give the ZIP code or the cell."
    ),
    "unreadable": gettext_lazy(
        "The geocoder's answer could not be read. Give the ZIP code or the cell."
    ),
    "refused": gettext_lazy("No geocoder is set up on this server: give the ZIP code or the cell."),
}


def _lookup(request: HttpRequest, incident: Incident) -> HttpResponse:
    """Ask the operator's geocoder where an address is: suggestions to place the incident
    with (each a neighbourhood cell), or why there are none. Nothing is written."""
    form = PlaceForm()
    if not geocoder.configured():
        # Nothing leaves the server: the manual path is the only one.
        return _place_page(request, incident, form, failure=FAILURES["refused"], status=400)
    lookup = LookupForm(request.POST)
    if not (incident.is_open and incident.needs_place) or not lookup.is_valid():
        return _place_page(request, incident, form, lookup=lookup, status=400)
    try:
        found = geocoder.suggest(lookup.cleaned_data["text"])
    except geocoder.GeocoderFailed as failure:
        return _place_page(request, incident, form, lookup=lookup, failure=FAILURES[failure.code])
    suggestions = [
        {"label": s.label, "cell": s.cell, "area": cell_text(*cell_label(s.cell))} for s in found
    ]
    return _place_page(request, incident, form, lookup=lookup, suggestions=suggestions, looked=True)
