"""Neighbourhood names: the network names its ZIP codes, and alerts and pages say them."""

from __future__ import annotations

import pytest
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defensa.committees.areas import area_label, cell_words
from defensa.committees.models import PlaceName
from defensa.core import geo
from defensa.incidents.areas import where_label
from defensa.incidents.models import Incident, State

from .helpers import actions_named

pytestmark = pytest.mark.django_db


def _names() -> dict[str, str]:
    return dict(PlaceName.objects.values_list("zip_code", "name"))


def test_an_admin_names_neighbourhoods_and_it_is_audited(net, client_as):
    client = client_as(net.admin)
    page = client.get("/network/")
    assert b"/network/place-names/" in page.content
    response = client.post(
        "/network/place-names/", {"names": "90033 Boyle Heights\n\n90022,  East   LA\n"}
    )
    assert response.status_code == 302
    assert _names() == {"90033": "Boyle Heights", "90022": "East LA"}
    assert actions_named("network.place_names")
    shown = client.get("/network/place-names/").content.decode()
    assert "90033 Boyle Heights" in shown and "90022 East LA" in shown

    # The list is replaced as a whole: a ZIP left out loses its name.
    client.post("/network/place-names/", {"names": "90033 Boyle Heights"})
    assert _names() == {"90033": "Boyle Heights"}


@pytest.mark.parametrize(
    "text, error",
    [
        ("99999 Nowhere", "is not a ZIP code we know"),
        ("90033", "a name of 1 to 80 letters"),
        ("90033 " + "x" * 81, "a name of 1 to 80 letters"),
        ("90033 Boyle\x07Heights", "a name of 1 to 80 letters"),
        ("90033 Boyle\x00Heights", "Null characters are not allowed"),
        ("90033 Boyle Heights\n90033 Aliso Village", "is named twice"),
        ("\n".join(f"90033 n{i}" for i in range(2001)), "At most 2000 lines"),
    ],
)
def test_bad_names_change_nothing(net, client_as, text, error):
    PlaceName.objects.create(zip_code="90022", name="East LA")
    response = client_as(net.admin).post("/network/place-names/", {"names": text})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert _names() == {"90022": "East LA"}


def test_only_network_admins_name_places(net, client_as, client):
    for person in (net.ana, net.lucia, net.vero):
        assert client_as(person).get("/network/place-names/").status_code == 404
        assert (
            client_as(person).post("/network/place-names/", {"names": "90033 X"}).status_code == 404
        )
    assert client.get("/network/place-names/").status_code in (302, 404)
    assert _names() == {}


def test_alerts_and_pages_say_the_name_beside_the_zip(net):
    cell = geo.cell_for(*geo.zip_centroid("90033"))
    before = cell_words(cell)
    assert "90033" in before and "Boyle Heights" not in before
    PlaceName.objects.create(zip_code="90033", name="Boyle Heights")
    after = cell_words(cell)
    assert after.startswith("Boyle Heights · ") and "90033" in after
    now = timezone.now()
    lat, lon = geo.zip_centroid("90033")
    incident = Incident.objects.create(
        reference="T00001", committee=net.boyle, state=State.NEW, category="raid",
        lat=lat, lon=lon, first_observed_at=now, last_observed_at=now,
    )  # fmt: skip
    assert where_label(incident).startswith("Boyle Heights · ")
    with translation.override("es"):
        assert where_label(incident).startswith("Boyle Heights · ")
    assert area_label(net.vero) == "Boyle Heights · ZIP 90033"


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=400))
def test_no_names_make_a_500(net, client_as, text):
    response = client_as(net.admin).post("/network/place-names/", {"names": text})
    assert response.status_code in (302, 400)
