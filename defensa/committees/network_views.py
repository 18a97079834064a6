"""Setting up the network in the browser: committees, their place in the tree, their areas.

For network administrators (every committee) and coordinators (their committees and those
below). Views parse, check access through committees.access, call one action and render.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from defensa.committees import access, actions
from defensa.committees.areas import area_overview
from defensa.committees.forms import (
    CommitteeAreaForm,
    CommitteeNameForm,
    FoundingInvitationForm,
    MoveCommitteeForm,
    NewCommitteeForm,
    PlaceNamesForm,
)
from defensa.committees.models import Committee, Invitation, PlaceName
from defensa.core import geo, maps


def _tree(committees: list[Committee]) -> list[tuple[Committee, int]]:
    """The committees in tree order, each with its depth below the topmost shown."""
    ids = {c.pk for c in committees}
    children: dict[int | None, list[Committee]] = {}
    for c in committees:
        children.setdefault(c.parent_id if c.parent_id in ids else None, []).append(c)
    out: list[tuple[Committee, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for c in sorted(children.get(parent, []), key=lambda c: (c.is_archived, c.name)):
            out.append((c, depth))
            walk(c.pk, depth + 1)

    walk(None, 0)
    return out


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The committees one may set up, as a tree, and where their areas overlap or leave gaps."""
    managed = list(access.managed_committees_for(request.user))
    if not managed:
        raise Http404
    return render(
        request,
        "committees/network/index.html",
        {"tree": _tree(managed), "overview": area_overview(managed)},
    )


def _parents_for(request: HttpRequest, committee: Committee) -> list[Committee]:
    below = set(access.committee_and_below(committee))
    return [
        c
        for c in access.managed_committees_for(request.user).filter(archived_at__isnull=True)
        if c.pk not in below and actions.TIER[c.kind] > actions.TIER[committee.kind]
    ]


def _setup_page(
    request: HttpRequest, committee: Committee, *, status: int = 200, **forms: Any
) -> HttpResponse:
    kinds = actions.kinds_below(committee)
    context = {
        "committee": committee,
        "children": committee.children.order_by("name"),
        "name_form": forms.get("name_form") or CommitteeNameForm(initial={"name": committee.name}),
        "new_form": forms.get("new_form")
        or (NewCommitteeForm(kinds=kinds, prefix="new") if kinds else None),
        "move_form": forms.get("move_form")
        or MoveCommitteeForm(
            parents=_parents_for(request, committee), initial={"parent": committee.parent_id}
        ),
        "archive_error": forms.get("archive_error", ""),
        "zip_cities": sorted({geo.zip_city(z) for z in committee.zip_codes or []} - {""}),
        "language_names": [
            str(name) for code, name in settings.LANGUAGES if code in (committee.languages or [])
        ],
    }
    return render(request, "committees/network/committee.html", context, status=status)


# The founding link just made, shown once (as on the invitations page).
SESSION_FOUNDING_LINK = "network_founding_link"


def founders(request: HttpRequest, slug: str) -> HttpResponse:
    """A new committee's first people: founding links, each making the person who uses it a
    full member at once, starting as a member, dispatcher, verifier or coordinator. Offered
    while the committee has fewer full members than the vouches it needs (docs/setup.md)."""
    found = access.get_managed_committee_for(request.user, slug)
    form = FoundingInvitationForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                token = actions.create_founding_invitation(
                    found,
                    actor=request.user,  # type: ignore[arg-type]
                    founding=form.cleaned_data["founding"],
                    note=form.cleaned_data["note"],
                )[1]
            except actions.FoundingClosed:
                messages.error(
                    request,
                    _("This committee is archived already.")
                    if found.is_archived
                    else _(
                        "This committee has members enough to vouch: its coordinators invite "
                        "people the usual way."
                    ),
                )
            else:
                request.session[SESSION_FOUNDING_LINK] = request.build_absolute_uri(
                    reverse("join:start", kwargs={"token": token})
                )
            return redirect("network:founders", slug=found.slug)
        status = 400
    new_link = request.session.pop(SESSION_FOUNDING_LINK, None) if request.method == "GET" else None
    context = {
        "committee": found,
        "form": form,
        "new_link": new_link,
        "open": actions.founding_open(found),
        "links": access.founding_invitations_for(request.user, found)
        .filter(Invitation.usable(timezone.now()))
        .select_related("created_by")
        .order_by("-created_at"),
        "days": settings.INVITATION_DAYS,
    }
    return render(request, "committees/network/founders.html", context, status=status)


@require_POST
def cancel_founding(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Cancel an unused founding link (sent to the wrong person, or no longer wanted)."""
    found = access.get_managed_committee_for(request.user, slug)
    invitation = access.get_founding_invitation_for(request.user, found, pk)
    if actions.revoke_invitation(invitation, actor=request.user):  # type: ignore[arg-type]
        messages.success(request, _("The link was cancelled. It no longer works."))
    else:
        messages.info(request, _("That link was already used or cancelled."))
    return redirect("network:founders", slug=found.slug)


@require_GET
def committee(request: HttpRequest, slug: str) -> HttpResponse:
    found = access.get_managed_committee_for(request.user, slug)
    return _setup_page(request, found)


@require_POST
def rename(request: HttpRequest, slug: str) -> HttpResponse:
    found = access.get_managed_committee_for(request.user, slug)
    form = CommitteeNameForm(request.POST)
    if not form.is_valid():
        return _setup_page(request, found, status=400, name_form=form)
    actions.rename_committee(found, actor=request.user, name=form.cleaned_data["name"])
    messages.success(request, _("The committee's new name is saved."))
    return redirect("network:committee", slug=found.slug)


@require_POST
def new_committee(request: HttpRequest, slug: str) -> HttpResponse:
    parent = access.get_managed_committee_for(request.user, slug)
    form = NewCommitteeForm(request.POST, kinds=actions.kinds_below(parent), prefix="new")
    if form.is_valid():
        try:
            created = actions.create_committee(
                parent,
                actor=request.user,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
            )
        except actions.SetupRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("Committee created. Now give it its area."))
            return redirect("network:area", slug=created.slug)
    return _setup_page(request, parent, status=400, new_form=form)


@require_POST
def move(request: HttpRequest, slug: str) -> HttpResponse:
    found = access.get_managed_committee_for(request.user, slug)
    form = MoveCommitteeForm(request.POST, parents=_parents_for(request, found))
    if form.is_valid():
        try:
            actions.move_committee(found, actor=request.user, parent=form.cleaned_data["parent"])
        except actions.SetupRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("The committee now sits below its new parent."))
            return redirect("network:committee", slug=found.slug)
    return _setup_page(request, found, status=400, move_form=form)


@require_POST
def archive(request: HttpRequest, slug: str) -> HttpResponse:
    found = access.get_managed_committee_for(request.user, slug)
    try:
        actions.archive_committee(found, actor=request.user)
    except actions.SetupRefused as refused:
        return _setup_page(request, found, status=400, archive_error=str(refused))
    messages.success(request, _("The committee is archived. No report goes to it any more."))
    return redirect("network:committee", slug=found.slug)


def _nearby(committee: Committee, zip_codes: list[str]) -> list[tuple[str, str]]:
    cells = geo.area_cells_near(zip_codes)
    cells += [c for c in committee.h3_cells or [] if geo.is_area_cell(c) and c not in cells]
    labels = geo.cell_labels(cells)
    return sorted(((c, f"{geo.cell_text(*labels[c])} · {c}") for c in cells), key=lambda c: c[1])


@maps.shows_map
def area(request: HttpRequest, slug: str) -> HttpResponse:
    """The committee's ZIP codes, neighbourhood cells, time zone and languages."""
    found = access.get_managed_committee_for(request.user, slug)
    zips = list(found.zip_codes or [])
    if request.method == "POST":
        typed = CommitteeAreaForm.typed_zip_codes(request.POST.get("zip_codes", ""))
        form = CommitteeAreaForm(request.POST, nearby=_nearby(found, zips + typed))
        if form.is_valid():
            try:
                actions.set_committee_area(found, actor=request.user, **form.area())
            except actions.SetupRefused as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, _("The committee's area is saved."))
                return redirect("network:committee", slug=found.slug)
    else:
        nearby = _nearby(found, zips)
        listed = {cell for cell, _label in nearby}
        cells = [c for c in found.h3_cells or [] if isinstance(c, str)]
        form = CommitteeAreaForm(
            nearby=nearby,
            initial={
                "zip_codes": "\n".join(zips),
                "nearby_cells": [c for c in cells if c in listed],
                "h3_cells": "\n".join(c for c in cells if c not in listed),
                "time_zone": found.time_zone,
                "languages": found.languages or [],
            },
        )
    outlines = [
        (cell, geo.cell_outline(cell)) for cell, _label in form.fields["nearby_cells"].choices
    ]
    return render(
        request,
        "committees/network/area.html",
        {"committee": found, "form": form, "outlines": outlines, **maps.map_context()},
        status=400 if form.errors else 200,
    )


def place_names(request: HttpRequest) -> HttpResponse:
    """The names people use for the network's neighbourhoods, one a ZIP code (admins)."""
    if not access.is_network_admin(request.user):
        raise Http404
    if request.method == "POST":
        form = PlaceNamesForm(request.POST)
        if form.is_valid():
            actions.set_place_names(actor=request.user, names=form.cleaned_data["names"])
            messages.success(request, _("The neighbourhood names are saved."))
            return redirect("network:place_names")
    elif request.method == "GET":
        text = "\n".join(f"{p.zip_code} {p.name}" for p in PlaceName.objects.all())
        form = PlaceNamesForm(initial={"names": text})
    else:
        return HttpResponse(status=405)
    return render(
        request,
        "committees/network/place_names.html",
        {"form": form},
        status=400 if form.errors else 200,
    )
