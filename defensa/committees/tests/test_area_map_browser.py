"""The area page's map, with the operator's tile server: tap a neighbourhood to choose it."""

from __future__ import annotations

import pytest

from defensa.committees.models import Committee
from defensa.core import geo, testing
from defensa.core.tests.tiles import tile_server

__all__ = ["tile_server"]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(browser, live_server, user, **extra):  # type: ignore[no-untyped-def]
    from django.test import Client

    client = testing.sign_in(Client(), user)
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        extra_http_headers={"Accept-Language": "en"},
        **extra,
    )
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context


def test_a_tapped_neighbourhood_is_ticked_and_saved(browser, live_server, tile_server):  # type: ignore[no-untyped-def]
    net = testing.build_network()
    context = _signed_in(browser, live_server, net.admin)
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
    )
    home = geo.cell_for(*geo.zip_centroid("90033"))  # type: ignore[misc]
    try:
        page.goto("/network/boyle-heights/area/")
        page.locator(".leaflet-tile-loaded").first.wait_for()
        assert tile_server.requested, "the browser fetched no tile (CSP?)"
        box = page.locator(f'input[name="nearby_cells"][value="{home}"]')
        assert not box.is_checked()
        page.locator(f'path[data-cell="{home}"]').click()
        assert box.is_checked()
        assert "chosen" in (page.locator(f'path[data-cell="{home}"]').get_attribute("class") or "")
        page.get_by_label("English").check()
        page.get_by_role("button", name="Save the area").click()
        page.get_by_text("The committee's area is saved.").wait_for()
        assert Committee.objects.get(pk=net.boyle.pk).h3_cells == [home]
        assert not refused, refused
    finally:
        context.close()


def test_without_a_tile_server_the_page_loads_no_map(browser, live_server):  # type: ignore[no-untyped-def]
    net = testing.build_network()
    context = _signed_in(browser, live_server, net.admin)
    page = context.new_page()
    try:
        page.goto("/network/boyle-heights/area/")
        assert page.locator("#area-map").count() == 0
        assert page.locator('script[src*="leaflet"]').count() == 0
        assert page.locator('input[name="nearby_cells"]').count() > 0  # the list still works
    finally:
        context.close()
