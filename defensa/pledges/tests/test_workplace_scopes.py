"""Campaigns scoped to a workplace, a department of it or a sector: who may pledge, the
eligible count the organisers know, per-workplace counts, and bad scopes refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.committees.models import Membership
from defensa.core.testing import sign_in
from defensa.organising import actions as organising
from defensa.organising.tests.helpers import contact, make_organiser, workplace
from defensa.pledges import actions
from defensa.pledges.forms import CampaignForm
from defensa.pledges.models import Campaign, Origin, Pledge
from defensa.pledges.tests.helpers import open_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(net):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    plant = workplace(net.boyle, olga)
    depot = workplace(net.boyle, olga, employer="Sunrise Foods", site="Commerce depot")
    other = workplace(net.boyle, olga, employer="Acme Bolts", sector="Metal")
    contact(plant, olga, "Rosa", phone="+13235550111", dep="Kitchen")
    contact(plant, olga, "Juan", phone="+13235550112", dep="Packing")
    contact(depot, olga, "Lili", phone="+13235550113", dep="Kitchen")
    organising.add_member(
        plant,
        Membership.objects.get(user=net.mo, committee=net.boyle),
        department="Kitchen",
        shift="Day",
        actor=olga,
    )
    return plant, depot, other


def form(net, **values):  # type: ignore[no-untyped-def]
    day = (timezone.now() + dt.timedelta(days=3)).date()
    data = {
        "title_en": "Walk out",
        "title_es": "Paro",
        "text_en": "I will walk out.",
        "text_es": "Paro.",
        "threshold_kind": "count",
        "threshold": "2",
        "eligible_source": "",
        "deadline_date": day.isoformat(),
        "deadline_time": "12:00",
        "require_confirmation": "on",
        **values,
    }
    return CampaignForm(data, committee=net.boyle)


def test_the_eligible_count_defaults_to_the_known_workers_with_the_source_still_stated(net, places):
    plant, _depot, _other = places
    stated = form(net, scope="workplace", workplace=str(plant.pk), eligible_source="our map")
    assert stated.is_valid(), stated.errors
    assert stated.cleaned_data["eligible_count"] == 3  # Rosa, Juan and Mo
    unstated = form(net, scope="workplace", workplace=str(plant.pk))
    assert not unstated.is_valid()
    assert "eligible_source" in unstated.errors
    kitchen = form(
        net, scope="department", workplace=str(plant.pk), department="Kitchen", eligible_source="x"
    )
    assert kitchen.is_valid(), kitchen.errors
    assert kitchen.cleaned_data["eligible_count"] == 2  # Rosa and Mo
    campaign = actions.open_campaign(net.boyle, kitchen.campaign_data(), actor=net.ana)
    assert (campaign.scope, campaign.workplace, campaign.department) == (
        "department",
        plant,
        "Kitchen",
    )


def test_bad_scopes_are_refused_with_clear_words_and_nothing_stored(net, places):
    plant, _depot, _other = places
    olga_east = make_organiser("oscar", net.east)
    elsewhere = workplace(net.east, olga_east, employer="East Mill")
    cases = [
        ({"scope": "department", "workplace": str(plant.pk), "department": "Boiler"}, "department"),
        ({"scope": "workplace", "workplace": str(elsewhere.pk)}, "workplace"),
        ({"scope": "workplace"}, "workplace"),
        ({"scope": "sector", "sector": "Textiles"}, "sector"),
        ({"scope": "workplace", "workplace": str(plant.pk), "threshold": "4"}, "threshold"),
        (
            {
                "scope": "workplace",
                "workplace": str(plant.pk),
                "threshold": "90",
                "threshold_kind": "percent",
                "eligible_count": "5",
                "eligible_source": "x",
            },
            None,
        ),
    ]
    for values, field in cases[:-1]:
        bad = form(net, eligible_source="our map", **values)
        assert not bad.is_valid(), values
        assert field in bad.errors, (values, bad.errors)
    # The action checks again, whatever the form let through.
    for overrides, code in [
        ({"scope": "department", "workplace": plant, "department": "Boiler"}, "department"),
        ({"scope": "workplace", "workplace": elsewhere}, "workplace"),
        ({"scope": "sector", "sector": "Textiles"}, "sector"),
        ({"scope": "committee", "workplace": plant}, "scope"),
        ({"scope": "workplace", "workplace": plant, "threshold": 4, "eligible_count": 3}, None),
    ]:
        with pytest.raises(actions.PledgeError) as caught:
            open_campaign(net.boyle, net.ana, **overrides)
        assert code is None or caught.value.code == code
    assert Campaign.objects.count() == 0
    # Through the page: a clear error, no campaign.
    client = sign_in(Client(), net.ana)
    day = (timezone.now() + dt.timedelta(days=3)).date().isoformat()
    response = client.post(
        f"/pledges/new/{net.boyle.slug}/",
        {
            "title_en": "W",
            "title_es": "P",
            "text_en": "I will.",
            "text_es": "Sí.",
            "scope": "department",
            "workplace": str(plant.pk),
            "department": "Boiler",
            "threshold_kind": "count",
            "threshold": "1",
            "deadline_date": day,
            "deadline_time": "12:00",
        },
    )
    assert response.status_code == 200
    assert "Choose one of the workplace" in response.content.decode()
    assert Campaign.objects.count() == 0


def test_only_the_workers_of_the_scope_pledge_as_members(net, places):
    plant, _depot, _other = places
    campaign = open_campaign(
        net.boyle, net.ana, scope="department", workplace=plant, department="Kitchen"
    )
    assert actions.is_in_scope(campaign, net.mo)
    assert not actions.is_in_scope(campaign, net.vero)  # a member of the committee, not there
    with pytest.raises(actions.PledgeError):
        actions.pledge_as_member(campaign, net.vero)
    actions.pledge_as_member(campaign, net.mo)
    assert Pledge.objects.get(campaign=campaign).unit == plant


def test_a_sector_campaign_counts_per_workplace_and_only_counts(net, places):
    plant, depot, _other = places
    campaign = open_campaign(
        net.boyle, net.ana, scope="sector", sector="food processing", threshold=10
    )
    actions.pledge_by_phone(campaign, "+13235550111", origin=Origin.SMS, language="en")  # Rosa
    actions.pledge_by_phone(campaign, "+13235550113", origin=Origin.SMS, language="es")  # Lili
    actions.pledge_by_phone(campaign, "+13235550199", origin=Origin.SMS, language="en")  # unknown
    actions.pledge_as_member(campaign, net.mo)
    assert actions.unit_counts(campaign) == [(str(depot), 1), (str(plant), 2), ("", 1)]
    client = sign_in(Client(), net.ana)
    page = client.get(f"/pledges/{campaign.pk}/").content.decode()
    assert "Per workplace" in page and "Workplace not known" in page
    for secret in ("Rosa", "Lili", "5550111", "5550113", net.mo.email):
        assert secret not in page
    # Cancelled: the identities go, the per-workplace counts stay.
    actions.cancel_campaign(campaign, actor=net.ana)
    campaign.refresh_from_db()
    assert Pledge.objects.filter(campaign=campaign).count() == 0
    assert actions.unit_counts(campaign) == [(str(depot), 1), (str(plant), 2), ("", 1)]


@hsettings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    scope=st.sampled_from(["workplace", "department", "sector", "committee", "network", "x"]),
    place=st.text(max_size=12),
    department=st.text(max_size=90),
    sector=st.text(max_size=90),
)
def test_any_scope_fields_are_a_clear_answer(net, places, scope, place, department, sector):
    client = sign_in(Client(), net.ana)
    day = (timezone.now() + dt.timedelta(days=3)).date().isoformat()
    response = client.post(
        f"/pledges/new/{net.boyle.slug}/",
        {
            "title_en": "W",
            "title_es": "P",
            "text_en": "I will.",
            "text_es": "Sí.",
            "scope": scope,
            "workplace": place,
            "department": department,
            "sector": sector,
            "threshold_kind": "count",
            "threshold": "1",
            "eligible_source": "our map",
            "deadline_date": day,
            "deadline_time": "12:00",
        },
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert Campaign.objects.count() == 0
    Campaign.objects.all().delete()
