"""Maps are off unless an operator configures a tile server; then only map pages admit it."""

from __future__ import annotations

import h3
import pytest
from django.core.exceptions import ImproperlyConfigured

from defensa.core import maps
from defensa.core.middleware import CONTENT_SECURITY_POLICY
from defensa.dispatch.tests.helpers import BOYLE, report_incident, verifier

pytestmark = pytest.mark.django_db

TILES = "https://tiles.example.org/osm/{z}/{x}/{y}.png"


def _directive(response, name: str) -> str:  # type: ignore[no-untyped-def]
    policy = response["Content-Security-Policy"]
    return next(d for d in policy.split("; ") if d.startswith(name + " "))


def test_without_tiles_nothing_changes(client, net, client_as):
    form = client.get("/report/new/")
    html = form.content.decode()
    assert form["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "leaflet" not in html and "pin-map" not in html and "map.css" not in html
    assert "reports/locate.js" in html  # the location button stays
    report_incident()
    console = client_as(net.dani).get("/dispatch/boyle-heights/")
    assert console["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "leaflet" not in console.content.decode()
    assert "data-spot" not in console.content.decode()
    assert "90033" in console.content.decode()  # neighbourhood names remain


def test_with_tiles_the_map_pages_admit_exactly_the_tile_origin(client, net, client_as, settings):
    settings.MAP_TILE_URL = TILES
    settings.MAP_TILE_ATTRIBUTION = "© OpenStreetMap contributors"
    form = client.get("/report/new/")
    assert _directive(form, "img-src") == "img-src 'self' data: https://tiles.example.org"
    assert _directive(form, "connect-src") == "connect-src 'self' https://tiles.example.org"
    assert _directive(form, "script-src") == "script-src 'self'"
    html = form.content.decode()
    assert "defensa/vendor/leaflet/leaflet.js" in html and "reports/pin.js" in html
    assert f'data-tiles="{TILES}"' in html
    assert "© OpenStreetMap contributors" in html
    assert "<script>" not in html
    # Other pages, public or not, never name the tile server.
    for path in ("/", "/rights/", "/accounts/login/"):
        assert client.get(path)["Content-Security-Policy"] == CONTENT_SECURITY_POLICY

    verifier("alma", net.boyle)
    incident = report_incident()
    console = client_as(net.dani).get("/dispatch/boyle-heights/")
    assert "https://tiles.example.org" in _directive(console, "img-src")
    page = console.content.decode()
    assert "dispatch/console-map.js" in page
    # The incident sits at its neighbourhood cell's centre, not at the report's point.
    lat, lon = h3.cell_to_latlng(h3.latlng_to_cell(*BOYLE, 7))
    assert f'data-spot="{lat:.5f},{lon:.5f}"' in page
    assert f"{BOYLE[0]:.5f}" not in page
    assert 'data-boundary="' in page and "on duty here: Alma" in page
    fragment = client_as(net.dani).get("/dispatch/boyle-heights/queue/").content.decode()
    assert incident.reference in fragment and "data-spot" in fragment


@pytest.mark.parametrize(
    "url",
    [
        "ftp://tiles.example.org/{z}/{x}/{y}.png",
        "https://tiles.example.org/tiles.png",
        "https://{s}.tiles.example.org/{z}/{x}/{y}.png",
        "https://tiles.example.org/{z}/{x}/{y}.png; script-src *",
        "/{z}/{x}/{y}.png",
    ],
)
def test_a_bad_tile_template_is_refused_loudly(url, settings):
    maps._parse.cache_clear()
    settings.MAP_TILE_URL = url
    with pytest.raises(ImproperlyConfigured):
        maps.tile_origin()


def test_the_tile_origin_keeps_its_port(settings):
    settings.MAP_TILE_URL = "http://127.0.0.1:8088/{z}/{x}/{y}.png"
    assert maps.tile_origin() == "http://127.0.0.1:8088"


def test_the_vendored_leaflet_keeps_its_licence(client):
    from django.contrib.staticfiles import finders

    for name in ("leaflet.js", "leaflet.css", "LICENSE", "README.md"):
        assert finders.find(f"defensa/vendor/leaflet/{name}"), name
    licence = open(finders.find("defensa/vendor/leaflet/LICENSE")).read()  # noqa: SIM115
    assert "BSD 2-Clause" in licence
    assert "Leaflet 1.9.4" in open(finders.find("defensa/vendor/leaflet/leaflet.js")).read(300)  # noqa: SIM115
