"""The legal team's case pages, members' emergency plans, dispatchers' plan triggers.

Thin views: parse, check access (defensa/cases/access.py, 404 for anyone else), call one
action, render. Identifiers are shown only in the response to an explicit, audited reveal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Min, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from defensa.accounts.models import SkillKind, User
from defensa.cases import access, actions, plans
from defensa.cases.forms import (
    AttorneyForm,
    BondForm,
    ContactForm,
    FacilityForm,
    HearingForm,
    MemberSearchForm,
    NoteForm,
    OpenCaseForm,
    PersonForm,
    PlanForm,
    SelfTriggerForm,
    StatusForm,
    TaskForm,
    TransferForm,
    TriggerForm,
)
from defensa.cases.models import (
    ENDINGS,
    OPEN_STATUSES,
    Case,
    PlanTrigger,
    Status,
    TriggerVia,
)
from defensa.committees.access import committees_for, get_committee_for
from defensa.committees.models import MemberStatus
from defensa.core.access import signed_in
from defensa.core.transitions import IllegalTransition


def _people(case: Case) -> Any:
    """Who can own a task or be the attorney: the committee's legal team and attorneys."""
    return (
        User.objects.filter(is_active=True, memberships__committee=case.committee)
        .filter(
            Q(memberships__is_legal=True, memberships__status=MemberStatus.FULL)
            | Q(skills__kind=SkillKind.ATTORNEY)
        )
        .distinct()
        .order_by("display_name")
    )


# Case list and new case ---------------------------------------------------------------


@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    committees = committees_for(request.user, "legal")
    if not committees.exists():
        raise Http404
    now = timezone.now()
    cases = list(
        access.cases_for(request.user)
        .select_related("committee", "facility")
        .annotate(
            overdue=Count(
                "tasks",
                filter=Q(tasks__done_at__isnull=True)
                & (Q(tasks__due_at__lt=now) | Q(tasks__escalated_at__isnull=False)),
            ),
            open_tasks=Count("tasks", filter=Q(tasks__done_at__isnull=True)),
            next_due=Min("tasks__due_at", filter=Q(tasks__done_at__isnull=True)),
        )
        .order_by("-updated_at")[:300]
    )
    # Overdue first, then by status along the pipeline, then the most recently changed.
    order = {s: i for i, s in enumerate(Status.values)}
    cases.sort(key=lambda c: (c.overdue == 0, order[c.status]))
    groups: list[tuple[str, list[Case]]] = []
    overdue = [c for c in cases if c.overdue and c.status in OPEN_STATUSES]
    if overdue:
        groups.append((_("Overdue tasks"), overdue))
    for status, label in Status.choices:
        rows = [c for c in cases if c.status == status and c not in overdue]
        if rows:
            groups.append((str(label), rows))
    return render(
        request,
        "cases/list.html",
        {"groups": groups, "now": now, "total": len(cases), "endings": ENDINGS},
    )


@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    committees = committees_for(request.user, "legal")
    if not committees.exists():
        raise Http404
    form = OpenCaseForm(request.POST if request.method == "POST" else None, committees=committees)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        case = actions.open_case(
            committee=data["committee"],
            source=data["source"],
            incident=form.incident,
            report=form.report,
            facility=data["facility"],
            person_name=data["person_name"],
            a_number=data["a_number"],
            birth_date=data["birth_date"],
            birth_country=data["birth_country"],
            note=data["note"],
            actor=request.user,
        )
        messages.success(
            request, _("Case opened. The attorney consultation is due within 48 hours.")
        )
        return redirect("cases:case", pk=case.pk)
    return render(request, "cases/new.html", {"form": form}, status=400 if form.errors else 200)


# Case page ----------------------------------------------------------------------------


def _case_context(request: HttpRequest, case: Case, **bound: Any) -> dict[str, Any]:
    people = _people(case)
    now = timezone.now()
    timeline = list(case.timeline.select_related("actor"))  # type: ignore[attr-defined]
    # Opening the sealed notes is a reveal like any other: audited, counted (None: quota).
    notes = actions.reveal_notes(case, timeline, actor=request.user)
    for entry in timeline:
        entry.text = (notes or {}).get(entry.pk, "")
    tasks = list(case.tasks.select_related("owner"))  # type: ignore[attr-defined]
    tasks.sort(key=lambda t: (t.done_at is not None, not t.is_overdue(now), t.due_at))
    return {
        "case": case,
        "now": now,
        "tasks": tasks,
        "hearings": list(case.hearings.all()),  # type: ignore[attr-defined]
        "transfers": list(case.transfers.select_related("facility")),  # type: ignore[attr-defined]
        "contact_count": case.contacts.count(),  # type: ignore[attr-defined]
        "timeline": timeline,
        "notes_withheld": notes is None,
        "triggers": list(case.plan_triggers.all()),  # type: ignore[attr-defined]
        "status_form": bound.get("status") or StatusForm(case=case),
        "transfer_form": bound.get("transfer") or TransferForm(),
        "facility_form": bound.get("facility") or FacilityForm(),
        "attorney_form": bound.get("attorney")
        or AttorneyForm(
            people=people,
            initial={"attorney": case.attorney_id, "outside": case.attorney_outside},
        ),
        "hearing_form": bound.get("hearing") or HearingForm(),
        "bond_form": bound.get("bond")
        or BondForm(
            initial={"amount": case.bond_amount, "status": case.bond_status, "fund": case.bond_fund}
        ),
        "contact_form": bound.get("contact") or ContactForm(),
        "task_form": bound.get("task") or TaskForm(people=people),
        "note_form": bound.get("note") or NoteForm(),
        "person_form": bound.get("person"),
        "revealed": bound.get("revealed"),
    }


@never_cache
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.get_case_for(request.user, pk)
    return render(request, "cases/case.html", _case_context(request, case))


@never_cache
@require_POST
def case_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the identifiers and family contacts in this one response (audited)."""
    case = access.get_case_for(request.user, pk)
    try:
        revealed = actions.reveal_identifiers(case, actor=request.user)
    except actions.RevealQuota:
        messages.error(
            request, _("You have shown identifiers too many times this hour. Try later.")
        )
        return redirect("cases:case", pk=case.pk)
    person_form = PersonForm(initial=revealed["person"])
    return render(
        request,
        "cases/case.html",
        _case_context(request, case, revealed=revealed, person=person_form),
    )


def _form_for(part: str, request: HttpRequest, case: Case) -> forms.Form:
    data = request.POST
    people = _people(case)
    return {
        "status": lambda: StatusForm(data, case=case),
        "person": lambda: PersonForm(data),
        "transfer": lambda: TransferForm(data),
        "facility": lambda: FacilityForm(data),
        "attorney": lambda: AttorneyForm(data, people=people),
        "hearing": lambda: HearingForm(data),
        "bond": lambda: BondForm(data),
        "contact": lambda: ContactForm(data),
        "task": lambda: TaskForm(data, people=people),
        "note": lambda: NoteForm(data),
    }[part]()


def _apply(part: str, request: HttpRequest, case: Case, d: dict[str, Any]) -> str:
    user = request.user
    if part == "status":
        actions.change_status(case, d["status"], actor=user, note=d["note"])
        return _("Status changed.")
    if part == "person":
        actions.update_person(case, actor=user, **{k: d[k] for k in actions.PERSON_FIELDS})
        return _("Identifiers saved.")
    if part == "transfer":
        actions.record_transfer(case, d["facility"], since=d["since"], actor=user)
        return _("Facility recorded.")
    if part == "facility":
        actions.add_facility(d["name"], d["city"], actor=user)
        return _("Facility added to the list.")
    if part == "attorney":
        actions.assign_attorney(case, attorney=d["attorney"], outside=d["outside"], actor=user)
        return _("Attorney saved.")
    if part == "hearing":
        actions.add_hearing(case, kind=d["kind"], at=d["at"], place=d["place"], actor=user)
        return _("Hearing added.")
    if part == "bond":
        actions.update_bond(
            case, amount=d["amount"], status=d["status"], fund=d["fund"], actor=user
        )
        return _("Bond saved.")
    if part == "contact":
        actions.add_family_contact(
            case,
            actor=user,
            **{k: d[k] for k in ("name", "relation", "address", "channel", "language")},
        )
        return _("Family contact added.")
    if part == "task":
        actions.add_task(case, title=d["title"], owner=d["owner"], due_at=d["due_at"], actor=user)
        return _("Task added.")
    actions.add_case_note(case, d["note"], actor=user)
    return _("Note added.")


PARTS = ("status", "person", "transfer", "facility", "attorney", "hearing", "bond", "contact",
         "task", "note")  # fmt: skip


@never_cache
@require_POST
def case_update(request: HttpRequest, pk: int, part: str) -> HttpResponse:
    case = access.get_case_for(request.user, pk)
    if part not in PARTS:
        raise Http404
    form = _form_for(part, request, case)
    if not form.is_valid():
        context = _case_context(request, case, **{part: form})
        context["error_part"] = part
        return render(request, "cases/case.html", context, status=400)
    try:
        done = _apply(part, request, case, form.cleaned_data)
    except ValueError:  # IllegalTransition: someone else moved the case meanwhile
        messages.error(request, _("That step is not possible from the case's status now."))
    else:
        messages.success(request, done)
    return redirect(reverse("cases:case", kwargs={"pk": case.pk}) + f"#{part}")


@require_POST
def task_done(request: HttpRequest, pk: int, task: int) -> HttpResponse:
    case = access.get_case_for(request.user, pk)
    found = access.get_task_for(request.user, case, task)
    actions.complete_task(found, actor=request.user)
    messages.success(request, _("Task done."))
    return redirect("cases:case", pk=case.pk)


# Emergency plans: the member ---------------------------------------------------------


def _plan_committees(user: Any) -> Any:
    return committees_for(user, "member")


@signed_in
@never_cache
@require_http_methods(["GET", "POST"])
def my_plan(request: HttpRequest) -> HttpResponse:
    """The member's own plan: write it, change it, see what happens when it is triggered."""
    committees = _plan_committees(request.user)
    plan = access.own_plans_for(request.user).first()
    if request.method == "POST":
        form = PlanForm(request.POST, committees=committees)
        if form.is_valid():
            d = form.cleaned_data
            plans.save_plan(
                request.user,  # type: ignore[arg-type]
                committee=d["committee"],
                contacts=d["contacts"],
                instructions=d["instructions"],
                identity={k: (str(d[k]) if d[k] else "") for k in actions.PERSON_FIELDS},
                actor=request.user,
            )
            messages.success(request, _("Your emergency plan is saved, encrypted."))
            return redirect("plans:mine")
    elif plan is not None:
        form = PlanForm(
            initial=PlanForm.initial_from(
                plans.plan_contacts(plan),
                plans.plan_identity(plan),
                plans.plan_instructions(plan),
                plan.committee,
            ),
            committees=committees,
        )
    else:
        form = PlanForm(
            committees=committees, initial={"committee": plans.committee_for_plan(request.user)}
        )  # type: ignore[arg-type]
    latest = plan.triggers.first() if plan is not None else None  # type: ignore[attr-defined]
    return render(
        request,
        "cases/plan.html",
        {
            "form": form,
            "plan": plan,
            "has_committee": committees.exists(),
            "latest": latest,
            "trigger_form": SelfTriggerForm(),
        },
        status=400 if form.errors else 200,
    )


@signed_in
@require_POST
def trigger_my_plan(request: HttpRequest) -> HttpResponse:
    plan = access.get_own_plan_for(request.user)
    form = SelfTriggerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tick the box to confirm."))
        return redirect("plans:mine")
    try:
        plans.trigger_plan(plan, via=TriggerVia.SELF, actor=request.user)
    except plans.TooManyTriggers:
        messages.error(
            request,
            ngettext(
                "Your plan was set off %(count)d time in the last hour, so it cannot be set "
                "off from here now. If you need help, call the hotline: a dispatcher can set "
                "it off for you.",
                "Your plan was set off %(count)d times in the last hour, so it cannot be set "
                "off from here now. If you need help, call the hotline: a dispatcher can set "
                "it off for you.",
                settings.PLAN_SELF_TRIGGERS_PER_HOUR,
            )
            % {"count": settings.PLAN_SELF_TRIGGERS_PER_HOUR},
        )
        return redirect("plans:mine")
    messages.success(request, _("Your contacts and the legal team are being told now."))
    return redirect("plans:mine")


@signed_in
@require_POST
def delete_my_plan(request: HttpRequest) -> HttpResponse:
    plan = access.get_own_plan_for(request.user)
    plans.delete_plan(plan, actor=request.user)
    messages.success(request, _("Your emergency plan is erased."))
    return redirect("plans:mine")


@require_POST
def cancel_trigger(request: HttpRequest, pk: int) -> HttpResponse:
    trigger = access.get_trigger_for(request.user, pk)
    try:
        plans.cancel_trigger(trigger, actor=request.user)
    except IllegalTransition:  # the false-alarm window has passed, or it was cancelled
        messages.error(request, _("Too late to cancel here: ask the legal team to close the case."))
    else:
        messages.success(request, _("Cancelled. The contacts are told it was a false alarm."))
    if trigger.plan.owner_id == request.user.pk:
        return redirect("plans:mine")
    back = request.POST.get("back", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("accounts:home")


# Emergency plans: the dispatcher ----------------------------------------------------------


@never_cache
@require_GET
def plan_search(request: HttpRequest, slug: str) -> HttpResponse:
    """A dispatcher finds a member (by name) who has a plan, to trigger it during a call."""
    committee = get_committee_for(request.user, slug, role="dispatcher")
    form = MemberSearchForm(request.GET)
    plans = access.triggerable_plans_for(request.user, committee).select_related("owner")
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    if query:
        plans = plans.filter(owner__display_name__icontains=query)
    recent = PlanTrigger.objects.filter(
        plan__in=access.triggerable_plans_for(request.user, committee),
        created_at__gte=timezone.now() - dt.timedelta(days=1),
    ).select_related("plan__owner")
    return render(
        request,
        "cases/plan_search.html",
        {
            "committee": committee,
            "form": form,
            "query": query,
            "plans": plans.order_by("owner__display_name")[:50] if query else [],
            "recent": recent,
            "now": timezone.now(),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def plan_trigger(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    committee = get_committee_for(request.user, slug, role="dispatcher")
    plan = access.get_triggerable_plan_for(request.user, committee, pk)
    form = TriggerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        plans.trigger_plan(plan, via=form.cleaned_data["via"], actor=request.user)
        messages.success(
            request,
            _(
                "Plan triggered: the contacts and the legal team are being told. "
                "You can cancel it for a few minutes."
            ),
        )
        return redirect("plans:search", slug=committee.slug)
    return render(
        request,
        "cases/plan_trigger.html",
        {"committee": committee, "plan": plan, "form": form},
        status=400 if form.errors else 200,
    )
