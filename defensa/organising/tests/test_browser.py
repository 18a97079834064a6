"""The organising journey in a real browser, on a phone: an organiser records a workplace and
adds its workers one by one, assesses some, sets a structure test; half the unit take part
by texting the keyword (through the local Twilio-speaking peer, answered in their language);
the organiser sees predicted vs actual, and the coordinator the committee's readiness.

People are signed in by handing the browser a testing.sign_in()'d session cookie."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from defensa.core.testing import sign_in
from defensa.notify.tests.helpers import run_worker
from defensa.organising.models import Participation, StructureTest, Via, Worker, Workplace
from defensa.organising.tests.helpers import make_organiser, text

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
WORKERS = [
    ("Rosa", "+13235550141", "es", "Kitchen", "1"),
    ("Luis", "+13235550142", "es", "Kitchen", "2"),
    ("Mei", "+13235550143", "en", "Kitchen", "2"),
    ("Ana P.", "+13235550144", "en", "Packing", "3"),
    ("Jo", "+13235550145", "en", "Packing", ""),
    ("Sam", "+13235550146", "en", "Packing", ""),
]


def _context(browser, live_server, user):  # type: ignore[no-untyped-def]
    session = sign_in(Client(), user)
    ctx = browser.new_context(base_url=live_server.url, viewport=PHONE)
    ctx.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
    )
    return ctx


def test_organising_journey(transactional_db, net, browser, live_server, twilio_peer):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    ctx = _context(browser, live_server, olga)
    page = ctx.new_page()

    # 1. A workplace, from the organiser's page.
    page.goto("/organising/")
    page.click(f"a[href='/organising/c/{net.boyle.slug}/workplaces/new/']")
    page.fill("#id_employer", "Sunrise Foods")
    page.fill("#id_site", "Vernon plant")
    page.fill("#id_headcount", "12")
    page.fill("#id_departments", "Kitchen\nPacking")
    page.fill("#id_shifts", "Day")
    page.click("button.primary.big")
    page.wait_for_selector("#add-contact")
    place = Workplace.objects.get()

    # 2. Its workers, one by one (no spreadsheet), then four of them assessed.
    for name, phone, language, department, _value in WORKERS:
        page.fill("#id_name", name)
        page.fill("#id_phone", phone)
        page.select_option("#id_language", language)
        page.select_option("#id_department", department)
        page.select_option("#id_shift", "Day")
        page.click("#add-contact button.primary.big")
        page.wait_for_selector(".msg.success")
    assert Worker.objects.filter(workplace=place).count() == 6
    for worker in Worker.objects.filter(workplace=place).order_by("pk"):
        value = dict((w[0], w[4]) for w in WORKERS)[_name(worker)]
        if not value:
            continue
        row = page.locator(f"#worker-{worker.pk}")
        row.locator("select").select_option(value)
        row.locator("input[name=reason]").fill("Talked at the break")
        row.locator("button").click()
        page.wait_for_selector(".msg.success")
    assert "4 of about 12 workers assessed (33%)" in _chart(page, place)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # 3. A structure test for the whole unit.
    page.goto(f"/organising/c/{net.boyle.slug}/tests/new/")
    page.fill("#id_title", "Sign the heat petition")
    page.select_option("#id_kind", "petition")
    page.check(f"input[name=workplaces][value='{place.pk}']")
    page.fill("#id_goal_percent", "50")
    tomorrow = timezone.now().astimezone(net.boyle.tz) + dt.timedelta(days=2)
    page.fill("#id_deadline_date", tomorrow.date().isoformat())
    page.fill("#id_deadline_time", "17:00")
    page.click("button.primary.big")
    page.wait_for_selector("#predicted")
    test = StructureTest.objects.get()

    # 4. Half the unit text the keyword: Rosa and Luis in Spanish, Jo in English.
    for body, number in (
        (f"ACCION {test.code}", "+13235550141"),
        (f"accion {test.code.lower()}", "+13235550142"),
        (f"ACTION {test.code}", "+13235550145"),
    ):
        assert text(Client(), body, number=number).status_code == 200
    assert Participation.objects.filter(test=test, via=Via.SMS).count() == 3
    run_worker()
    answers = {m.to: m.body for m in twilio_peer.messages}
    assert "gracias, ya cuentas" in answers["+13235550141"]
    assert "thank you, you are counted" in answers["+13235550145"]

    # 5. Predicted vs actual: three assessed 1 or 2 were expected; Mei did not come, Jo
    # (never assessed) did.
    page.goto(f"/organising/tests/{test.pk}/")
    assert "Predicted from the assessments (1 and 2): 3 (50%)" in page.inner_text("#predicted")
    assert "Took part: 3 (50%)" in page.inner_text("#actual")
    assert "1 worker assessed as supportive did not take part" in page.inner_text("#inflated")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    ctx.close()

    # 6. The coordinator, who is no organiser, sees the readiness: counts, no names.
    coordinator = _context(browser, live_server, net.ana).new_page()
    coordinator.goto(f"/organising/c/{net.boyle.slug}/readiness/")
    figures = coordinator.inner_text("#last-test")
    assert "Sign the heat petition: 3 of 6 took part (50%; goal 50%, predicted 50%)" in figures
    assert "Rosa" not in coordinator.content()
    coordinator.context.close()


def _name(worker: Worker) -> str:
    from defensa.organising.actions import display_name

    return display_name(worker)


def _chart(page, place: Workplace) -> str:  # type: ignore[no-untyped-def]
    page.goto(f"/organising/workplaces/{place.pk}/")
    return page.inner_text("#coverage")


def test_a_worker_says_so_on_their_own_link_in_spanish(transactional_db, net, browser, live_server):  # type: ignore[no-untyped-def]
    from defensa.organising import actions
    from defensa.organising.tests.helpers import contact, structure_test, workplace

    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    rosa = contact(place, olga, "Rosa", phone="+13235550141", language="es")
    test = structure_test(net.boyle, olga, [place], title="Firma la petición")
    ctx = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="es-ES")
    page = ctx.new_page()
    page.goto(f"/organising/t/{actions.link_token(test, rosa)}/")
    assert "¿Participaste?" in page.content() and "Rosa" not in page.content()
    page.click("button.primary.big")
    page.wait_for_selector("#counted")
    assert "Ya cuentas" in page.inner_text("#counted")
    assert Participation.objects.get().via == Via.WEB
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    ctx.close()
