"""The shift roster, for coordinators: the week's coverage by hour and skill, who is on now,
putting people on shifts, and deciding the swaps members ask for."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from defensa.committees import access, actions
from defensa.committees import roster as rota
from defensa.committees.forms import AssignShiftForm
from defensa.committees.models import Committee, SwapStatus


def _member_choices(committee: Committee) -> list[tuple[int, str]]:
    return [(m.pk, m.user.display_name) for m in rota.roster_memberships(committee)]


def _roster_page(
    request: HttpRequest,
    committee: Committee,
    form: AssignShiftForm | None = None,
    status: int = 200,
) -> HttpResponse:
    skill = request.GET.get("skill", "dispatcher")
    if skill not in ("", *rota.ROSTER_SKILL_KEYS):
        skill = "dispatcher"
    week = rota.coverage(committee)
    labels = dict(rota.ROSTER_SKILLS)
    context: dict[str, Any] = {
        "committee": committee,
        "week": week,
        "skill": skill,
        "skill_label": labels.get(skill, _("Anyone")),
        "skills": rota.ROSTER_SKILLS,
        "cells": [
            (f"{hour:02d}:00", [(cell, cell.count(skill)) for cell in row])
            for hour, row in enumerate(week.rows)
        ],
        "gaps": week.gaps(skill),
        "form": form or AssignShiftForm(members=_member_choices(committee)),
        "shifts": access.committee_shifts_for(request.user, committee).order_by(
            "weekday", "start", "membership__user__display_name"
        ),
        "swaps": access.shift_swaps_for(request.user, committee)
        .filter(status=SwapStatus.PENDING)
        .order_by("created_at"),
        "time_zone": committee.time_zone,
    }
    return render(request, "committees/roster.html", context, status=status)


@require_GET
def roster(request: HttpRequest, slug: str) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    return _roster_page(request, committee)


@require_POST
def assign(request: HttpRequest, slug: str) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    form = AssignShiftForm(request.POST, members=_member_choices(committee))
    if not form.is_valid():
        return _roster_page(request, committee, form, status=400)
    data = form.cleaned_data
    membership = access.get_membership_for(request.user, committee, data["member"])
    try:
        actions.add_shift(
            membership,
            actor=request.user,  # type: ignore[arg-type]
            weekday=data["weekday"],
            start=data["start"],
            end=data["end"],
        )
    except actions.ActionError:
        form.add_error(None, _("This person has as many shifts as we can keep."))
        return _roster_page(request, committee, form, status=400)
    messages.success(
        request, _("Shift added for %(name)s.") % {"name": membership.user.display_name}
    )
    return redirect("committees:roster", slug=slug)


@require_POST
def unassign(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    shift = access.get_committee_shift_for(request.user, committee, pk)
    actions.remove_shift(shift, actor=request.user)  # type: ignore[arg-type]
    messages.success(request, _("Shift removed."))
    return redirect("committees:roster", slug=slug)


@require_POST
def decide_swap(request: HttpRequest, slug: str, pk: int, verb: str) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    swap = access.get_shift_swap_for(request.user, committee, pk)
    if verb not in ("approve", "refuse"):
        raise Http404
    try:
        actions.decide_shift_swap(swap, actor=request.user, approve=verb == "approve")  # type: ignore[arg-type]
    except actions.ActionError:
        messages.error(
            request,
            _("This swap can no longer be approved: the shift changed hands or the person left."),
        )
    else:
        if verb == "approve":
            messages.success(
                request,
                _("Swap approved: the shift is now %(name)s's.")
                % {"name": swap.taker.user.display_name},
            )
        else:
            messages.success(request, _("Swap refused: the shift stays as it was."))
    return redirect("committees:roster", slug=slug)


@require_GET
def on_now(request: HttpRequest, slug: str) -> HttpResponse:
    committee = access.get_committee_for(request.user, slug, "coordinator")
    now = timezone.now()
    people, counts = rota.on_now(committee, now)
    labels = dict(rota.ROSTER_SKILLS)
    context = {
        "committee": committee,
        "people": [
            (p, [str(labels[k]) for k in rota.ROSTER_SKILL_KEYS if k in p.skills]) for p in people
        ],
        "counts": [(key, labels[key], counts[key]) for key in rota.ROSTER_SKILL_KEYS],
        "local_now": now.astimezone(committee.tz),
        "time_zone": committee.time_zone,
        "hours": settings.ON_DUTY_HOURS,
    }
    return render(request, "committees/on_now.html", context)
