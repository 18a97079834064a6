"""Writes of funds: create a fund, name a reviewer, apply, approve, decline, record money
in, disburse, export the ledger. Each atomic, each with exactly one audit entry (ids only:
never an applicant's name or reason)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from defensa.accounts.models import User
from defensa.audit.log import record
from defensa.committees.access import committee_and_below
from defensa.committees.models import Committee, Membership, MemberStatus
from defensa.core import crypto
from defensa.core.crypto.digests import digest_key, keyed_digest
from defensa.core.transitions import IllegalTransition, check_move
from defensa.funds.models import (
    APP_TRANSITIONS,
    MAX_AMOUNT,
    Application,
    Approval,
    AppState,
    Entry,
    EntryKind,
    Fund,
    Reviewer,
)

DIGEST_KEY = "funds.applicant"
APPROVALS_NEEDED = 2


class FundError(Exception):
    """A step that cannot be taken; `message` is for the person (translated)."""

    def __init__(self, message: Any, code: str) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code


def applicant_digest(fund: Fund, user: User) -> str:
    return keyed_digest(digest_key(DIGEST_KEY), f"{fund.pk}:{user.pk}")


def _check_amount(amount: Decimal) -> None:
    if not Decimal("0.01") <= amount <= MAX_AMOUNT:
        raise FundError(_("Enter an amount above zero and at most 100,000."), "amount")


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    start = day - dt.timedelta(days=day.weekday())
    return start, start + dt.timedelta(days=6)


def in_good_standing(committee: Committee, user: User) -> bool:
    return Membership.objects.filter(
        user=user,
        committee_id__in=committee_and_below(committee),
        status=MemberStatus.FULL,
        user__is_active=True,
    ).exists()


@transaction.atomic
def create_fund(
    committee: Committee, name: str, person_week_cap: Decimal, week_cap: Decimal, *, actor: User
) -> Fund:
    _check_amount(person_week_cap)
    _check_amount(week_cap)
    if person_week_cap > week_cap:
        raise FundError(_("One person's weekly cap cannot be above the fund's weekly cap."), "caps")
    fund = Fund.objects.create(
        committee=committee,
        name=name,
        person_week_cap=person_week_cap,
        week_cap=week_cap,
        created_by=actor,
    )
    Reviewer.objects.create(fund=fund, user=actor, named_by=actor)
    record("funds.create_fund", actor=actor, obj=fund, committee=committee)
    return fund


@transaction.atomic
def name_reviewer(fund: Fund, user: User, *, actor: User) -> Reviewer:
    """A coordinator names a full member of the committee as a reviewer."""
    if not in_good_standing(fund.committee, user):
        raise FundError(_("Reviewers must be full members of the committee."), "member")
    reviewer, created = Reviewer.objects.get_or_create(
        fund=fund, user=user, defaults={"named_by": actor}
    )
    if not created:
        raise FundError(_("That person is already a reviewer."), "already")
    record("funds.name_reviewer", actor=actor, obj=fund, committee=fund.committee, user=user.pk)
    return reviewer


@transaction.atomic
def apply(fund: Fund, amount: Decimal, reason: str, *, actor: User) -> Application:
    """A member applies: the amount in the clear (totals), who and why sealed."""
    _check_amount(amount)
    if not in_good_standing(fund.committee, actor):
        raise FundError(_("Only full members of the committee can apply."), "member")
    if amount > fund.person_week_cap:
        raise FundError(_("That is above what one person can receive in a week."), "cap")
    application = Application.objects.create(
        fund=fund,
        amount=amount,
        applicant_digest=applicant_digest(fund, actor),
        data_key=crypto.new_key("funds.application"),
    )
    crypto.seal(application, "applicant", str(actor.pk))
    crypto.seal(application, "reason", reason)
    application.save(update_fields=["applicant", "reason"])
    record("funds.apply", actor=actor, obj=application, committee=fund.committee)
    return application


def _locked(application: Application) -> Application:
    return Application.objects.select_for_update().select_related("fund").get(pk=application.pk)


def _move(application: Application, target: str) -> None:
    try:
        check_move(APP_TRANSITIONS, application.state, target)
    except IllegalTransition:
        raise FundError(_("This application has already been decided."), "state") from None


def _paid_in_week(fund: Fund, day: dt.date, digest: str | None = None) -> Decimal:
    start, end = week_of(day)
    entries = Entry.objects.filter(fund=fund, kind=EntryKind.OUT, on__range=(start, end))
    if digest is not None:
        entries = entries.filter(application__applicant_digest=digest)
    return entries.aggregate(s=Sum("amount"))["s"] or Decimal(0)


@transaction.atomic
def approve(application: Application, *, actor: User) -> Application:
    """One reviewer's approval; the second (from another reviewer) approves it."""
    application = _locked(application)
    _move(application, AppState.APPROVED)
    if application.applicant_digest == applicant_digest(application.fund, actor):
        raise FundError(_("You cannot review your own application."), "own")
    _approval, created = Approval.objects.get_or_create(application=application, reviewer=actor)
    if not created:
        raise FundError(_("You have already approved this application."), "again")
    approvals = application.approvals.count()  # type: ignore[attr-defined]
    if approvals >= APPROVALS_NEEDED:
        application.state = AppState.APPROVED
        application.save(update_fields=["state"])
    record(
        "funds.approve",
        actor=actor,
        obj=application,
        committee=application.fund.committee,
        approvals=approvals,
    )
    return application


@transaction.atomic
def decline(application: Application, *, actor: User) -> Application:
    application = _locked(application)
    _move(application, AppState.DECLINED)
    application.state = AppState.DECLINED
    application.save(update_fields=["state"])
    record("funds.decline", actor=actor, obj=application, committee=application.fund.committee)
    return application


def balance(fund: Fund) -> Decimal:
    sums = Entry.objects.filter(fund=fund).aggregate(
        i=Sum("amount", filter=Q(kind=EntryKind.IN)), o=Sum("amount", filter=Q(kind=EntryKind.OUT))
    )
    return (sums["i"] or Decimal(0)) - (sums["o"] or Decimal(0))


@transaction.atomic
def disburse(application: Application, on: dt.date, method: str, *, actor: User) -> Entry:
    """Pay an approved application: amount, date and method, within the caps and the balance."""
    application = _locked(application)
    fund = Fund.objects.select_for_update().get(pk=application.fund_id)
    _move(application, AppState.PAID)
    if application.state != AppState.APPROVED:
        raise FundError(_("Two reviewers must approve it first."), "approvals")
    if application.applicant_digest == applicant_digest(fund, actor):
        raise FundError(_("You cannot review your own application."), "own")
    amount = application.amount
    if _paid_in_week(fund, on, application.applicant_digest) + amount > fund.person_week_cap:
        raise FundError(_("That would put this person over the weekly cap."), "person_cap")
    if _paid_in_week(fund, on) + amount > fund.week_cap:
        raise FundError(_("That would put the fund over its weekly cap."), "week_cap")
    if amount > balance(fund):
        raise FundError(_("The fund does not hold that much."), "balance")
    entry = Entry.objects.create(
        fund=fund,
        kind=EntryKind.OUT,
        amount=amount,
        on=on,
        method=method,
        application=application,
        recorded_by=actor,
    )
    application.state = AppState.PAID
    application.save(update_fields=["state"])
    record("funds.disburse", actor=actor, obj=entry, committee=fund.committee)
    return entry


@transaction.atomic
def record_money_in(fund: Fund, amount: Decimal, on: dt.date, method: str, *, actor: User) -> Entry:
    _check_amount(amount)
    entry = Entry.objects.create(
        fund=fund, kind=EntryKind.IN, amount=amount, on=on, method=method, recorded_by=actor
    )
    record("funds.money_in", actor=actor, obj=entry, committee=fund.committee)
    return entry


@dataclasses.dataclass(frozen=True)
class Line:
    entry: Entry
    balance: Decimal


def ledger(fund: Fund) -> list[Line]:
    """Every entry in date order with the running balance."""
    running = Decimal(0)
    lines = []
    for entry in Entry.objects.filter(fund=fund).order_by("on", "pk"):
        running += entry.amount if entry.kind == EntryKind.IN else -entry.amount
        lines.append(Line(entry, running))
    return lines


def totals(fund: Fund) -> dict[str, Any]:
    """What every member sees: money in and out, the balance, applications by state."""
    sums = Entry.objects.filter(fund=fund).aggregate(
        i=Sum("amount", filter=Q(kind=EntryKind.IN)), o=Sum("amount", filter=Q(kind=EntryKind.OUT))
    )
    states = dict(
        Application.objects.filter(fund=fund)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    money_in, money_out = sums["i"] or Decimal(0), sums["o"] or Decimal(0)
    return {
        "money_in": money_in,
        "money_out": money_out,
        "balance": money_in - money_out,
        "applications": {state: states.get(state, 0) for state in AppState.values},
    }


@transaction.atomic
def export_ledger(fund: Fund, *, actor: User) -> list[list[str]]:
    """The ledger as CSV rows (date, kind, method, amount, balance); the export is audited."""
    rows = [["date", "kind", "method", "amount", "balance"]]
    for line in ledger(fund):
        e = line.entry
        rows.append([e.on.isoformat(), e.kind, e.method, f"{e.amount:.2f}", f"{line.balance:.2f}"])
    record(
        "funds.export_ledger", actor=actor, obj=fund, committee=fund.committee, rows=len(rows) - 1
    )
    return rows


@dataclasses.dataclass(frozen=True)
class Applicant:
    application: Application
    name: str
    reason: str
    approvals: int
    hours: float | None


def applicants(fund: Fund) -> list[Applicant]:
    """Who applied and why, unsealed, for reviewers; the caller audits the reveal."""
    from defensa.funds.hours import picket_hours

    found = []
    for application in Application.objects.filter(fund=fund).annotate(n=Count("approvals")):
        try:
            member = crypto.unseal(application, "applicant")
            reason = crypto.unseal(application, "reason") or ""
        except crypto.KeyShredded:
            member, reason = None, ""
        user = User.objects.filter(pk=int(member)).first() if member else None
        found.append(
            Applicant(
                application=application,
                name=user.display_name if user else "",
                reason=reason,
                approvals=application.n,  # type: ignore[attr-defined]
                hours=picket_hours(user, fund.committee),
            )
        )
    return found
