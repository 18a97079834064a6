"""SMS through a self-hosted HTTP gateway, against a local peer speaking its API."""

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
from defensa.notify.transports import Rate, transport_for_channel
from defensa.notify.transports.gateway import message_id, signature, signature_is_valid
from defensa.notify.transports.gateway.webhook import e164
from defensa.testing.peers.gateway import SIGNING_KEY, WEBHOOK_TOKEN

pytestmark = pytest.mark.django_db

URL = f"/notify/gateway/{WEBHOOK_TOKEN}/"


@pytest.fixture
def texter(net):  # type: ignore[no-untyped-def]
    """Dani: Spanish, text messages only."""
    net.dani.notify_sms = True
    net.dani.notify_email = False
    net.dani.save()
    return net.dani


def post(client, peer, event: str, payload: dict, url: str = URL, **kw):  # type: ignore[no-untyped-def]
    body, headers = peer.webhook(event, payload, **kw)
    return client.post(url, body, content_type="application/json", **headers)


def received(client, peer, number: str, text: str, event_id: str = "Ey6ECgOkVVFjz3CL48B8C"):  # type: ignore[no-untyped-def]
    payload = {
        "messageId": "abc123",
        "message": text,
        "phoneNumber": number,
        "simNumber": 1,
        "receivedAt": "2026-06-22T15:46:11.000-07:00",
    }
    return post(client, peer, "sms:received", payload, event_id=event_id)


def test_the_apps_documented_signature_scheme():
    body, stamp = b'{"event":"sms:received"}', "1700000000"
    expected = signature("key", body, stamp)
    assert len(expected) == 64 and int(expected, 16) >= 0  # hex HMAC-SHA256
    assert signature_is_valid("key", body, stamp, expected, now=1700000100)
    assert signature_is_valid("key", body, stamp, expected.upper(), now=1700000100)
    assert not signature_is_valid("key", body + b" ", stamp, expected, now=1700000100)
    assert not signature_is_valid("other", body, stamp, expected, now=1700000100)
    # Replayed later than five minutes: refused.
    assert not signature_is_valid("key", body, stamp, expected, now=1700000000 + 301)
    assert not signature_is_valid("", body, stamp, expected, now=1700000100)


@pytest.mark.parametrize(
    ("given_number", "stored"),
    [
        ("+12135550123", "+12135550123"),
        ("2135550123", "+12135550123"),
        ("12135550123", "+12135550123"),
        ("(213) 555-0123", "+12135550123"),
        ("0052 55 1234 5678", "+525512345678"),
        ("5512", "5512"),
    ],
)
def test_sender_numbers_become_e164(given_number, stored):
    assert e164(given_number) == stored


def test_the_gateway_carries_sms_only_when_twilio_is_not_configured(
    gateway_peer, twilio_peer, settings
):
    assert transport_for_channel("sms").kind == "twilio"
    settings.TWILIO_ACCOUNT_SID = ""
    assert transport_for_channel("sms").kind == "gateway"


def test_a_text_goes_through_the_phone_in_the_persons_language(texter, gateway_peer):
    [delivery] = queue(texter, "gw:1", priority=Priority.NORMAL)
    run_worker()
    [sms] = gateway_peer.messages
    assert sms.to == texter.phone
    assert sms.body.startswith("Defensa: mensaje de prueba.")
    assert sms.priority == 0
    assert sms.id == message_id(delivery.idempotency_key)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.transport) == (Status.SENT, "gateway")
    assert delivery.provider_message_id == sms.id


def test_an_urgent_alert_jumps_the_phones_own_queue(texter, gateway_peer):
    queue(texter, "gw:urgent", priority=Priority.URGENT)
    run_worker()
    assert gateway_peer.messages[0].priority == 100


def test_429_waits_for_retry_after_and_500_is_transient(texter, gateway_peer):
    gateway_peer.fail_next(429, retry_after="120")
    [delivery] = queue(texter, "gw:429")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED
    assert delivery.next_attempt_at >= timezone.now() + timedelta(seconds=115)

    gateway_peer.fail_next(503, message="phone busy")
    make_due()
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED
    assert delivery.last_error == "SMS gateway 503 (phone busy)"

    make_due()
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert len(gateway_peer.messages) == 1


@pytest.mark.parametrize(
    ("status", "reason"),
    [(400, "SMS gateway 400 (Invalid phone number)"), (401, "SMS gateway 401 (Unauthorized)")],
)
def test_a_refused_number_or_bad_credentials_fail_for_good(
    texter, gateway_peer, settings, status, reason
):
    if status == 401:
        settings.SMS_GATEWAY_PASSWORD = "wrong"  # noqa: S105
    else:
        gateway_peer.fail_next(400, message="Invalid phone number")
    [delivery] = queue(texter, f"gw:{status}")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.last_error == reason
    assert list(delivery.attempt_log.values_list("status", flat=True)) == [AttemptStatus.PERMANENT]


def test_a_recipient_the_phone_rejects_at_once_is_permanent(texter, gateway_peer):
    gateway_peer.refuse_recipient_next("RESULT_ERROR_GENERIC_FAILURE")
    [delivery] = queue(texter, "gw:refused")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert "RESULT_ERROR_GENERIC_FAILURE" in delivery.last_error


def test_an_unreachable_phone_is_transient(texter, gateway_peer, settings):
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9"  # nothing listens on discard
    [delivery] = queue(texter, "gw:down")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED
    assert delivery.last_error.startswith("SMS gateway unreachable")


def test_a_slow_phone_times_out_as_transient(texter, gateway_peer, settings):
    settings.SMS_GATEWAY_TIMEOUT = 1
    gateway_peer.latency = 1.5
    [delivery] = queue(texter, "gw:slow")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED


def test_a_resend_after_a_crash_carries_the_same_id_and_is_one_message(texter, gateway_peer):
    [delivery] = queue(texter, "gw:dup")
    run_worker()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENDING, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    run_worker()
    assert gateway_peer.requests == 2
    assert len(gateway_peer.messages) == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT


def test_409_for_an_id_the_gateway_already_holds_counts_as_sent(texter, gateway_peer):
    gateway_peer.fail_next(409, message="message already exists")
    [delivery] = queue(texter, "gw:409")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert delivery.provider_message_id == message_id(delivery.idempotency_key)


def test_the_sims_rate_is_never_exceeded(gateway_peer, settings):
    settings.SMS_GATEWAY_RATE = "2/s"
    for n in range(5):
        queue(Address("sms", f"+1213555{n:04d}"), f"gw:rate:{n}", priority=Priority.BULK)
    started = time.time()
    run_worker(threads=1)
    assert len(gateway_peer.messages) == 5
    assert windows_over([m.at for m in gateway_peer.messages], Rate(2, 1.0)) <= 2
    assert time.time() - started >= 1.5


def test_the_default_rate_is_one_text_every_six_seconds():
    from django.conf import settings

    from defensa.notify.transports.gateway import GatewayTransport

    assert settings.SMS_GATEWAY_RATE == "1/6s"
    assert GatewayTransport().rate == Rate(1, 6.0)


# The webhook ---------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["STOP", "alto", "Unsubscribe"])
def test_stop_through_the_gateway_opts_out_at_once_and_is_confirmed(
    client, texter, gateway_peer, word
):
    [queued] = queue(texter, f"gw:stop:{word}")
    response = received(client, gateway_peer, texter.phone[2:], f" {word} ")  # 10 digits
    assert response.status_code == 204
    assert OptOut.objects.filter(channel="sms").count() == 1

    run_worker()
    queued.refresh_from_db()
    assert queued.status == Status.CANCELLED
    # The only text that went out is the confirmation, in Spanish (dani, or ALTO).
    [reply] = gateway_peer.messages
    assert reply.to == texter.phone
    assert "no recibirás más mensajes de texto" in reply.body
    assert reply.priority == 100
    assert queue(texter, f"gw:stop:{word}:after") == []


def test_a_retried_stop_webhook_is_answered_once(client, net, gateway_peer):
    received(client, gateway_peer, "+13235550142", "STOP", event_id="same-event")
    received(client, gateway_peer, "+13235550142", "STOP", event_id="same-event")
    run_worker()
    assert len(gateway_peer.messages) == 1
    assert "you will get no more text messages" in gateway_peer.messages[0].body


def test_start_and_ayuda_through_the_gateway(client, net, settings, gateway_peer):
    settings.HOTLINE_NUMBER = "+1 213 555 0100"
    received(client, gateway_peer, "+13235550142", "STOP", event_id="e1")
    received(client, gateway_peer, "+13235550142", "START", event_id="e2")
    received(client, gateway_peer, "+13235550142", "AYUDA", event_id="e3")
    assert OptOut.objects.count() == 0
    run_worker()
    bodies = sorted(m.body for m in gateway_peer.messages)
    assert len(bodies) == 3
    assert any("Línea de emergencia: +1 213 555 0100" in b for b in bodies)
    assert any("you will get text messages again" in b for b in bodies)


def test_other_texts_go_to_the_report_intake_handlers(client, net, gateway_peer, monkeypatch):
    seen: list[inbound_registry.InboundText] = []
    monkeypatch.setattr(inbound_registry, "_HANDLERS", [])
    inbound_registry.register_handler(seen.append)
    received(client, gateway_peer, "3235550142", "ICE at the corner of 5th", event_id="r1")
    received(client, gateway_peer, "3235550142", "ICE at the corner of 5th", event_id="r1")
    [first, again] = seen
    assert (first.number, first.body) == ("+13235550142", "ICE at the corner of 5th")
    assert first.sid == again.sid  # a gateway retry: the handler can tell
    assert first.sid.startswith("GW") and first.sid.isalnum()
    assert gateway_peer.messages == []


def test_a_gateway_text_opens_a_report(client, net, gateway_peer):
    from defensa.reports.models import Report

    received(client, gateway_peer, "3235550142", "Hay agentes en la esquina 90023", event_id="rep")
    assert Report.objects.filter(channel="sms").count() == 1


def test_sms_failed_fails_the_delivery_visibly(client, client_as, net, texter, gateway_peer):
    [delivery] = queue(texter, "gw:undelivered")
    run_worker()
    delivery.refresh_from_db()
    payload = {
        "messageId": delivery.provider_message_id,
        "phoneNumber": texter.phone,
        "failedAt": "2026-02-20T15:30:00Z",
        "reason": "RESULT_ERROR_LIMIT_EXCEEDED",
    }
    assert post(client, gateway_peer, "sms:failed", payload).status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.last_error == "carrier: failed (error RESULT_ERROR_LIMIT_EXCEEDED)"
    html = client_as(net.ana).get("/notify/deliveries/").content.decode()
    assert "RESULT_ERROR_LIMIT_EXCEEDED" in html


def test_sent_and_delivered_change_nothing(client, texter, gateway_peer):
    [delivery] = queue(texter, "gw:delivered")
    run_worker()
    delivery.refresh_from_db()
    for event in ("sms:sent", "sms:delivered"):
        payload = {"messageId": delivery.provider_message_id, "phoneNumber": texter.phone}
        assert post(client, gateway_peer, event, payload).status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT


def _nothing_stored(before: int) -> None:
    assert OptOut.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize(
    ("url", "kw"),
    [
        ("/notify/gateway/wrong-token/", {}),
        (f"/notify/gateway/{WEBHOOK_TOKEN}x/", {}),
        (URL, {"key": "not-the-signing-key"}),
        (URL, {"timestamp": 1_000_000_000}),  # a stale (replayed) signature
    ],
)
def test_a_bad_token_or_signature_is_refused_and_stores_nothing(client, net, gateway_peer, url, kw):
    before = AuditEntry.objects.count()
    payload = {"message": "STOP", "phoneNumber": net.ana.phone}
    assert post(client, gateway_peer, "sms:received", payload, url=url, **kw).status_code == 403
    _nothing_stored(before)


def test_without_a_signing_key_the_token_alone_authenticates(client, net, gateway_peer, settings):
    settings.SMS_GATEWAY_SIGNING_KEY = ""
    body, _headers = gateway_peer.webhook(
        "sms:received", {"message": "STOP", "phoneNumber": net.ana.phone}
    )
    assert client.post(URL, body, content_type="application/json").status_code == 204
    assert OptOut.objects.count() == 1


def test_no_token_configured_refuses_every_webhook(client, net, gateway_peer, settings):
    settings.SMS_GATEWAY_WEBHOOK_TOKEN = ""
    before = AuditEntry.objects.count()
    payload = {"message": "STOP", "phoneNumber": net.ana.phone}
    assert (
        post(client, gateway_peer, "sms:received", payload, url="/notify/gateway/x/").status_code
        == 403
    )
    _nothing_stored(before)


def test_the_webhook_takes_only_post(client, gateway_peer):
    assert client.get(URL).status_code == 405


_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=80),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=8,
)
_payload = st.fixed_dictionaries(
    {},
    optional={
        "message": _json_value | st.text(max_size=300),
        "phoneNumber": _json_value | st.from_regex(r"\+?[0-9 ()-]{0,18}", fullmatch=True),
        "messageId": _json_value | st.from_regex(r"[A-Za-z0-9_-]{0,70}", fullmatch=True),
        "reason": _json_value,
    },
)
_event = st.fixed_dictionaries(
    {},
    optional={
        "event": st.sampled_from(["sms:received", "sms:sent", "sms:delivered", "sms:failed", "x"])
        | _json_value,
        "id": _json_value,
        "deviceId": _json_value,
        "payload": _payload | _json_value,
    },
)


@hsettings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event=_event | _json_value, raw=st.binary(max_size=60), use_raw=st.booleans())
def test_any_signed_webhook_gets_a_clear_answer_never_a_500(
    client, net, gateway_peer, event, raw, use_raw
):
    import json

    body = raw if use_raw else json.dumps(event).encode()
    stamp = str(int(time.time()))
    headers = {"HTTP_X_SIGNATURE": signature(SIGNING_KEY, body, stamp), "HTTP_X_TIMESTAMP": stamp}
    response = client.post(URL, body, content_type="application/json", **headers)
    assert response.status_code in (204, 400)


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    token=st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters="/?#%"),
        min_size=1,
        max_size=60,
    ),
    signature_header=st.text(max_size=70),
    stamp=st.text(max_size=14),
    text=st.sampled_from(["STOP", "ALTO", "ICE on 5th", "START"]),
)
def test_any_bad_token_or_signature_stores_nothing(
    client, net, gateway_peer, token, signature_header, stamp, text
):
    before = AuditEntry.objects.count()
    body, good = gateway_peer.webhook(
        "sms:received", {"message": text, "phoneNumber": net.ana.phone}
    )
    # Either the token is wrong, or the signature headers are made up.
    if token == WEBHOOK_TOKEN:
        token += "x"
    wrong_token = client.post(
        f"/notify/gateway/{token}/", body, content_type="application/json", **good
    )
    assert wrong_token.status_code in (403, 404)
    headers = {
        "HTTP_X_SIGNATURE": signature_header.replace("\x00", ""),
        "HTTP_X_TIMESTAMP": stamp.replace("\x00", ""),
    }
    forged = client.post(URL, body, content_type="application/json", **headers)
    assert forged.status_code == 403
    _nothing_stored(before)


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(forged=st.text(max_size=70).map(lambda t: t.replace("\x00", "")))
def test_a_forged_signature_with_a_fresh_timestamp_is_refused_never_a_500(
    client, net, gateway_peer, forged
):
    before = AuditEntry.objects.count()
    body, good = gateway_peer.webhook(
        "sms:received", {"message": "STOP", "phoneNumber": "+13235550142"}
    )
    if forged.strip().lower() == good["HTTP_X_SIGNATURE"]:
        forged += "x"
    headers = {"HTTP_X_SIGNATURE": forged, "HTTP_X_TIMESTAMP": good["HTTP_X_TIMESTAMP"]}
    response = client.post(URL, body, content_type="application/json", **headers)
    assert response.status_code == 403
    _nothing_stored(before)


def test_a_non_ascii_signature_or_unicode_digits_are_refused(client, net, gateway_peer):
    body, good = gateway_peer.webhook(
        "sms:received", {"message": "STOP", "phoneNumber": "+13235550142"}
    )
    for headers in (
        {"HTTP_X_SIGNATURE": "é" * 64, "HTTP_X_TIMESTAMP": good["HTTP_X_TIMESTAMP"]},
        {"HTTP_X_SIGNATURE": good["HTTP_X_SIGNATURE"], "HTTP_X_TIMESTAMP": "²" * 10},
    ):
        assert client.post(URL, body, content_type="application/json", **headers).status_code == 403
    assert OptOut.objects.count() == 0
