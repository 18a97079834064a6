"""Organising pages: workplaces and their chart, workers and assessments, structure tests with
predicted vs actual, a committee's readiness, the network's scale, a worker's own link, and a
member's own history. Each view parses, checks access, calls one action, renders."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from defensa.accounts.models import User
from defensa.audit.reveals import RevealQuota, record_reveal
from defensa.committees.access import committee_and_below
from defensa.core import crypto
from defensa.core.access import pk_from_url, public, signed_in
from defensa.organising import access, actions, figures
from defensa.organising.forms import (
    AssessmentForm,
    ContactForm,
    MemberWorkerForm,
    PolicyForm,
    StructureTestForm,
    WorkplaceForm,
)
from defensa.organising.models import NOT_ASSESSED, Assessment, Participation, Workplace
from defensa.reports.flood import FloodGate

WORKERS_PER_PAGE = 100
# Taps on a worker's own link from one source (in memory, day-keyed; nothing stored).
link_gate = FloodGate(limit=20, window_s=10 * 60)
QUOTA_MESSAGE = gettext_lazy(
    "You have revealed too many contacts in the last hour. Try again later."
)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _language() -> str:
    return (get_language() or "en")[:2]


@never_cache
def index(request: HttpRequest) -> HttpResponse:
    """An organiser's workplaces and structure tests (404 for anyone else)."""
    committees = list(access.organiser_committees(request.user))
    if not committees:
        raise Http404
    return render(
        request,
        "organising/index.html",
        {
            "committees": committees,
            "workplaces": list(access.workplaces_for(request.user).filter(ended_at__isnull=True)),
            "ended": list(access.workplaces_for(request.user).filter(ended_at__isnull=False)),
            "tests": list(access.structure_tests_for(request.user)[:20]),
        },
    )


@never_cache
def readiness(request: HttpRequest, slug: str) -> HttpResponse:
    """The committee's structure at a glance: counts, never names."""
    committee = access.get_readiness_committee(request.user, slug)
    return render(
        request,
        "organising/readiness.html",
        {"committee": committee, "r": figures.readiness(committee)},
    )


@never_cache
def scale(request: HttpRequest, slug: str) -> HttpResponse:
    """The network's scale labels (fixed once used) and how long contacts are kept."""
    network = access.get_network_for(request.user, slug)
    policy = actions.policy_for(network)
    locked = actions.scale_in_use(network)
    form = PolicyForm(request.POST or None, policy=policy, locked=locked)
    if request.method == "POST" and form.is_valid():
        try:
            actions.set_policy(
                network,
                labels_en=form.labels("en"),
                labels_es=form.labels("es"),
                contact_retention_days=form.cleaned_data["contact_retention_days"],
                actor=_user(request),
            )
        except actions.OrganisingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("organising:scale", slug=network.slug)
    return render(
        request, "organising/scale.html", {"network": network, "form": form, "locked": locked}
    )


@never_cache
def new_workplace(request: HttpRequest, slug: str) -> HttpResponse:
    committee = access.get_organiser_committee(request.user, slug)
    form = WorkplaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workplace = actions.add_workplace(
                committee, form.workplace_data(), actor=_user(request)
            )
        except actions.OrganisingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The workplace is recorded. Now add its workers."))
            return redirect("organising:workers", pk=workplace.pk)
    return render(request, "organising/new_workplace.html", {"committee": committee, "form": form})


@never_cache
def workplace(request: HttpRequest, pk: int) -> HttpResponse:
    """The chart of the unit, coverage, leaders and the trend: values and counts, no names."""
    found = access.get_workplace_for(request.user, pk)
    policy = actions.policy_for(found.committee)
    chart, trend = figures.workplace_figures(found)
    return render(
        request,
        "organising/workplace.html",
        {
            "workplace": found,
            "chart": chart,
            "trend": trend,
            "legend": figures.scale_labels(policy, _language()),
            "colours": figures.COLOURS,
        },
    )


def _reveal(request: HttpRequest, kind: str, obj: Any, **data: Any) -> bool:
    try:
        record_reveal(kind, actor=request.user, obj=obj, **data)
    except RevealQuota:
        messages.error(request, QUOTA_MESSAGE)
        return False
    return True


def _workers_page(request: HttpRequest, found: Workplace, **forms: Any) -> HttpResponse:
    workers = figures.with_current(access.workers_for(request.user, found)).order_by(
        "department", "shift", "pk"
    )
    page = Paginator(workers, WORKERS_PER_PAGE).get_page(request.GET.get("page"))
    if not _reveal(request, "organising.workers", found, page=page.number):
        return redirect("organising:workplace", pk=found.pk)
    policy = actions.policy_for(found.committee)
    language = _language()
    key = found.data_key
    rows = []
    for worker in page.object_list:
        worker.data_key = key  # the workplace's key, loaded once
        current = worker.current or NOT_ASSESSED  # type: ignore[attr-defined]
        rows.append(
            {
                "worker": worker,
                "name": actions.display_name(worker),
                "current": current,
                "label": policy.label(current, language),
                "colour": figures.colour(current),
            }
        )
    members = actions.member_choices(found)
    context = {
        "workplace": found,
        "rows": rows,
        "page": page,
        "contact_form": forms.get("contact_form") or ContactForm(workplace=found),
        "member_form": forms.get("member_form")
        or MemberWorkerForm(workplace=found, members=members),
        "has_members": bool(members),
        "assess_form": AssessmentForm(policy=policy, language=language),
    }
    return render(request, "organising/workers.html", context)


@never_cache
def workers(request: HttpRequest, pk: int) -> HttpResponse:
    """The workers by name (a reveal, audited), with forms to add and assess them."""
    found = access.get_workplace_for(request.user, pk)
    return _workers_page(request, found)


@require_POST
def add_contact(request: HttpRequest, pk: int) -> HttpResponse:
    found = access.get_workplace_for(request.user, pk)
    form = ContactForm(request.POST, workplace=found)
    if form.is_valid():
        try:
            actions.add_contact(found, form.contact_data(), actor=_user(request))
        except actions.OrganisingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The worker is added."))
            return redirect("organising:workers", pk=found.pk)
    return _workers_page(request, found, contact_form=form)


@require_POST
def add_member(request: HttpRequest, pk: int) -> HttpResponse:
    found = access.get_workplace_for(request.user, pk)
    form = MemberWorkerForm(request.POST, workplace=found, members=actions.member_choices(found))
    if form.is_valid():
        try:
            actions.add_member(
                found,
                form.cleaned_data["membership"],
                department=form.cleaned_data["department"],
                shift=form.cleaned_data["shift"],
                actor=_user(request),
            )
        except actions.OrganisingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The member is added."))
            return redirect("organising:workers", pk=found.pk)
    return _workers_page(request, found, member_form=form)


@require_POST
def assess(request: HttpRequest, pk: int, worker: int) -> HttpResponse:
    found = access.get_workplace_for(request.user, pk)
    target = access.get_worker_for(request.user, found, worker)
    policy = actions.policy_for(found.committee)
    form = AssessmentForm(request.POST, policy=policy, language=_language())
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        try:
            actions.assess_worker(
                target,
                form.cleaned_data["value"],
                reason=form.cleaned_data["reason"],
                actor=_user(request),
            )
        except actions.OrganisingError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The assessment is recorded."))
    back = request.POST.get("back")
    if back == "worker":
        return redirect("organising:worker", pk=found.pk, worker=target.pk)
    return redirect("organising:workers", pk=found.pk)


@require_POST
def leader(request: HttpRequest, pk: int, worker: int) -> HttpResponse:
    found = access.get_workplace_for(request.user, pk)
    target = access.get_worker_for(request.user, found, worker)
    try:
        actions.set_leader(target, leader=request.POST.get("leader") == "1", actor=_user(request))
    except actions.OrganisingError as error:
        messages.error(request, error.message)
    return redirect("organising:worker", pk=found.pk, worker=target.pk)


@never_cache
def worker(request: HttpRequest, pk: int, worker: int) -> HttpResponse:
    """One worker: their phone, the history of assessments with reasons, and their record in
    structure tests. Each view is an audited reveal."""
    found = access.get_workplace_for(request.user, pk)
    target = access.get_worker_for(request.user, found, worker)
    if not _reveal(request, "organising.worker", target):
        return redirect("organising:workers", pk=found.pk)
    policy = actions.policy_for(found.committee)
    language = _language()
    phone = crypto.unseal(target, "phone") if target.data_key_id else None
    history = [
        {
            "a": a,
            "label": policy.label(a.value, language),
            "colour": figures.colour(a.value),
            "reason": actions.reason_of(a),
        }
        for a in Assessment.objects.filter(worker=target).select_related("assessed_by", "data_key")
    ]
    return render(
        request,
        "organising/worker.html",
        {
            "workplace": found,
            "worker": target,
            "name": actions.display_name(target),
            "phone": phone,
            "history": history,
            "record": figures.participation_record(target),
            "assess_form": AssessmentForm(policy=policy, language=language),
        },
    )


@require_POST
def end_campaign(request: HttpRequest, pk: int) -> HttpResponse:
    found = access.get_workplace_for(request.user, pk)
    try:
        actions.end_campaign(found, actor=_user(request))
    except actions.OrganisingError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("The campaign is ended. Its contacts are erased after the network's period.")
        )
    return redirect("organising:workplace", pk=found.pk)


# Structure tests ----------------------------------------------------------------------


@never_cache
def new_test(request: HttpRequest, slug: str) -> HttpResponse:
    committee = access.get_organiser_committee(request.user, slug)
    choices = access.workplaces_for(request.user).filter(
        committee_id__in=committee_and_below(committee), ended_at__isnull=True
    )
    form = StructureTestForm(request.POST or None, committee=committee, workplaces=choices)
    if request.method == "POST" and form.is_valid():
        try:
            test = actions.open_structure_test(committee, form.test_data(), actor=_user(request))
        except actions.OrganisingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The action is set. Record who takes part."))
            return redirect("organising:test", pk=test.pk)
    return render(request, "organising/new_test.html", {"committee": committee, "form": form})


@never_cache
def test(request: HttpRequest, pk: int) -> HttpResponse:
    """Predicted vs actual: counts by assessment, and the ids of workers whose assessment and
    action disagree (their names are on the workers' pages)."""
    found = access.get_structure_test_for(request.user, pk)
    policy = actions.policy_for(found.committee)
    language = _language()
    comparison = figures.predicted_vs_actual(found)
    rows = [
        {"row": r, "label": policy.label(r.value, language), "colour": figures.colour(r.value)}
        for r in comparison.rows
    ]
    return render(
        request,
        "organising/test.html",
        {"test": found, "c": comparison, "rows": rows, "workplaces": list(found.workplaces.all())},
    )


@never_cache
def test_workers(request: HttpRequest, pk: int) -> HttpResponse:
    """The unit by name, to record who took part (a reveal of the names, audited)."""
    found = access.get_structure_test_for(request.user, pk)
    workplaces = list(found.workplaces.all())
    if not _reveal(request, "organising.workers", found):
        return redirect("organising:test", pk=found.pk)
    took = set(Participation.objects.filter(test=found).values_list("worker_id", flat=True))
    unit = figures.with_current(figures.unit_of(found)).select_related("user", "workplace")
    keys = {w.pk: w.data_key for w in workplaces}
    page = Paginator(unit.order_by("workplace_id", "department", "pk"), WORKERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = []
    for w in page.object_list:
        w.data_key = keys.get(w.workplace_id)
        rows.append(
            {
                "worker": w,
                "name": actions.display_name(w),
                "current": w.current or NOT_ASSESSED,  # type: ignore[attr-defined]
                "took": w.pk in took,
            }
        )
    return render(
        request, "organising/test_workers.html", {"test": found, "rows": rows, "page": page}
    )


@require_POST
def take_part(request: HttpRequest, pk: int, worker: int) -> HttpResponse:
    """An organiser records (or, with remove=1, removes) a worker's participation."""
    found = access.get_structure_test_for(request.user, pk)
    target = figures.unit_of(found).filter(pk=pk_from_url(worker)).first()
    if target is None:
        raise Http404
    try:
        if request.POST.get("remove") == "1":
            actions.withdraw_participation(found, target, actor=_user(request))
        else:
            actions.record_participation(found, target, actor=_user(request))
    except actions.OrganisingError as error:
        messages.error(request, error.message)
    page = request.POST.get("page", "1")
    page = page if page.isdigit() and len(page) < 7 else "1"
    return redirect(reverse("organising:test_workers", kwargs={"pk": found.pk}) + f"?page={page}")


@require_POST
def send_links(request: HttpRequest, pk: int) -> HttpResponse:
    found = access.get_structure_test_for(request.user, pk)
    try:
        queued = actions.send_links(found, actor=_user(request))
    except actions.OrganisingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Links queued: %(n)s.") % {"n": queued})
    return redirect("organising:test", pk=found.pk)


@public
@never_cache
def take_part_link(request: HttpRequest, token: str) -> HttpResponse:
    """A worker's own link: a button to say they took part. The signed link is the proof."""
    found = actions.from_link(token) if len(token) <= 200 else None
    if found is None:
        return render(request, "organising/link_invalid.html", status=404)
    test, target = found
    done = Participation.objects.filter(test=test, worker=target).exists()
    if request.method == "POST" and not done:
        if not link_gate.allow(getattr(request, "source_tag", "")):
            return render(request, "organising/link_invalid.html", status=429)
        try:
            actions.take_part_by_link(test, target)
        except actions.OrganisingError as error:
            messages.error(request, error.message)
        else:
            done = True
            messages.success(request, _("Thank you: you are counted."))
    return render(request, "organising/take_part.html", {"test": test, "done": done})


# A member's own history ---------------------------------------------------------------


@signed_in
@never_cache
def my_history(request: HttpRequest) -> HttpResponse:
    """Where the person is recorded as a worker, their assessments and their actions."""
    own = list(access.own_workers_for(request.user))
    language = _language()
    entries = []
    for w in own:
        policy = actions.policy_for(w.workplace.committee)
        entries.append(
            {
                "worker": w,
                "assessments": [
                    {"a": a, "label": policy.label(a.value, language)}
                    for a in Assessment.objects.filter(worker=w)
                ],
                "record": figures.participation_record(w),
                "actions": Participation.objects.filter(worker=w).select_related("test"),
            }
        )
    return render(request, "organising/my_history.html", {"entries": entries})
