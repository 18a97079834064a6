"""Place suggestions from the operator's own geocoder (a loopback Nominatim or Pelias).

Without one configured nothing leaves the server and the manual path is the only one; with
one, an address becomes up to five neighbourhoods to place the incident in; a slow, broken
or lying geocoder gets plain words and changes nothing."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.audit.models import AuditEntry
from defensa.core import geo, geocoder
from defensa.core.testing import join
from defensa.incidents.models import Incident
from defensa.reports.actions import receive_report

pytestmark = pytest.mark.django_db
SOTO = (34.0442, -118.2102)


@pytest.fixture
def lost(net):  # type: ignore[no-untyped-def]
    """A Spanish web report with cross streets only; the admin dispatches for the network."""
    join(net.admin, net.network, is_dispatcher=True)
    report = receive_report(
        {"category": "sighting", "language": "es", "location_text": "Soto and 1st"},
        channel="web",
        idempotency_key=uuid.uuid4().hex,
    ).report
    assert report.incident.needs_place
    return report.incident


def _url(incident: Incident) -> str:
    return f"/incidents/{incident.reference}/place/"


def test_without_a_geocoder_the_page_offers_only_the_manual_path(net, lost, client_as, settings):
    settings.GEOCODER_URL = ""
    client = client_as(net.admin)
    html = client.get(_url(lost)).content.decode()
    assert 'name="lookup"' not in html and 'name="zip_code"' in html
    # Asking anyway is refused in words, and nothing is sent anywhere.
    before = AuditEntry.objects.count()
    refused = client.post(_url(lost), {"lookup": "1", "text": "Soto and 1st"})
    assert refused.status_code == 400
    assert "No geocoder is set up" in refused.content.decode()
    assert Incident.objects.get(pk=lost.pk).needs_place
    assert AuditEntry.objects.count() == before
    with pytest.raises(geocoder.GeocoderFailed):
        geocoder.suggest("Soto and 1st")


def test_a_nominatim_suggestion_places_the_incident_in_its_neighbourhood(
    net, lost, client_as, geocoder_peer
):
    client = client_as(net.admin)
    page = client.get(_url(lost)).content.decode()
    # The reporter's own words are already in the box.
    assert 'name="lookup"' in page and 'value="Soto and 1st"' in page
    assert geocoder_peer.asked == []  # nothing is asked until the dispatcher asks
    found = client.post(_url(lost), {"lookup": "1", "text": "  Soto   and 1st "})
    assert found.status_code == 200
    html = found.content.decode()
    assert geocoder_peer.asked == ["Soto and 1st"]
    cell = geo.cell_for(*SOTO)
    assert f'value="{cell}"' in html and "Boyle Heights, Los Angeles" in html
    assert "ZIP 90033" in html  # the neighbourhood in our own words
    assert Incident.objects.get(pk=lost.pk).needs_place  # looking up changes nothing
    placed = client.post(_url(lost), {"cell": cell, "zip_code": ""})
    assert placed.status_code == 302
    now = Incident.objects.get(pk=lost.pk)
    assert not now.needs_place and now.committee in (net.boyle, net.east)  # by its area
    # Placed at the neighbourhood's centre, never at the geocoder's point.
    assert (round(now.lat, 5), round(now.lon, 5)) == tuple(
        round(v, 5) for v in geo.cell_center(cell)
    )


def test_several_places_are_offered_one_per_neighbourhood(net, lost, client_as, geocoder_peer):
    html = (
        client_as(net.admin)
        .post(_url(lost), {"lookup": "1", "text": "Whittier and Atlantic"})
        .content.decode()
    )
    assert html.count("Place it in this neighbourhood") == 2
    assert "East Los Angeles" in html and "Long Beach" in html


def test_pelias_speaks_its_own_protocol(net, lost, client_as, geocoder_peer, settings):
    settings.GEOCODER_KIND = "pelias"
    found = geocoder.suggest("Soto and 1st")
    assert [s.cell for s in found] == [geo.cell_for(*SOTO)]
    assert "Soto Street" in found[0].label


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("slow", "did not answer in time"),
        ("error", "could not be reached"),
        ("garbage", "could not be read"),
        ("wrong", "could not be read"),
    ],
)
def test_a_failing_geocoder_gets_plain_words_and_changes_nothing(
    net, lost, client_as, geocoder_peer, mode, words
):
    geocoder_peer.mode = mode
    geocoder_peer.slow_seconds = 2.5  # past the one-second timeout the fixture sets
    before = AuditEntry.objects.count()
    response = client_as(net.admin).post(_url(lost), {"lookup": "1", "text": "Soto and 1st"})
    assert response.status_code == 200
    html = response.content.decode()
    assert words in html
    assert 'name="zip_code"' in html  # the manual path is right there
    assert Incident.objects.get(pk=lost.pk).needs_place
    assert AuditEntry.objects.count() == before


def test_a_geocoder_that_is_down_is_said_so(net, lost, client_as, settings):
    settings.GEOCODER_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.GEOCODER_TIMEOUT_SECONDS = 1
    html = client_as(net.admin).post(_url(lost), {"lookup": "1", "text": "Soto"}).content.decode()
    assert "could not be reached" in html


def test_nothing_found_is_said_and_an_empty_box_is_refused(net, lost, client_as, geocoder_peer):
    client = client_as(net.admin)
    html = client.post(_url(lost), {"lookup": "1", "text": "nowhere at all"}).content.decode()
    assert "found no such place" in html
    empty = client.post(_url(lost), {"lookup": "1", "text": "   "})
    assert empty.status_code == 400
    assert geocoder_peer.asked == ["nowhere at all"]


def test_only_those_who_may_place_it_may_look_it_up(net, lost, client_as, geocoder_peer):
    # Boyle Heights' dispatcher cannot see the network's incident.
    response = client_as(net.dani).post(_url(lost), {"lookup": "1", "text": "Soto and 1st"})
    assert response.status_code == 404
    assert geocoder_peer.asked == []


@hsettings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=400))
def test_any_text_gets_an_answer_not_an_error(net, lost, client_as, geocoder_peer, text):
    response = client_as(net.admin).post(_url(lost), {"lookup": "1", "text": text})
    assert response.status_code in (200, 400)
    assert Incident.objects.get(pk=lost.pk).needs_place
