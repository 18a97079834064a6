"""The legal team's legal-hold page: place a hold on an incident or a case, ask for its
release, approve another member's request. Role-checked: legal team only (404 for anyone
else, cases/access.py); thin views around cases/holds.py."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from defensa.cases import access, holds
from defensa.committees.access import committees_for


@never_cache
@require_http_methods(["GET", "POST"])
def hold_list(request: HttpRequest) -> HttpResponse:
    if not committees_for(request.user, "legal").exists():
        raise Http404
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        reference = request.POST.get("reference", "")[:20]
        target = (
            access.holdable_incident(request.user, reference)
            if kind == "incident"
            else access.holdable_case(request.user, reference)
            if kind == "case"
            else None
        )
        if target is None:
            messages.error(request, _("No incident or case of your legal team has that reference."))
        else:
            try:
                holds.place_hold(
                    target.committee,
                    incident=target if kind == "incident" else None,
                    case=target if kind == "case" else None,
                    reason=request.POST.get("reason", ""),
                    actor=request.user,
                )
                messages.success(request, _("Placed on legal hold: nothing of it will be purged."))
            except holds.HoldRefused:
                messages.error(request, _("Say why, and check it is not on hold already."))
        return redirect("cases:holds")
    rows = (
        access.holds_for(request.user)
        .select_related(
            "committee", "incident", "case", "placed_by", "release_requested_by", "released_by"
        )
        .order_by("released_at", "-placed_at")[:200]
    )
    return render(request, "cases/holds.html", {"holds": rows})


@require_POST
def hold_release(request: HttpRequest, pk: int) -> HttpResponse:
    hold = access.get_hold_for(request.user, pk)
    try:
        holds.request_release(hold, actor=request.user)
        messages.success(request, _("Release asked. Another member of the legal team approves it."))
    except holds.HoldRefused:
        messages.error(request, _("This hold is already released or its release was asked."))
    return redirect("cases:holds")


@require_POST
def hold_approve(request: HttpRequest, pk: int) -> HttpResponse:
    hold = access.get_hold_for(request.user, pk)
    try:
        holds.approve_release(hold, actor=request.user)
        messages.success(request, _("The hold is released."))
    except holds.HoldRefused:
        messages.error(request, _("A different member of the legal team must approve the release."))
    return redirect("cases:holds")
