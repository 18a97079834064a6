"""Reports by text message, through the signed Twilio-compatible webhook."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.audit.models import AuditEntry
from defensa.incidents.models import Incident
from defensa.notify import messages
from defensa.notify.models import Delivery
from defensa.notify.transports.twilio import signature
from defensa.reports.models import Report, SmsText
from defensa.reports.sms import detect_language, read_place, sender_digest
from defensa.testing.peers.twilio import AUTH_TOKEN

pytestmark = pytest.mark.django_db

BASE = "https://defensa.example.org"
PATH = "/notify/twilio/inbound/"
PHONE = "+13235550142"
_sids = itertools.count(1)


@pytest.fixture(autouse=True)
def _webhook(settings):  # type: ignore[no-untyped-def]
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = BASE
    settings.SMS_THREAD_MINUTES = 30


def new_sid() -> str:
    return f"SM{next(_sids):032d}"


def text(
    client, body: str, *, number: str = PHONE, sid: str | None = None, to: str = "+15005550006"
):  # type: ignore[no-untyped-def]
    params = {"From": number, "To": to, "Body": body, "MessageSid": sid or new_sid()}
    header = signature(AUTH_TOKEN, f"{BASE}{PATH}", params)
    return client.post(PATH, params, HTTP_X_TWILIO_SIGNATURE=header)


def test_a_text_becomes_a_report_with_a_reply_in_english(client, net):
    response = text(client, "ICE agents at the corner of Cesar Chavez and Soto, 90033")

    assert response.status_code == 200
    [report] = Report.objects.all()
    assert report.channel == "sms"
    assert report.category == "sighting"
    assert report.zip_code == "90033"
    assert report.location_kind == "zip"  # the ZIP places it; the streets stay as text
    assert report.location_text == "Cesar Chavez & Soto"
    assert report.language == "en"
    assert report.incident.report_count == 1
    [reply] = Delivery.objects.all()
    assert (reply.channel, reply.resolve_address(), reply.language) == ("sms", PHONE, "en")
    assert reply.recipient is None
    assert reply.context == {"reference": report.reference}
    body = messages.render(reply).body
    assert report.reference in body
    assert f"{BASE}/rights/" in body
    assert "we got your report" in body


def test_a_spanish_text_gets_a_spanish_reply(client, net):
    text(client, "Hay migra en la esquina de Soto y 1st, están deteniendo gente")
    [report] = Report.objects.all()
    assert report.language == "es"
    assert report.location_kind == "cross_streets"
    assert report.location_text == "Soto & 1st"
    body = messages.render(Delivery.objects.get()).body
    assert "recibimos tu reporte" in body
    assert report.reference in body


def test_a_provider_retry_never_makes_a_second_report_or_reply(client, net):
    sid = new_sid()
    text(client, "ICE raid at 5th and Main", sid=sid)
    text(client, "ICE raid at 5th and Main", sid=sid)
    assert Report.objects.count() == 1
    assert SmsText.objects.count() == 1
    assert Delivery.objects.count() == 1


def test_follow_ups_from_the_same_phone_join_the_report_within_the_window(client, net):
    text(client, "ICE at the car wash on Soto")
    text(client, "3 vans, about 10 agents")
    [report] = Report.objects.all()
    assert report.description == "ICE at the car wash on Soto\n3 vans, about 10 agents"
    assert Delivery.objects.count() == 1  # one answer per report, not per text
    assert AuditEntry.objects.filter(action="reports.sms_follow_up").count() == 1

    # Another phone is another report.
    text(client, "ICE at the car wash on Soto", number="+13235550199")
    assert Report.objects.count() == 2


def test_after_the_window_a_text_starts_a_new_report(client, net, settings):
    text(client, "ICE at the car wash on Soto")
    SmsText.objects.update(received_at=timezone.now() - dt.timedelta(minutes=31))
    text(client, "Now a checkpoint on Whittier and Lorena")
    assert Report.objects.count() == 2
    assert Delivery.objects.count() == 2


def test_the_phone_number_is_stored_only_as_a_keyed_hash(client, net, settings):
    text(client, "ICE at 5th and Main")
    [row] = SmsText.objects.all()
    assert row.sender == sender_digest(PHONE)
    assert "3235550142" not in row.sender
    assert "3235550142" not in Report.objects.get().description
    # The same number written differently is the same sender.
    assert sender_digest("+1 (323) 555-0142") == sender_digest("+13235550142")
    # Keyed by a digest key under the master key, not by SECRET_KEY (which a default install
    # keeps beside the database): without the master key the hash cannot be computed, so it
    # cannot be looked up by number. (More in notify/tests/test_optout_digests.py.)
    settings.SECRET_KEY = "another-key-for-this-test-only-0123456789abcdef"
    assert sender_digest(PHONE) == row.sender
    from defensa.core import crypto
    from defensa.core.crypto.keys import generate_entry, master_keys

    settings.MASTER_KEYS = f"{master_keys().current_id}:" + generate_entry("x").split(":")[1]
    with pytest.raises(crypto.WrongKey):
        sender_digest(PHONE)


def test_keywords_are_not_reports(client, net):
    text(client, "STOP")
    text(client, "AYUDA")
    assert Report.objects.count() == 0


@pytest.mark.parametrize("headers", [{}, {"HTTP_X_TWILIO_SIGNATURE": "bm90IGEgc2lnbmF0dXJl"}])
def test_a_bad_signature_gets_403_and_stores_nothing(client, net, headers):
    params = {"From": PHONE, "Body": "ICE at 5th and Main", "MessageSid": new_sid()}
    before = AuditEntry.objects.count()
    assert client.post(PATH, params, **headers).status_code == 403
    assert Report.objects.count() == Incident.objects.count() == SmsText.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize(
    ("body", "zip_code", "streets"),
    [
        ("ICE at 5th and Main", "", "5th & Main"),
        ("agents at Soto & 1st now", "", "Soto & 1st"),
        ("migra en Soto y Whittier", "", "Soto & Whittier"),
        ("retén en Cesar Chavez con Lorena", "", "Cesar Chavez & Lorena"),
        ("corner of Olympic and Lorena", "", "Olympic & Lorena"),
        ("esquina de Soto y 4th", "", "Soto & 4th"),
        ("checkpoint 90022", "90022", ""),
        ("agents and vehicles everywhere", "", ""),
        ("call 213555010 now", "", ""),
    ],
)
def test_reading_a_place(body: str, zip_code: str, streets: str) -> None:
    place = read_place(body)
    assert (place.zip_code, place.cross_streets) == (zip_code, streets)


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("ICE is at the corner", "en"),
        ("la migra está en la esquina", "es"),
        ("Hay agentes aquí", "es"),
        ("agents near the school please help", "en"),
        ("ayuda", "es"),
    ],
)
def test_language_from_word_lists(body: str, language: str) -> None:
    assert detect_language(body) == language


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.text(max_size=400),
    number=st.one_of(st.just(PHONE), st.text(max_size=20)),
    sid=st.one_of(st.text(alphabet="SMab0123456789", min_size=8, max_size=70), st.just("")),
)
def test_any_signed_text_gets_an_answer_never_a_500_nor_partial_rows(
    client, net, body, number, sid
):
    params = {"From": number, "To": "+15005550006", "Body": body, "MessageSid": sid}
    params = {k: v.replace("\x00", "") for k, v in params.items()}
    header = signature(AUTH_TOKEN, f"{BASE}{PATH}", params)
    response = client.post(PATH, params, HTTP_X_TWILIO_SIGNATURE=header)
    assert response.status_code == 200
    # Whole or nothing: every report has its incident, its text row and one reply.
    reports = Report.objects.count()
    assert SmsText.objects.values("report").distinct().count() == reports
    assert Delivery.objects.filter(template="report_received").count() == reports
    assert sum(Incident.objects.values_list("report_count", flat=True)) == reports


@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.text(max_size=200),
    sid=st.text(alphabet="SMab0123456789", min_size=10, max_size=40),
    given_signature=st.text(max_size=40),
)
def test_any_text_with_a_wrong_signature_is_refused_and_stores_nothing(
    client, net, body, sid, given_signature
):
    params = {"From": PHONE, "Body": body.replace("\x00", ""), "MessageSid": sid}
    if given_signature == signature(AUTH_TOKEN, f"{BASE}{PATH}", params):
        return  # a correct guess is not a wrong signature (and will not happen)
    before = AuditEntry.objects.count()
    header = given_signature.encode("ascii", "ignore").decode()
    response = client.post(PATH, params, HTTP_X_TWILIO_SIGNATURE=header)
    assert response.status_code == 403
    assert Report.objects.count() == SmsText.objects.count() == Delivery.objects.count() == 0
    assert AuditEntry.objects.count() == before
