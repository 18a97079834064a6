"""SMS through the Twilio-compatible transport, against a local peer speaking its API."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.audit.models import AuditEntry
from defensa.notify import inbound as inbound_registry
from defensa.notify.actions import Address
from defensa.notify.models import AttemptStatus, Delivery, OptOut, Priority, Status
from defensa.notify.tests.helpers import make_due, queue, run_worker
from defensa.notify.tests.test_worker import windows_over
from defensa.notify.transports import Rate
from defensa.notify.transports.twilio import signature, signature_is_valid
from defensa.testing.peers.twilio import AUTH_TOKEN

pytestmark = pytest.mark.django_db

BASE = "https://defensa.example.org"


@pytest.fixture
def texter(net):  # type: ignore[no-untyped-def]
    """Dani: Spanish, text messages only."""
    net.dani.notify_sms = True
    net.dani.notify_email = False
    net.dani.save()
    return net.dani


def test_twilios_documented_signature_example():
    # The example from Twilio's webhook security documentation.
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert signature_is_valid("12345", url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not signature_is_valid(
        "12345", url, {**params, "Digits": "9"}, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    )
    assert not signature_is_valid("", url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")


def test_a_text_message_is_sent_in_the_persons_language(texter, twilio_peer):
    [delivery] = queue(texter, "sms:1", priority=Priority.URGENT)
    assert delivery.channel == "sms"

    run_worker()

    [sms] = twilio_peer.messages
    assert sms.to == texter.phone
    assert sms.body == (
        "Defensa: mensaje de prueba. Los mensajes te llegan a este número. "
        "Responde ALTO para dejar de recibirlos."
    )
    assert sms.status_callback == f"{BASE}/notify/twilio/status/"
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert delivery.transport == "twilio"
    assert delivery.provider_message_id == sms.sid


def test_429_is_retried_no_sooner_than_retry_after(texter, twilio_peer):
    twilio_peer.fail_next(429, code=20429, retry_after="120")
    [delivery] = queue(texter, "sms:429")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED
    assert delivery.next_attempt_at >= timezone.now() + timedelta(seconds=115)
    assert delivery.last_error == "SMS provider 429 (error 20429)"

    make_due()
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert len(twilio_peer.messages) == 1


def test_500_is_transient_and_400_invalid_number_is_permanent(texter, net, twilio_peer):
    twilio_peer.fail_next(500)
    [retried] = queue(texter, "sms:500")
    run_worker()
    retried.refresh_from_db()
    assert (retried.status, retried.attempts) == (Status.QUEUED, 1)

    twilio_peer.fail_next(400, code=21211)
    make_due()
    run_worker()
    retried.refresh_from_db()
    assert retried.status == Status.FAILED
    assert retried.last_error == "SMS provider 400 (error 21211)"
    assert list(retried.attempt_log.values_list("status", flat=True)) == [
        AttemptStatus.TRANSIENT,
        AttemptStatus.PERMANENT,
    ]


def test_a_slow_provider_that_does_not_answer_in_time_is_transient(texter, twilio_peer, settings):
    settings.TWILIO_TIMEOUT = 1
    twilio_peer.latency = 1.5
    [delivery] = queue(texter, "sms:slow")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED
    assert delivery.last_error.startswith("SMS provider unreachable")


def test_a_resend_after_a_crash_is_deduplicated_by_the_provider(texter, twilio_peer):
    [delivery] = queue(texter, "sms:dup")
    run_worker()
    # The worker "died" after the provider accepted the message: the row looks unsent.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENDING, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    run_worker()
    assert twilio_peer.requests == 2
    assert len(twilio_peer.messages) == 1  # the Idempotency-Key folded the second one
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert delivery.provider_message_id == twilio_peer.messages[0].sid


def test_the_number_rate_is_never_exceeded(texter, twilio_peer, settings):
    # The peer refuses anything faster than 8/s with a 429: none may happen.
    settings.TWILIO_RATE = "8/s"
    twilio_peer.rate_per_second = 8
    for n in range(10):
        queue(Address("sms", f"+1213555{n:04d}"), f"sms:rate:{n}", priority=Priority.BULK)
    started = time.time()
    run_worker(threads=1)
    assert len(twilio_peer.messages) == 10
    assert twilio_peer.requests == 10  # no 429 was needed
    assert windows_over([m.at for m in twilio_peer.messages], Rate(8, 1.0)) <= 8
    assert time.time() - started >= 1.0


def sign(path: str, params: dict[str, str]) -> dict[str, str]:
    return {"HTTP_X_TWILIO_SIGNATURE": signature(AUTH_TOKEN, f"{BASE}{path}", params)}


def inbound(client, number: str, body: str):  # type: ignore[no-untyped-def]
    params = {"From": number, "To": "+15005550006", "Body": body, "MessageSid": "SM" + "1" * 32}
    return client.post("/notify/twilio/inbound/", params, **sign("/notify/twilio/inbound/", params))


@pytest.mark.parametrize("word", ["STOP", "stop", "Alto", "UNSUBSCRIBE"])
def test_stop_words_opt_out_at_once_and_queued_messages_never_go(client, texter, twilio_peer, word):
    [queued] = queue(texter, f"sms:stop:{word}")

    response = inbound(client, texter.phone, f" {word} ")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert OptOut.objects.filter(channel="sms").count() == 1
    run_worker()
    assert twilio_peer.messages == []
    queued.refresh_from_db()
    assert queued.status == Status.CANCELLED
    # Nothing new is queued for the number either.
    assert queue(texter, f"sms:stop:{word}:after") == []


def test_alto_is_answered_in_spanish_and_stop_in_the_persons_language(client, net, twilio_peer):
    stop = inbound(client, net.ana.phone, "STOP").content.decode()  # ana reads English
    assert "you will get no more text messages" in stop
    alto = inbound(client, net.ana.phone, "ALTO").content.decode()
    assert "no recibirás más mensajes de texto" in alto
    # ALTO is Spanish alone: ana reads Spanish from now on; STOP (many languages') keeps it.
    net.ana.refresh_from_db()
    assert net.ana.language == "es"
    stop = inbound(client, net.ana.phone, "STOP").content.decode()
    assert "no recibirás más mensajes de texto" in stop


def test_start_opts_back_in(client, texter, twilio_peer):
    inbound(client, texter.phone, "STOP")
    reply = inbound(client, texter.phone, "START").content.decode()
    assert "recibirás mensajes de texto de nuevo" in reply  # dani reads Spanish
    assert OptOut.objects.count() == 0
    queue(texter, "sms:back")
    run_worker()
    assert len(twilio_peer.messages) == 1


def test_help_and_ayuda_answer_with_the_hotline(client, net, settings, twilio_peer):
    settings.HOTLINE_NUMBER = "+1 213 555 0100"
    help_reply = inbound(client, "+13235550142", "help").content.decode()
    ayuda_reply = inbound(client, "+13235550142", "AYUDA").content.decode()
    assert "Hotline: +1 213 555 0100" in help_reply
    assert "Línea de emergencia: +1 213 555 0100" in ayuda_reply
    assert OptOut.objects.count() == 0


def test_other_messages_get_an_empty_answer_and_store_nothing(
    client, net, twilio_peer, monkeypatch
):
    # notify itself stores nothing of a text; the reports app registers a handler that does.
    monkeypatch.setattr(inbound_registry, "_HANDLERS", [])
    before = AuditEntry.objects.count()
    response = inbound(client, "+13235550142", "ICE at the corner of 5th")
    assert response.content.decode().endswith("<Response></Response>")
    assert AuditEntry.objects.count() == before
    assert OptOut.objects.count() == 0


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_X_TWILIO_SIGNATURE": "bm90IGEgc2lnbmF0dXJl"}],
)
def test_an_unsigned_or_badly_signed_webhook_is_refused_and_stores_nothing(
    client, net, twilio_peer, headers
):
    before = AuditEntry.objects.count()
    params = {"From": net.ana.phone, "Body": "STOP"}
    assert client.post("/notify/twilio/inbound/", params, **headers).status_code == 403
    status = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "failed"}
    assert client.post("/notify/twilio/status/", status, **headers).status_code == 403
    assert OptOut.objects.count() == 0
    assert AuditEntry.objects.count() == before


def test_a_signature_for_other_parameters_is_refused(client, net, twilio_peer):
    signed = {"From": net.ana.phone, "Body": "HELP"}
    sent = {"From": net.ana.phone, "Body": "STOP"}
    response = client.post(
        "/notify/twilio/inbound/", sent, **sign("/notify/twilio/inbound/", signed)
    )
    assert response.status_code == 403
    assert OptOut.objects.count() == 0


def test_an_undelivered_status_callback_fails_the_delivery_visibly(
    client, client_as, net, texter, twilio_peer
):
    [delivery] = queue(texter, "sms:undelivered")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT

    params = {
        "MessageSid": delivery.provider_message_id,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
    }
    path = "/notify/twilio/status/"
    assert client.post(path, params, **sign(path, params)).status_code == 204

    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.last_error == "carrier: undelivered (error 30003)"
    html = client_as(net.ana).get("/notify/deliveries/").content.decode()
    assert "carrier: undelivered (error 30003)" in html


def test_a_delivered_status_callback_changes_nothing(client, texter, twilio_peer):
    [delivery] = queue(texter, "sms:delivered")
    run_worker()
    delivery.refresh_from_db()
    params = {"MessageSid": delivery.provider_message_id, "MessageStatus": "delivered"}
    path = "/notify/twilio/status/"
    assert client.post(path, params, **sign(path, params)).status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT


_field = st.text(max_size=200)


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(
        st.sampled_from(["From", "Body", "To", "MessageSid", "MessageStatus", "ErrorCode", "X"]),
        _field,
    ),
    path=st.sampled_from(["/notify/twilio/inbound/", "/notify/twilio/status/"]),
)
def test_any_signed_webhook_input_gets_a_clear_answer_never_a_500(
    client, net, twilio_peer, params, path
):
    params = {k: v.replace("\x00", "") for k, v in params.items()}
    response = client.post(path, params, **sign(path, params))
    assert response.status_code in (200, 204)


def test_a_text_that_is_not_a_keyword_goes_to_the_registered_handlers(
    client, net, twilio_peer, monkeypatch
):
    seen: list[inbound_registry.InboundText] = []
    monkeypatch.setattr(inbound_registry, "_HANDLERS", [])
    inbound_registry.register_handler(seen.append)
    inbound_registry.register_handler(seen.append)  # once is enough
    inbound(client, "+13235550142", "ICE at the corner of 5th")
    inbound(client, "+13235550142", "STOP")
    assert [(t.number, t.body, t.sid) for t in seen] == [
        ("+13235550142", "ICE at the corner of 5th", "SM" + "1" * 32)
    ]


def test_a_non_ascii_signature_is_refused_not_a_500(client, net, twilio_peer):
    params = {"From": net.ana.phone, "Body": "STOP"}
    response = client.post("/notify/twilio/inbound/", params, HTTP_X_TWILIO_SIGNATURE="é" * 28)
    assert response.status_code == 403
    assert OptOut.objects.count() == 0
