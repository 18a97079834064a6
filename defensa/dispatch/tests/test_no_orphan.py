"""Every report reaches a dispatcher: by its place, else by the number it came in on, else at
the network's top; one without a usable place is listed first, flagged, and a dispatcher
places it (grouping runs again); one left unplaced alerts the committee's dispatchers."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from defensa.audit.models import AuditEntry
from defensa.core.testing import join
from defensa.dispatch.actions import alert_unplaced
from defensa.incidents.actions import CannotPlace, place_incident
from defensa.incidents.models import Incident, State, TimelineAction
from defensa.notify import messages
from defensa.notify.models import Delivery
from defensa.reports.actions import receive_report
from defensa.reports.models import Report
from defensa.reports.tests.test_sms import _webhook, text  # the signed-webhook helpers
from defensa.voice.models import Hotline

pytestmark = pytest.mark.django_db
__all__ = ["_webhook"]

HOTLINE = "+12135550100"
_keys = iter(range(10**6))


def report(**data):  # type: ignore[no-untyped-def]
    payload = {"category": "sighting", "language": "es", **data}
    return receive_report(
        payload, channel="web", idempotency_key=f"orphan:{next(_keys):08d}"
    ).report


def console_html(client_as, user, committee) -> str:  # type: ignore[no-untyped-def]
    response = client_as(user).get(f"/dispatch/{committee.slug}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def top_dispatcher(net):  # type: ignore[no-untyped-def]
    """The network's top committee needs a dispatcher (the readiness page asks for one)."""
    join(net.admin, net.network, is_dispatcher=True)
    return net.admin


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        ({"lat": 34.0445, "lon": -118.2105, "precision_m": 20}, "boyle"),  # GPS in the area
        ({"zip_code": "90033"}, "boyle"),  # ZIP in the area
        ({"location_text": "Soto & 1st"}, "network"),  # address only
        ({}, "network"),  # nothing at all
        ({"zip_code": "94110"}, "network"),  # a place outside every area
    ],
)
def test_every_kind_of_place_lands_on_a_console(net, client_as, top_dispatcher, place, expected):
    r = report(**place)
    committee = getattr(net, expected)
    assert r.incident.committee == committee
    who = net.dani if expected == "boyle" else top_dispatcher
    assert r.incident.reference in console_html(client_as, who, committee)


def test_a_text_without_a_place_goes_to_the_committee_that_owns_the_number(client, net):
    Hotline.objects.create(committee=net.east, number=HOTLINE)
    text(client, "hay migra aqui en la tienda, vengan", number="+13235550199", to=HOTLINE)
    [r] = Report.objects.all()
    assert r.incident.needs_place
    assert r.incident.committee == net.east  # the number texted is East LA's hotline


def test_a_text_to_an_unknown_number_goes_to_the_top(client, net):
    text(client, "ICE at Soto and 1st")
    [r] = Report.objects.all()
    assert r.incident.needs_place and r.incident.committee == net.network


def test_an_unplaced_incident_is_listed_first_and_flagged(net, client_as):
    join(net.dani, net.network, is_dispatcher=True)
    placed = report(zip_code="90022")  # East LA: not dani's... put one in the network too
    Incident.objects.filter(pk=placed.incident_id).update(committee=net.network)
    unplaced = report(location_text="Whittier y Atlantic")
    # The placed one is newer, yet the one without a place comes first.
    Incident.objects.filter(pk=unplaced.incident_id).update(
        last_observed_at=timezone.now() - dt.timedelta(hours=1)
    )
    html = console_html(client_as, net.dani, net.network)
    refs = re.findall(r'data-incident="(\d+)"', html)
    assert refs[:2] == [str(unplaced.incident_id), str(placed.incident_id)]
    assert "Necesita un lugar" in html or "Needs a place" in html
    assert f"/incidents/{unplaced.incident.reference}/place/" in html


def test_placing_by_zip_moves_it_to_the_area_and_joins_the_same_event(
    net, client_as, top_dispatcher
):
    there = report(zip_code="90033")  # Boyle Heights' open incident
    lost = report(location_text="Cesar Chavez y Soto")
    assert lost.incident.committee == net.network
    client = client_as(top_dispatcher)
    url = f"/incidents/{lost.incident.reference}/place/"
    page = client.get(url)
    assert page.status_code == 200 and "Cesar Chavez y Soto" in page.content.decode()
    response = client.post(url, {"zip_code": "90033", "note": "por la dirección"})
    assert response.status_code == 302
    gone = Incident.objects.get(pk=lost.incident_id)
    kept = Incident.objects.get(pk=there.incident_id)
    assert gone.merged_into_id == kept.pk and gone.state == State.CLOSED
    assert kept.report_count == 2
    assert gone.timeline.filter(action=TimelineAction.PLACED).exists()
    assert AuditEntry.objects.filter(action="incidents.placed").count() == 1
    # The dispatcher's place went to the report that had none; the reporter's words stay.
    moved = Report.objects.get(pk=lost.pk)
    assert moved.zip_code == "90033" and moved.location_text == "Cesar Chavez y Soto"


def test_placing_where_nothing_matches_keeps_it_and_hands_it_to_the_area(net, top_dispatcher):
    lost = report(location_text="Atlantic y Whittier")
    now_in = place_incident(
        lost.incident,
        lat=34.0183,
        lon=-118.1553,
        precision_m=2500,
        zip_code="90022",
        actor=top_dispatcher,
    )
    assert now_in.pk == lost.incident_id
    assert now_in.committee == net.east and not now_in.needs_place
    with pytest.raises(CannotPlace):  # placed once: the console no longer offers it
        place_incident(now_in, lat=34.0, lon=-118.2, precision_m=2500, actor=top_dispatcher)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "one of the two"),
        ({"zip_code": "90033", "cell": "882a1072b5fffff"}, "one of the two"),
        ({"zip_code": "00000"}, "ZIP code we know"),
        ({"zip_code": "abc"}, "ZIP code we know"),
        ({"cell": "not-a-cell"}, "neighbourhood cell"),
    ],
)
def test_bad_places_are_refused_and_change_nothing(net, client_as, top_dispatcher, data, error):
    lost = report(location_text="en la tienda")
    client = client_as(top_dispatcher)
    client.cookies.load({"django_language": "en"})
    response = client.post(f"/incidents/{lost.incident.reference}/place/", data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert Incident.objects.get(pk=lost.incident_id).needs_place


def test_only_the_committees_dispatchers_may_place(net, client_as):
    lost = report(location_text="Soto y 1st")  # at the network's top: no dispatcher of ours
    for person in (net.dani, net.ana, net.vero, net.omar):
        response = client_as(person).post(
            f"/incidents/{lost.incident.reference}/place/", {"zip_code": "90033"}
        )
        assert response.status_code == 404
    assert Incident.objects.get(pk=lost.incident_id).needs_place


def test_left_unplaced_it_alerts_the_dispatchers_once(net, settings):
    settings.UNPLACED_ALERT_MINUTES = 10
    join(net.dani, net.network, is_dispatcher=True)
    lost = report(location_text="Soto y 1st")
    assert alert_unplaced() == 0  # not yet ten minutes
    later = timezone.now() + dt.timedelta(minutes=11)
    assert alert_unplaced(now=later) == 1
    assert alert_unplaced(now=later) == 0  # once
    [delivery] = Delivery.objects.filter(template="dispatch_unplaced")
    assert delivery.recipient == net.dani and delivery.language == "es"
    body = messages.render(delivery).body
    assert (
        lost.incident.reference in body and f"/incidents/{lost.incident.reference}/place/" in body
    )
