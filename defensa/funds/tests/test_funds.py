"""A strike fund: applications sealed, two reviewers, caps, the ledger and its export."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from defensa.audit.models import AuditEntry
from defensa.core import crypto
from defensa.core.testing import sign_in
from defensa.funds import actions
from defensa.funds.models import Application, AppState, Entry

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def fund(net):  # type: ignore[no-untyped-def]
    fund = actions.create_fund(net.boyle, "Strike fund", D("200"), D("500"), actor=net.ana)
    actions.name_reviewer(fund, net.lucia, actor=net.ana)
    actions.record_money_in(fund, D("1000"), timezone.localdate(), "cash", actor=net.ana)
    return fund


def test_an_application_is_sealed_and_needs_two_reviewers(net, fund):
    application = actions.apply(fund, D("150"), "Rent, week 2", actor=net.mo)
    raw = Application.objects.filter(pk=application.pk).values().get()
    assert "Rent" not in str(raw) and str(net.mo.pk) != raw["applicant_digest"]
    assert crypto.unseal(application, "reason") == "Rent, week 2"
    actions.approve(application, actor=net.ana)
    assert Application.objects.get(pk=application.pk).state == AppState.PENDING
    with pytest.raises(actions.FundError):
        actions.approve(application, actor=net.ana)  # the same reviewer twice
    with pytest.raises(actions.FundError):
        actions.disburse(application, timezone.localdate(), "cash", actor=net.ana)
    actions.approve(application, actor=net.lucia)
    assert Application.objects.get(pk=application.pk).state == AppState.APPROVED
    entry = actions.disburse(application, timezone.localdate(), "app", actor=net.lucia)
    assert entry.amount == D("150") and Entry._meta.get_field("method")
    assert actions.balance(fund) == D("850")


def test_nobody_reviews_their_own_application(net, fund):
    application = actions.apply(fund, D("50"), "Groceries", actor=net.lucia)
    with pytest.raises(actions.FundError) as error:
        actions.approve(application, actor=net.lucia)
    assert error.value.code == "own"


def test_caps_per_person_and_per_week(net, fund):
    with pytest.raises(actions.FundError):
        actions.apply(fund, D("250"), "Too much", actor=net.mo)  # over one person's week
    today = timezone.localdate()
    paid = []
    for person in (net.mo, net.mo, net.vero, net.dani):
        a = actions.apply(fund, D("150"), "Rent", actor=person)
        actions.approve(a, actor=net.ana)
        actions.approve(a, actor=net.lucia)
        paid.append(a)
    actions.disburse(paid[0], today, "cash", actor=net.ana)
    with pytest.raises(actions.FundError) as error:
        actions.disburse(paid[1], today, "cash", actor=net.ana)  # mo again: 300 > 200
    assert error.value.code == "person_cap"
    actions.disburse(paid[2], today, "cash", actor=net.ana)
    # Mo's second payment goes out the week after (weeks start on Monday).
    next_week = today + dt.timedelta(days=7)
    actions.disburse(paid[1], next_week, "cash", actor=net.ana)
    assert Application.objects.get(pk=paid[1].pk).state == AppState.PAID


def test_the_weekly_cap_of_the_fund(net):
    fund = actions.create_fund(net.boyle, "Small fund", D("100"), D("150"), actor=net.ana)
    actions.name_reviewer(fund, net.lucia, actor=net.ana)
    actions.record_money_in(fund, D("1000"), timezone.localdate(), "cash", actor=net.ana)
    first, second = (actions.apply(fund, D("100"), "Rent", actor=p) for p in (net.mo, net.vero))
    for a in (first, second):
        actions.approve(a, actor=net.ana)
        actions.approve(a, actor=net.lucia)
    actions.disburse(first, timezone.localdate(), "cash", actor=net.ana)
    with pytest.raises(actions.FundError) as error:
        actions.disburse(second, timezone.localdate(), "cash", actor=net.ana)
    assert error.value.code == "week_cap"
    assert Application.objects.get(pk=second.pk).state == AppState.APPROVED  # nothing partial


def test_ledger_running_balance_and_audited_csv(net, fund):
    a = actions.apply(fund, D("120"), "Medicine", actor=net.mo)
    actions.approve(a, actor=net.ana)
    actions.approve(a, actor=net.lucia)
    actions.disburse(a, timezone.localdate(), "check", actor=net.lucia)
    assert [line.balance for line in actions.ledger(fund)] == [D("1000"), D("880")]
    response = sign_in(Client(), net.lucia).get(f"/funds/{fund.pk}/ledger.csv")
    text = response.content.decode()
    assert response.status_code == 200 and "880.00" in text
    assert "Mo" not in text and "Medicine" not in text  # amounts, dates, methods only
    assert AuditEntry.objects.filter(action="funds.export_ledger", actor_id=net.lucia.pk).exists()


def test_members_see_totals_only_reviewers_see_who(net, fund):
    actions.apply(fund, D("80"), "Bus fare", actor=net.mo)
    member = sign_in(Client(), net.vero).get(f"/funds/{fund.pk}/")
    page = member.content.decode()
    assert member.status_code == 200 and "1000" in page and "Bus fare" not in page
    assert sign_in(Client(), net.vero).get(f"/funds/{fund.pk}/review/").status_code == 404
    assert sign_in(Client(), net.omar).get(f"/funds/{fund.pk}/").status_code == 404
    review = sign_in(Client(), net.lucia).get(f"/funds/{fund.pk}/review/").content.decode()
    assert "Bus fare" in review and "Mo" in review
    assert AuditEntry.objects.filter(action="funds.applicants_revealed").exists()


def test_only_coordinators_name_reviewers(net, fund):
    mo = sign_in(Client(), net.mo)
    assert mo.post(f"/funds/{fund.pk}/reviewers/", {"user": net.mo.pk}).status_code == 404
    ana = sign_in(Client(), net.ana)
    ana.post(f"/funds/{fund.pk}/reviewers/", {"user": net.mo.pk})
    assert fund.reviewers.filter(user=net.mo).exists()
    ana.post(f"/funds/{fund.pk}/reviewers/", {"user": net.pat.pk})  # on probation: refused
    assert not fund.reviewers.filter(user=net.pat).exists()


def test_bad_amounts_are_refused_with_nothing_stored(net, fund):
    client = sign_in(Client(), net.mo)
    for amount in ("0", "-5", "abc", "1e9", "12.345", ""):
        response = client.post(f"/funds/{fund.pk}/apply/", {"amount": amount, "reason": "x"})
        assert response.status_code == 400
    assert not Application.objects.exists()


def test_who_applied_is_shredded_after_a_year_the_ledger_stays(net, fund):
    from defensa.core.retention import purge

    a = actions.apply(fund, D("60"), "Gas", actor=net.mo)
    actions.approve(a, actor=net.ana)
    actions.approve(a, actor=net.lucia)
    actions.disburse(a, timezone.localdate(), "cash", actor=net.ana)
    purge(now=timezone.now() + dt.timedelta(days=366))
    a = Application.objects.get(pk=a.pk)
    assert a.applicant is None and a.reason is None
    assert [line.balance for line in actions.ledger(fund)] == [D("1000"), D("940")]
