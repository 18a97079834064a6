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
