"""A phone-sized browser reports a raid in Spanish with "use my location", then retries."""

from __future__ import annotations

import pytest

from defensa.reports.models import Report


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_phone_reports_in_spanish_with_its_location(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 360, "height": 740},
        locale="es-US",
        geolocation={"latitude": 34.0431, "longitude": -118.2101, "accuracy": 25},
        permissions=["geolocation"],
        extra_http_headers={"Accept-Language": "es"},
    )
    page = context.new_page()
    try:
        page.goto("/report/new/")
        assert page.locator("h1").inner_text() == "Reporta lo que ves"
        page.get_by_role("button", name="Usar mi ubicación").click()
        page.get_by_text("Ubicación agregada").wait_for()
        page.get_by_label("Redada en un lugar de trabajo").check()
        page.get_by_label("¿Qué viste?").fill("Agentes en el estacionamiento")
        page.get_by_role("button", name="Mandar reporte").click()
        page.get_by_text("Gracias. Recibimos tu reporte.").wait_for()
        report = Report.objects.get()
        assert report.reference in page.content()
        assert report.location_kind == "gps" and report.precision_m == 25
        assert report.language == "es"
        # The phone retries the same post (reload of the receipt): still one report.
        page.reload()
        page.get_by_text("Gracias. Recibimos tu reporte.").wait_for()
        assert Report.objects.count() == 1
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_refused_location_says_so_and_the_form_still_works(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 360, "height": 740},
        extra_http_headers={"Accept-Language": "en"},
    )
    context.clear_permissions()  # the person says no when the browser asks
    page = context.new_page()
    try:
        page.goto("/report/new/")
        page.get_by_role("button", name="Use my location").click()
        page.get_by_text("Your phone did not share your location.").wait_for()
        assert page.locator("#id_lat").input_value() == ""
        page.get_by_label("Agents seen", exact=True).check()
        page.get_by_label("ZIP code").fill("90033")
        page.get_by_role("button", name="Send report").click()
        page.get_by_text("Thank you. We got your report.").wait_for()
        assert Report.objects.get().location_kind == "zip"
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_without_javascript_there_is_no_location_button(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/report/new/")
        assert not page.get_by_role("button", name="Use my location").is_visible()
        page.get_by_label("Agents seen", exact=True).check()
        page.get_by_label("Where? Address, cross streets or a place nearby").fill("Soto & 1st")
        page.get_by_role("button", name="Send report").click()
        page.get_by_text("Thank you. We got your report.").wait_for()
        assert Report.objects.get().location_kind == "cross_streets"
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_pin_dropped_on_the_map_places_the_report(browser, live_server, tile_server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
    )
    try:
        page.goto("/report/new/")
        canvas = page.locator("#pin-map .map-canvas")
        canvas.wait_for()
        page.wait_for_function("document.querySelectorAll('.leaflet-tile-loaded').length > 0")
        assert tile_server.requested, "the browser fetched no tile (CSP?)"
        canvas.click(position={"x": 150, "y": 120})
        page.get_by_text("Pin placed").wait_for()
        assert page.locator("#id_located_by").input_value() == "pin"
        accuracy = float(page.locator("#id_accuracy").input_value())
        assert 10 <= accuracy <= 2000  # a fingertip at the opening zoom
        page.get_by_label("Agents seen", exact=True).check()
        page.get_by_role("button", name="Send report").click()
        page.get_by_text("Thank you. We got your report.").wait_for()
        report = Report.objects.get()
        assert report.location_kind == "pin" and report.precision_m == round(accuracy)
        assert 33.5 < report.lat < 34.6 and -118.8 < report.lon < -117.7
        assert not refused, refused
    finally:
        context.close()


TWO_SCREENS = 2 * 844  # the phone of issue 16: 390 x 844 CSS px


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_essential_form_fits_in_two_phone_screens_and_counts_characters(  # type: ignore[no-untyped-def]
    browser, live_server
) -> None:
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        locale="es-US",
        extra_http_headers={"Accept-Language": "es"},
    )
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_role("link", name="Reporta lo que ves").click()  # one tap from home
        page.wait_for_url("**/report/new/")
        # Spanish (the longer language), JavaScript on (the location button shown), the
        # optional part folded: from the top of the page to the bottom of the send button.
        assert page.get_by_role("button", name="Usar mi ubicación").is_visible()
        assert not page.get_by_label("¿Cuántos agentes?").is_visible()
        send = page.get_by_role("button", name="Mandar reporte")
        box = send.bounding_box()
        assert box is not None
        bottom = box["y"] + box["height"] + page.evaluate("window.scrollY")
        assert bottom <= TWO_SCREENS, f"the essential form is {bottom} px tall"
        assert box["height"] >= 44

        # Characters left, counted as the person types, before the browser's limit.
        page.get_by_label("¿Qué viste?").fill("Agentes")
        page.get_by_text("Te quedan 1993 caracteres").wait_for()
        page.get_by_label("¿Qué viste?").fill("x" * 1999)
        page.get_by_text("Te queda 1 carácter").wait_for()
        # A one-line field shows its count only near its limit.
        page.locator("#id_location_text").fill("Soto")
        assert not page.locator("#id_location_text-left").is_visible()
        page.locator("#id_location_text").fill("y" * 190)
        page.get_by_text("Te quedan 10 caracteres").wait_for()
    finally:
        context.close()
