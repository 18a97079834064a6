"""A member's own settings: language and channels, skills, home area, availability."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from defensa.accounts.models import Skill, User
from defensa.committees import access, actions
from defensa.committees.areas import area_choices, area_label
from defensa.committees.forms import (
    AreaForm,
    OnDutyForm,
    OwnSkillsForm,
    ProfileForm,
    ShiftForm,
    SwapForm,
)
from defensa.committees.models import Shift, ShiftSwap, SwapStatus
from defensa.committees.roster import on_duty_until
from defensa.committees.views import posted, remember_language
from defensa.core.access import signed_in
from defensa.notify.access import failed_deliveries_for
from defensa.notify.actions import signal_is_on

FAILURES_SHOWN = 50


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@signed_in
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context = {
        "person": user,
        "memberships": access.memberships_for(user),
        "skills": Skill.objects.filter(user=user).order_by("kind"),
        "area_label": area_label(user),
        "failures": list(failed_deliveries_for(user, user)[:FAILURES_SHOWN]),
        "own": True,
    }
    return render(request, "committees/me/index.html", context)


@signed_in
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    initial = {
        "display_name": user.display_name,
        "language": user.language,
        "notify_email": user.notify_email,
        "notify_sms": user.notify_sms,
        "notify_signal": user.notify_signal,
        "phone": user.phone,
    }
    form = ProfileForm(posted(request), initial=initial, signal=signal_is_on())
    if request.method == "POST":
        if form.is_valid():
            actions.update_profile(user, actor=user, **form.cleaned_data)
            translation.activate(user.language)
            messages.success(request, _("Saved."))
            return remember_language(redirect("me:profile"), user.language)
        return render(request, "committees/me/profile.html", {"form": form}, status=400)
    return render(request, "committees/me/profile.html", {"form": form})


@signed_in
def skills(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    initial: dict[str, object] = {}
    held = list(Skill.objects.filter(user=user))
    for skill in held:
        initial[f"{skill.kind}_has"] = True
        initial[f"{skill.kind}_trained_on"] = skill.trained_on
        initial[f"{skill.kind}_expires_on"] = skill.expires_on
    requested = actions.pending_skill_requests(user)
    form = OwnSkillsForm(
        posted(request),
        initial=initial,
        held=[s.kind for s in held],
        requested=list(requested),
    )
    if request.method == "POST":
        if form.is_valid():
            actions.update_own_skills(user, actor=user, entries=form.entries())
            if set(actions.pending_skill_requests(user)) - set(requested):
                messages.success(
                    request,
                    _(
                        "Saved. A coordinator of your committee gives the skills you asked "
                        "for: you will see them here once they do."
                    ),
                )
            else:
                messages.success(request, _("Saved."))
            return redirect("me:skills")
        return render(request, "committees/me/skills.html", {"form": form}, status=400)
    return render(request, "committees/me/skills.html", {"form": form})


@signed_in
def area(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    cells = area_choices(user)
    if user.home_zip:
        initial = {"mode": AreaForm.MODE_ZIP, "zip_code": user.home_zip}
    elif user.home_cell:
        initial = {"mode": AreaForm.MODE_CELL, "cell": user.home_cell}
    else:
        initial = {"mode": AreaForm.MODE_NONE}
    form = AreaForm(posted(request), initial=initial, cells=cells)
    if request.method == "POST":
        if form.is_valid():
            zip_code, cell = form.area()
            actions.set_home_area(user, actor=user, zip_code=zip_code, cell=cell)
            messages.success(request, _("Saved."))
            return redirect("me:area")
        return render(request, "committees/me/area.html", {"form": form}, status=400)
    return render(request, "committees/me/area.html", {"form": form})


def _shift_committees(user: User) -> list[tuple[str, str]]:
    return [(m.committee.slug, m.committee.name) for m in access.memberships_for(user)]


def _availability(
    request: HttpRequest, shift_form: ShiftForm | None = None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    memberships = list(access.memberships_for(user).prefetch_related("shifts"))
    asked = set(
        ShiftSwap.objects.filter(
            shift__membership__user=user, status=SwapStatus.PENDING
        ).values_list("shift_id", flat=True)
    )

    def swap_form(shift: Shift) -> SwapForm | None:
        takers = [(m.pk, m.user.display_name) for m in access.swap_takers_for(user, shift)]
        return SwapForm(takers=takers, prefix=f"swap{shift.pk}") if takers else None

    context = {
        "person": user,
        "on_duty_until": on_duty_until(user),
        # Each membership with its shifts: (shift, swap already asked, the swap form).
        "memberships": [
            (m, [(s, s.pk in asked, swap_form(s)) for s in m.shifts.all()])  # type: ignore[attr-defined]
            for m in memberships
        ],
        "shift_form": shift_form or ShiftForm(committees=_shift_committees(user)),
    }
    return render(request, "committees/me/availability.html", context, status=status)


@signed_in
def availability(request: HttpRequest) -> HttpResponse:
    return _availability(request)


@signed_in
@require_POST
def on_duty(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = OnDutyForm(request.POST)
    if form.is_valid():
        renewing = user.on_duty and form.cleaned_data["on"]
        actions.set_on_duty(user, actor=user, on=form.cleaned_data["on"])
        if renewing:
            messages.success(request, _("Renewed: you stay on duty."))
        elif user.on_duty:
            messages.success(request, _("You are on duty. Thank you."))
        else:
            messages.success(request, _("You are off duty."))
    return redirect("me:availability")


@signed_in
@require_POST
def add_shift(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ShiftForm(request.POST, committees=_shift_committees(user))
    if not form.is_valid():
        return _availability(request, form, status=400)
    data = form.cleaned_data
    membership = access.get_own_membership_for(user, data["committee"])
    try:
        actions.add_shift(
            membership, actor=user, weekday=data["weekday"], start=data["start"], end=data["end"]
        )
    except actions.ActionError:
        form.add_error(None, _("You have as many shifts as we can keep. Remove one first."))
        return _availability(request, form, status=400)
    messages.success(request, _("Shift added."))
    return redirect("me:availability")


@signed_in
@require_POST
def remove_shift(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    shift = access.get_shift_for(user, pk)
    actions.remove_shift(shift, actor=user)
    messages.success(request, _("Shift removed."))
    return redirect("me:availability")


@signed_in
@require_POST
def ask_swap(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask a coordinator to hand one of my shifts to another member."""
    user = _user(request)
    shift = access.get_shift_for(user, pk)
    takers = {m.pk: m for m in access.swap_takers_for(user, shift)}
    form = SwapForm(
        request.POST,
        takers=[(pk, m.user.display_name) for pk, m in takers.items()],
        prefix=f"swap{shift.pk}",
    )
    if not form.is_valid():
        messages.error(request, _("Choose who takes the shift."))
        return redirect("me:availability")
    actions.ask_shift_swap(shift, actor=user, taker=takers[form.cleaned_data["taker"]])
    messages.success(
        request, _("Asked. A coordinator approves the swap; until then the shift stays yours.")
    )
    return redirect("me:availability")
