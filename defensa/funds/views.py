"""Fund pages: every member sees the totals and may apply; coordinators create funds and
name reviewers; reviewers see who applied (audited), approve, disburse, record money in and
export the ledger (audited)."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from defensa.accounts.models import User
from defensa.audit.reveals import RevealQuota, record_reveal
from defensa.committees.access import (
    committee_and_below,
    coordinated_committees_for,
    get_coordinated_committee_for,
)
from defensa.committees.models import Membership, MemberStatus
from defensa.core.access import signed_in
from defensa.funds import access, actions
from defensa.funds.forms import ApplyForm, DisburseForm, FundForm, MoneyForm, ReviewerForm
from defensa.funds.models import AppState, Reviewer


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@signed_in
@never_cache
def index(request: HttpRequest) -> HttpResponse:
    """The funds of one's own committees, with their totals."""
    funds = list(access.funds_for(request.user))
    return render(
        request,
        "funds/index.html",
        {
            "funds": [(f, actions.totals(f)) for f in funds],
            "committees": list(coordinated_committees_for(request.user)),
        },
    )


@never_cache
def new(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_coordinated_committee_for(request.user, slug)
    form = FundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            fund = actions.create_fund(committee, actor=_user(request), **form.cleaned_data)
        except actions.FundError as error:
            form.add_error(None, error.message)
        else:
            return redirect("funds:detail", pk=fund.pk)
    return render(request, "funds/new.html", {"committee": committee, "form": form})


@never_cache
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    fund = access.get_fund_for(request.user, pk)
    return render(
        request,
        "funds/detail.html",
        {
            "fund": fund,
            "totals": actions.totals(fund),
            "form": ApplyForm(),
            "reviewer": access.reviewed_funds_for(request.user).filter(pk=fund.pk).exists(),
            "coordinator": coordinated_committees_for(request.user)
            .filter(pk=fund.committee_id)
            .exists(),
            "AppState": AppState,
        },
    )


@require_POST
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    fund = access.get_fund_for(request.user, pk)
    form = ApplyForm(request.POST)
    if form.is_valid():
        try:
            actions.apply(
                fund, form.cleaned_data["amount"], form.cleaned_data["reason"], actor=_user(request)
            )
        except actions.FundError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your application is in. Two reviewers will look at it."))
            return redirect("funds:detail", pk=fund.pk)
    context = {"fund": fund, "totals": actions.totals(fund), "form": form, "AppState": AppState}
    return render(request, "funds/detail.html", context, status=400)


@never_cache
def reviewers(request: HttpRequest, pk: int) -> HttpResponse:
    """A coordinator names reviewers among the committee's full members."""
    fund = access.get_coordinated_fund(request.user, pk)
    if request.method == "POST":
        form = ReviewerForm(request.POST)
        person = None
        if form.is_valid():
            person = User.objects.filter(pk=form.cleaned_data["user"], is_active=True).first()
        if person is None:
            messages.error(request, _("Choose a member of the committee."))
        else:
            try:
                actions.name_reviewer(fund, person, actor=_user(request))
            except actions.FundError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("The reviewer is named."))
        return redirect("funds:reviewers", pk=fund.pk)
    named = set(Reviewer.objects.filter(fund=fund).values_list("user_id", flat=True))
    members = (
        Membership.objects.filter(
            committee_id__in=committee_and_below(fund.committee),
            status=MemberStatus.FULL,
            user__is_active=True,
        )
        .select_related("user")
        .order_by("user__display_name")
    )
    people = {m.user_id: m.user for m in members}
    return render(
        request,
        "funds/reviewers.html",
        {"fund": fund, "people": list(people.values()), "named": named},
    )


@never_cache
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """Who applied and why: reviewers only, each view an audited reveal."""
    fund = access.get_reviewed_fund(request.user, pk)
    found = actions.applicants(fund)
    try:
        record_reveal("funds.applicants", actor=request.user, obj=fund, applications=len(found))
    except RevealQuota:
        messages.error(
            request, _("You have revealed too many contacts in the last hour. Try again later.")
        )
        return redirect("funds:detail", pk=fund.pk)
    return render(
        request,
        "funds/review.html",
        {
            "fund": fund,
            "applicants": found,
            "ledger": actions.ledger(fund),
            "money_form": MoneyForm(),
            "disburse_form": DisburseForm(),
            "AppState": AppState,
        },
    )


def _step(request: HttpRequest, pk: int, app: int, step: str) -> HttpResponse:
    application = access.get_reviewed_application(request.user, pk, app)
    try:
        if step == "approve":
            actions.approve(application, actor=_user(request))
        elif step == "decline":
            actions.decline(application, actor=_user(request))
        else:
            form = DisburseForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Give the date paid (not in the future) and the method."))
                return redirect("funds:review", pk=pk)
            actions.disburse(
                application,
                form.cleaned_data["on"],
                form.cleaned_data["method"],
                actor=_user(request),
            )
    except actions.FundError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Done."))
    return redirect("funds:review", pk=pk)


@require_POST
def approve(request: HttpRequest, pk: int, app: int) -> HttpResponse:
    return _step(request, pk, app, "approve")


@require_POST
def decline(request: HttpRequest, pk: int, app: int) -> HttpResponse:
    return _step(request, pk, app, "decline")


@require_POST
def disburse(request: HttpRequest, pk: int, app: int) -> HttpResponse:
    return _step(request, pk, app, "disburse")


@require_POST
def money_in(request: HttpRequest, pk: int) -> HttpResponse:
    fund = access.get_reviewed_fund(request.user, pk)
    form = MoneyForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Give an amount above zero, the date (not in the future) and the method.")
        )
    else:
        try:
            actions.record_money_in(fund, actor=_user(request), **form.cleaned_data)
        except actions.FundError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The money in is recorded."))
    return redirect("funds:review", pk=fund.pk)


@never_cache
def ledger_csv(request: HttpRequest, pk: int) -> HttpResponse:
    fund = access.get_reviewed_fund(request.user, pk)
    if request.method != "GET":
        raise Http404
    rows = actions.export_ledger(fund, actor=_user(request))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="fund-{fund.pk}-ledger.csv"'
    writer = csv.writer(response)
    writer.writerows(rows)
    return response
