"""After each consequential action the console says what it did, from what it did; the panel
shows the reports' facts; report text cannot reverse itself with bidirectional controls."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import Client

from defensa.accounts.models import Skill, SkillKind
from defensa.core import geo
from defensa.core.testing import join, make_user
from defensa.dispatch import actions, sms
from defensa.dispatch.actions import offer_to_nearest
from defensa.dispatch.models import AreaAlert, Offer
from defensa.dispatch.tests.helpers import BOYLE, report_incident, verifier
from defensa.evidence.models import PublicPage
from defensa.notify.models import Delivery
from defensa.reports.actions import receive_report
from defensa.reports.tests.conftest import (  # noqa: F401 - autouse fixtures, used by name
    _fresh_flood_gate,
    _media_in_tmp,
    _plain_static_storage,
)
from defensa.reports.tests.test_form import gps_jpeg

pytestmark = pytest.mark.django_db
HERE = geo.cell_for(*BOYLE)
RLO, PDF = "\u202e", "\u202c"


def console(client, incident, **headers):  # type: ignore[no-untyped-def]
    page = client.get(f"/dispatch/boyle-heights/?incident={incident.pk}", **headers)
    assert page.status_code == 200
    return page.content.decode()


def said(page: str) -> str:
    """The page's text as a person reads it (tags dropped, entities decoded, spaces joined)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def subscriber(name: str, net, **fields):  # type: ignore[no-untyped-def]
    person = make_user(name, **fields)
    join(person, net.boyle)
    AreaAlert.objects.create(user=person, cell=HERE)
    return person


# After confirming ---------------------------------------------------------------------


def test_confirming_says_whom_it_alerted_counted_from_the_deliveries_it_made(net, client_as):
    observer = make_user("olga", on_duty=True)
    join(observer, net.boyle)
    Skill.objects.create(user=observer, kind=SkillKind.LEGAL_OBSERVER)
    for name in ("nico", "nora", "noel"):
        subscriber(name, net)
    PublicPage.objects.create(committee=net.boyle, show_verified=True)
    incident = report_incident()
    client = client_as(net.dani)
    done = client.post(
        f"/dispatch/boyle-heights/{incident.pk}/confirm/", {"note": "Steward saw them"}, follow=True
    )
    text = said(done.content.decode())

    legal = Delivery.objects.filter(template="incident_confirmed_legal")
    members = Delivery.objects.filter(template="incident_alert")
    assert legal.values("recipient").distinct().count() == 1
    assert members.values("recipient").distinct().count() == 3
    assert "Alerted: legal team on call: 1 · members: 3 · public page: on." in text
    assert "Nobody of the legal team" not in text
    # The timeline keeps ids and counts, never names; the words are rendered from it. The
    # legal team's deliveries by id; the area alert (thousands, in bulk) by its counts.
    entry = incident.timeline.get(detail__step="alerted")
    assert sorted(entry.detail["deliveries"]) == sorted(legal.values_list("pk", flat=True))
    assert (entry.detail["legal"], entry.detail["members"]) == (1, 3)
    assert "nico" not in str(entry.detail).lower() and "olga" not in str(entry.detail).lower()
    panel = said(console(client, incident))
    assert "Alerts sent" in panel and "legal team on call: 1 · members: 3" in panel


def test_nobody_legal_on_call_is_a_warning_and_what_did_not_happen_says_why(net, client_as):
    incident = report_incident()
    client = client_as(net.dani)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    done = client.post(
        f"/dispatch/boyle-heights/{incident.pk}/confirm/", {"note": "Lo vio"}, follow=True
    )
    page = done.content.decode()
    text = said(page)
    assert not Delivery.objects.filter(
        template__in=["incident_confirmed_legal", "incident_alert"]
    ).exists()
    assert (
        "Avisados: equipo legal de guardia: 0 · miembros: 0 · página pública: desactivada."
    ) in text
    assert "Nadie del equipo legal estaba de guardia" in text
    assert re.search(r'class="msg warning">Nadie del equipo legal', page)  # said louder
    assert "nadie pidió alertas en esta zona" in text
    assert "el comité no ha activado la página" in text


def test_a_member_without_any_channel_is_not_counted_as_alerted(net):
    subscriber("nico", net)
    subscriber("mute", net, notify_email=False)  # chose no way to be reached
    incident = report_incident()
    actions.confirm_and_respond(incident, actor=net.dani, note="seen")
    entry = incident.timeline.get(detail__step="alerted")
    assert Delivery.objects.filter(template="incident_alert").count() == 1
    assert (entry.detail["members"], entry.detail["unreachable"]) == (1, 1)


# After a verification request ---------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Asked 3 verifiers: 2 speak Spanish."),
        ("es", "Se pidió a 3 verificadores: 2 hablan español."),
    ],
)
def test_requesting_verification_says_how_many_were_asked_and_speak_the_reports_language(
    net, client_as, language, expected
):
    verifier("alma", net.boyle, language="es")
    verifier("beto", net.boyle, language="es")
    verifier("carl", net.boyle)
    incident = report_incident(language="es")
    client = client_as(net.dani)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    done = client.post(f"/dispatch/boyle-heights/{incident.pk}/verify/", follow=True)
    assert Offer.objects.filter(incident=incident).count() == 3
    assert expected in said(done.content.decode())
    assert expected in said(console(client, incident))  # and the timeline says it too


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Asked 1 verifier: 1 speaks Spanish. The committee asks 3; nobody else on duty"),
        (
            "es",
            "Se pidió a 1 verificador(a): 1 habla español. El comité pide 3; no había nadie más",
        ),
    ],
)
def test_one_verifier_is_said_in_the_singular(net, client_as, language, expected):
    verifier("alma", net.boyle, language="es")
    incident = report_incident(language="es")
    client = client_as(net.dani)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    done = client.post(f"/dispatch/boyle-heights/{incident.pk}/verify/", follow=True)
    assert Offer.objects.filter(incident=incident).count() == 1
    assert expected in said(done.content.decode())


def test_nobody_on_duty_is_said_as_a_warning(net, client_as):
    incident = report_incident()
    client = client_as(net.dani)
    done = client.post(f"/dispatch/boyle-heights/{incident.pk}/verify/", follow=True)
    page = done.content.decode()
    assert not Offer.objects.filter(incident=incident).exists()
    assert "Nobody on duty could be asked: call someone." in said(page)
    assert 'class="msg warning"' in page


# The timeline in words ----------------------------------------------------------------


def test_the_timeline_speaks_words_not_state_codes(net, client_as):
    alma = verifier("alma", net.boyle)
    incident = report_incident()
    [offer] = offer_to_nearest(incident, 1, actor=net.dani)
    actions.accept_offer(offer)
    sms._message(offer, "llego en 5", "k1")  # a free text by SMS goes on the timeline
    actions.mark_arrived(offer)
    actions.report_finding(offer, "confirmed", note="Six agents")
    assert alma.display_name == "Alma"
    client = client_as(net.dani)
    text = said(console(client, incident))
    for words in (
        "Alma accepted",
        "Alma sent a text message llego en 5",
        "Alma arrived",
        "State: Confirmed",
        "State: Being verified",
    ):
        assert words in text
    assert "verifying" not in text.split("Timeline", 1)[1].split("Actions", 1)[0]
    es = said(console(client, incident, HTTP_ACCEPT_LANGUAGE="es"))
    assert "Alma aceptó" in es and "Alma llegó" in es and "Estado: Confirmado" in es


# The facts the dispatcher decides on --------------------------------------------------


def _report(**fields):  # type: ignore[no-untyped-def]
    data = {
        "category": "workplace_raid",
        "lat": BOYLE[0],
        "lon": BOYLE[1],
        "precision_m": 50,
        "zip_code": "90033",
        "location_text": "Soto and 1st",
        "observed_at": dt.datetime.now(dt.UTC),
        "language": "es",
        "description": "agents at the door",
        **fields,
    }
    return receive_report(data, channel="web", idempotency_key=uuid.uuid4().hex).report


def test_the_panel_shows_the_reports_facts_and_thumbnails_through_the_audited_file_view(
    net, client_as
):
    report = _report(agents=6, vehicles=2, agency="ICE")
    incident = report.incident
    verifier("alma", net.boyle)
    [offer] = offer_to_nearest(incident, 1, actor=net.dani)
    actions.accept_offer(offer)
    actions.mark_arrived(offer)
    Client().post(
        f"/r/{actions.offer_token(offer)}/",
        {
            "step": "not_found",
            "note": "gone",
            "photos": [SimpleUploadedFile("a.jpg", gps_jpeg(), "image/jpeg")],
        },
    )
    client = client_as(net.dani)
    page = console(client, incident)
    text = said(page)
    assert "up to 6 agents counted" in text and "up to 2 vehicles counted" in text
    assert "Agency ICE" in text
    assert "1 photo · 0 videos" in text
    assert "Languages Spanish" in text and "Channel Web form" in text
    [src] = re.findall(r'<img src="([^"]+)"', page)
    assert src.startswith(f"/incidents/{incident.reference}/evidence/")
    from defensa.audit.models import AuditEntry

    before = AuditEntry.objects.count()
    assert client.get(src).status_code == 200
    assert AuditEntry.objects.count() == before + 1  # opening it is written down
    es = said(console(client, incident, HTTP_ACCEPT_LANGUAGE="es"))
    assert "hasta 6 agentes contados" in es and "1 foto · 0 videos" in es


# Bidirectional controls ---------------------------------------------------------------


def test_the_filter_removes_every_bidi_control_and_keeps_right_to_left_letters():
    from defensa.core.templatetags.defensa_text import BIDI_CONTROLS

    controls = "".join(sorted(BIDI_CONTROLS))
    assert len(controls) == 5 + 4 + 2 + 1
    rendered = Template("{% load defensa_text %}{{ text|bidi_safe }}").render(
        Context({"text": f"a{controls}b <i> مرحبا"})
    )
    assert rendered == "ab &lt;i&gt; مرحبا"  # still escaped; Arabic letters kept


def test_an_unclosed_right_to_left_override_cannot_reverse_what_a_dispatcher_reads(net, client_as):
    tricky = f"Soto and 1st {RLO}gnidliub der eht ta"
    report = _report(description=tricky, location_text=f"{RLO}ts1 dna otoS", agency=f"{RLO}ECI")
    incident = report.incident
    client = client_as(net.dani)
    # A report without a place waits on the place page, its words shown there.
    unplaced = receive_report(
        {
            "category": "workplace_raid",
            "location_text": f"{RLO}ts1 dna otoS",
            "observed_at": dt.datetime.now(dt.UTC),
            "description": tricky,
        },
        channel="operator",
        idempotency_key=uuid.uuid4().hex,
        committee=net.boyle,
    ).report.incident
    assert unplaced.needs_place and unplaced.committee == net.boyle
    pages = {
        "console": console(client, incident),
        "place": client.get(f"/incidents/{unplaced.reference}/place/").content.decode(),
        "record": client.get(f"/incidents/{incident.reference}/record/").content.decode(),
    }
    for name, page in pages.items():
        assert RLO not in page and PDF not in page, name
        assert "Soto and 1st gnidliub der eht ta" in html.unescape(page), name
