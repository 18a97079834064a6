"""The words next to the buttons that act say what pressing them will do, with the counts of
the code that acts (response.audience, the dispatch policy), in both languages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from defensa.accounts.models import Skill, SkillKind
from defensa.core import geo
from defensa.core.testing import join, make_user, sign_in
from defensa.dispatch import actions, consequences
from defensa.dispatch.actions import offer_to_nearest
from defensa.dispatch.models import AreaAlert
from defensa.dispatch.tests.helpers import BOYLE, report_incident, verifier
from defensa.notify.models import Delivery

pytestmark = pytest.mark.django_db
HERE = geo.cell_for(*BOYLE)


def _neighbours(net, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        person = make_user(f"vecino{i}")
        join(person, net.boyle)
        AreaAlert.objects.create(user=person, cell=HERE)


def test_the_console_says_how_many_confirming_alerts_and_then_alerts_that_many(net) -> None:
    _neighbours(net, 3)
    incident = report_incident()
    said = consequences.of_confirming(incident)
    assert said.text.startswith("Confirming alerts 3 members who asked for alerts here and ")
    assert "ZIP 90033" in said.text
    assert "0 legal observers or attorneys on call" in said.text and said.warn
    client = sign_in(Client(), net.dani)
    console = reverse("dispatch:console", args=[net.boyle.slug])
    page = client.get(console, {"incident": incident.pk}).content.decode()
    assert said.text in page
    assert "Nobody of the legal team is on call" in page
    client.post(
        reverse("dispatch:decide", args=[net.boyle.slug, incident.pk, "confirm"]),
        {"note": "two vans seen by Vero"},
    )
    assert Delivery.objects.filter(template="incident_alert").count() == 3


def test_one_member_and_one_observer_in_spanish(net) -> None:
    _neighbours(net, 1)
    observer = make_user("olga", on_duty=True)
    join(observer, net.boyle)
    Skill.objects.create(user=observer, kind=SkillKind.LEGAL_OBSERVER)
    incident = report_incident()
    said = consequences.of_confirming(incident)
    assert "1 member who asked" in said.text and "1 legal observer or attorney on call" in said.text
    assert not said.warn
    with translation.override("es"):
        es = consequences.of_confirming(incident).text
    assert "1 miembro que pidió alertas aquí" in es
    assert "1 persona de guardia del equipo legal" in es


def test_request_verification_says_how_many_verifiers_it_asks(net, settings) -> None:
    settings.DISPATCH_OFFER_SIZE = 4
    report_incident()
    client = sign_in(Client(), net.dani)
    page = client.get(reverse("dispatch:console", args=[net.boyle.slug])).content.decode()
    assert "Sends a one-tap link to the 4 nearest verifiers on duty not asked yet." in page
    assert 'class="btn primary" data-verb="verify"' in page


def test_the_verifiers_buttons_say_what_each_finding_does(net) -> None:
    _neighbours(net, 2)
    verifier("alma", net.boyle)
    incident = report_incident()
    [offer] = offer_to_nearest(incident, 1, actor=net.dani)
    link = reverse("dispatch:respond", args=[actions.offer_token(offer)])
    page = Client().get(link).content.decode()
    assert "The dispatcher sees that you are going." in page
    assert "We ask someone else." in page
    actions.accept_offer(offer)
    actions.mark_arrived(offer)
    page = Client().get(link).content.decode()
    assert "Confirming alerts 2 members who asked for alerts here" in page
    assert page.count("Nobody is alerted.") == 2  # not found, false alarm
    # Safe and alarming differ by shape and symbol, not colour alone.
    assert 'class="btn big alarm"' in page and page.count('class="btn big quiet"') == 2
