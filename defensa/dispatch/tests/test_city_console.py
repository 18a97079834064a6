"""One picture of the city: a city committee's dispatchers see (and act on) the incidents of
every committee under it on one console, filterable by committee; nobody else gains sight.
Widened offers cross into another committee only as far as the incident's committee's
dispatch policy reaches, and that committee's dispatchers are told."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from defensa.core.testing import join, make_user
from defensa.dispatch.actions import escalate_offers, offer_to_nearest
from defensa.dispatch.models import DispatchPolicy, Offer, Reach
from defensa.dispatch.tests.helpers import report_incident, verifier
from defensa.incidents.models import Incident, State
from defensa.notify import messages
from defensa.notify.models import Delivery

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)
# East LA (90022), a few kilometres from Boyle Heights.
EAST = (34.0239, -118.1720)


@pytest.fixture
def city(net):  # type: ignore[no-untyped-def]
    """Carla dispatches for the city; Eli for East LA; one incident in each local."""
    carla = make_user("carla")
    join(carla, net.city, is_dispatcher=True)
    eli = make_user("eli", language="es")
    join(eli, net.east, is_dispatcher=True)
    boyle = report_incident()
    east = report_incident(lat=EAST[0], lon=EAST[1], zip_code="90022", text="Whittier Blvd")
    assert (boyle.committee, east.committee) == (net.boyle, net.east)
    return carla, eli, boyle, east


def test_a_city_dispatcher_sees_every_local_incident_and_filters_by_committee(net, city, client_as):
    carla, _eli, boyle, east = city
    DispatchPolicy.objects.create(
        committee=net.east, offer_size=4, accept_target=1, escalate_minutes=5
    )
    client = client_as(carla)
    html = client.get("/dispatch/la-city/").content.decode()
    assert boyle.reference in html and east.reference in html
    # Each incident's button says what its own committee's policy will do.
    assert "the 4 nearest verifiers" in html and "the 3 nearest verifiers" in html
    assert "Committee: Boyle Heights" in html and "Committee: East LA" in html
    assert 'name="committee"' in html  # the filter, as a plain GET form
    only_east = client.get("/dispatch/la-city/?committee=east-la").content.decode()
    assert east.reference in only_east and boyle.reference not in only_east
    # The live refresh keeps the filter.
    assert "/dispatch/la-city/queue/?committee=east-la" in only_east
    fragment = client.get("/dispatch/la-city/queue/?committee=boyle-heights").content.decode()
    assert boyle.reference in fragment and east.reference not in fragment
    # A committee outside the city's subtree (its own parent) or unknown is not a filter.
    assert client.get("/dispatch/la-city/?committee=la").status_code == 404
    assert client.get("/dispatch/la-city/?committee=nowhere").status_code == 404
    # The incident opens on the city's console, and the city dispatcher can act on it.
    assert client.get(f"/dispatch/la-city/?incident={east.pk}").status_code == 200
    assert client.post(f"/dispatch/la-city/{east.pk}/note/", {"note": "seen"}).status_code == 302
    assert east.timeline.filter(note="seen", actor=carla).exists()
    # ... and places, merges and opens its record like the local's own dispatchers.
    assert client.get(f"/incidents/{east.reference}/place/").status_code == 200
    assert client.get(f"/incidents/{east.reference}/record/").status_code == 200


def test_sight_goes_down_the_tree_only(net, city, client_as):
    _carla, eli, boyle, east = city
    client = client_as(eli)
    # A local's dispatcher sees their own committee's incidents, not the city's or a sibling's.
    assert client.get("/dispatch/la-city/").status_code == 404
    html = client.get("/dispatch/east-la/").content.decode()
    assert east.reference in html and boyle.reference not in html
    assert 'name="committee"' not in html  # nothing to filter
    assert client.get(f"/dispatch/east-la/?incident={boyle.pk}").status_code == 404
    assert client.post(f"/dispatch/east-la/{boyle.pk}/note/", {"note": "x"}).status_code == 404
    assert client.get(f"/incidents/{boyle.reference}/place/").status_code == 404
    assert client.get("/dispatch/east-la/?committee=boyle-heights").status_code == 404
    # The city's coordinator (not a dispatcher) has no console.
    omar = net.omar
    assert client_as(omar).get("/dispatch/la-city/").status_code == 404


def test_requesting_verification_from_the_city_console_asks_the_locals_verifiers(
    net, city, client_as
):
    carla, _eli, _boyle, east = city
    there = verifier("tere", net.east, home_zip="90022")
    verifier("bo", net.boyle, home_zip="90033", on_duty=False)
    client = client_as(carla)
    assert client.post(f"/dispatch/la-city/{east.pk}/verify/").status_code == 302
    east.refresh_from_db()
    assert east.state == State.VERIFYING
    assert [o.responder for o in Offer.objects.filter(incident=east)] == [there]


@pytest.fixture
def widening(net, settings):  # type: ignore[no-untyped-def]
    """Boyle Heights has one verifier, who does not answer; East LA has one next door."""
    settings.DISPATCH_OFFER_SIZE = 1
    settings.DISPATCH_ACCEPT_TARGET = 1
    settings.DISPATCH_ESCALATE_MINUTES = 5
    net.vero.on_duty = False
    net.vero.save()
    eli = make_user("eli", language="es")
    join(eli, net.east, is_dispatcher=True)
    home = verifier("home", net.boyle, home_zip="90033")
    neighbour = verifier("nina", net.east, home_zip="90063")
    incident = report_incident()
    t0 = timezone.now()
    offer_to_nearest(incident, actor=net.dani, now=t0)
    return incident, t0, home, neighbour, eli


def _reach(net, reach: str) -> None:  # type: ignore[no-untyped-def]
    DispatchPolicy.objects.create(
        committee=net.boyle, offer_size=1, accept_target=1, escalate_minutes=5, reach=reach
    )


def test_without_the_policy_a_widened_offer_stays_home(net, widening):
    _reach(net, Reach.RINGS)
    incident, t0, home, _neighbour, _eli = widening
    assert escalate_offers(now=t0 + 5 * MIN) == 1
    assert [o.responder for o in Offer.objects.filter(incident=incident)] == [home]
    assert not Delivery.objects.filter(template="dispatch_crossed").exists()


def test_with_the_policy_a_widened_offer_crosses_and_the_neighbours_dispatchers_are_told(
    net, widening
):
    _reach(net, Reach.NEIGHBOURS)
    incident, t0, home, neighbour, eli = widening
    # The first round stayed home even so: only widening crosses.
    assert [o.responder for o in Offer.objects.filter(incident=incident)] == [home]
    assert escalate_offers(now=t0 + 5 * MIN) == 1
    second = Offer.objects.get(incident=incident, tier=2)
    assert second.responder == neighbour
    [told] = Delivery.objects.filter(template="dispatch_crossed")
    assert told.recipient == eli
    rendered = messages.render(told)  # in Eli's language
    assert incident.reference in rendered.body
    assert "Boyle Heights" in rendered.body and "East LA" in rendered.body
    # The round's record names the committee crossed into and how many were asked.
    entry = incident.timeline.filter(detail__step="offer_widened").get()
    assert entry.detail["crossed"] == {str(net.east.pk): 1}
    # Boyle Heights' own dispatcher hears of the widening, not of the crossing.
    assert set(
        Delivery.objects.filter(template="dispatch_widened").values_list("recipient", flat=True)
    ) == {net.dani.pk}


def test_a_committee_whose_parent_differs_is_no_neighbour(net, widening):
    from defensa.committees.models import Committee

    _reach(net, Reach.NEIGHBOURS)
    incident, t0, home, neighbour, _eli = widening
    elsewhere = Committee.objects.create(name="Long Beach", slug="long-beach", parent=net.network)
    net.east.parent = elsewhere
    net.east.save()
    assert escalate_offers(now=t0 + 5 * MIN) == 1
    assert not Offer.objects.filter(incident=incident, responder=neighbour).exists()
    assert not Delivery.objects.filter(template="dispatch_crossed").exists()


def test_a_city_dispatcher_places_a_locals_incident_and_returns_to_the_city_console(net, client_as):
    from defensa.reports.actions import receive_report

    carla = make_user("carla")
    join(carla, net.city, is_dispatcher=True)
    lost = receive_report(
        {"category": "sighting", "language": "es", "location_text": "Soto y 1st"},
        channel="web",
        idempotency_key="city-place-1",
    ).report.incident
    # Unplaced reports go to the network's top committee: move it to a local for the test.
    Incident.objects.filter(pk=lost.pk).update(committee=net.boyle)
    response = client_as(carla).post(f"/incidents/{lost.reference}/place/", {"zip_code": "90022"})
    assert response.status_code == 302
    assert response["Location"] == "/dispatch/la-city/"
    assert Incident.objects.get(pk=lost.pk).committee == net.east


def test_reaching_the_committee_above_tells_its_dispatchers(net, widening):
    """The next tier: Boyle Heights' policy reaches the city; the city's verifier is asked
    and the city's dispatcher told."""
    _reach(net, Reach.NEXT_TIER)
    incident, t0, _home, neighbour, _eli = widening
    carla = make_user("carla")
    join(carla, net.city, is_dispatcher=True)
    above = verifier("cid", net.city, home_zip="90033")
    assert escalate_offers(now=t0 + 5 * MIN) == 1
    assert Offer.objects.get(incident=incident, tier=2).responder == above
    [told] = Delivery.objects.filter(template="dispatch_crossed")
    assert told.recipient == carla
    assert not Offer.objects.filter(incident=incident, responder=neighbour).exists()
