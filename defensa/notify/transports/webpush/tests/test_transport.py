"""Web Push through a local push service that decrypts what it gets with the device's keys."""

from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.db import transaction
from django.test import override_settings

from defensa.audit.models import AuditEntry
from defensa.notify.actions import chosen_channels, queue_message
from defensa.notify.models import AttemptStatus, Channel, Delivery, Priority, Status
from defensa.notify.tests.helpers import make_due, queue, run_worker
from defensa.notify.tests.test_worker import windows_over
from defensa.notify.transports import Rate, enabled_channels
from defensa.notify.transports.webpush import keys, transport
from defensa.notify.transports.webpush.models import PushSent, PushSubscription
from defensa.testing.peers.webpush import b64d, b64e, decrypt

pytestmark = pytest.mark.django_db

# RFC 8291 Appendix A: published test data, not credentials.
RFC_PLAINTEXT = b"When I grow up, I want to be a watermelon"
RFC_UA_PUBLIC = (
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
)
RFC_UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
RFC_AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
RFC_SALT = "DGv6ra1nlYgDCS1FRnbzlw"
RFC_AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
RFC_BODY = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYW"
    "AmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSx"
    "sj_Qulcy4a-fN"
)


def _key(raw: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(b64d(raw), "big"), ec.SECP256R1())


def test_encryption_matches_rfc_8291_appendix_a_byte_for_byte():
    body = transport.encrypt(
        RFC_PLAINTEXT, RFC_UA_PUBLIC, RFC_AUTH, sender=_key(RFC_AS_PRIVATE), salt=b64d(RFC_SALT)
    )
    assert b64e(body) == RFC_BODY


def test_the_peer_decrypts_rfc_8291_appendix_a():
    # The peer's own decryption, checked against the RFC, so it proves something below.
    assert decrypt(b64d(RFC_BODY), _key(RFC_UA_PRIVATE), b64d(RFC_AUTH)) == RFC_PLAINTEXT
    tampered = bytearray(b64d(RFC_BODY))
    tampered[-1] ^= 1
    with pytest.raises(Exception):  # noqa: B017 (InvalidTag)
        decrypt(bytes(tampered), _key(RFC_UA_PRIVATE), b64d(RFC_AUTH))


def test_push_is_on_only_with_a_vapid_key(settings):
    settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    assert "push" not in enabled_channels()
    settings.WEBPUSH_VAPID_PRIVATE_KEY = keys.generate()[0]
    assert "push" in enabled_channels()


def test_a_person_with_push_on_and_a_device_is_alerted_on_it(net, subscribe, push_peer):
    assert Channel.PUSH not in chosen_channels(net.dani)  # no device yet
    device = subscribe(net.dani)
    assert net.dani.notify_push  # subscribing a device turns the channel on
    assert Channel.PUSH in chosen_channels(net.dani)

    deliveries = queue(net.dani, "push:1", priority=Priority.URGENT)
    push = next(d for d in deliveries if d.channel == Channel.PUSH)
    run_worker()

    push.refresh_from_db()
    assert push.status == Status.SENT, push.last_error
    assert push.transport == "webpush"
    assert push.provider_message_id == "push:1/1"
    [got] = push_peer.for_device(device)
    # Decrypted by the peer with the device's private key: encrypted to that device.
    assert got.payload["title"] == "Defensa"
    assert "notificación de prueba" in got.payload["body"]  # Dani reads Spanish
    assert not got.payload["body"].startswith("Defensa:")  # the title says it already
    assert got.payload["url"] == "/accounts/"
    assert got.payload["tag"] == transport.topic(push.idempotency_key)
    assert got.headers["urgency"] == "high"
    assert got.headers["ttl"] == "3600"
    assert got.headers["topic"] == transport.topic(push.idempotency_key)
    assert got.claims["sub"] == "mailto:alerts@defensa.test"
    assert push_peer.refused == []


def test_every_device_of_the_person_gets_it(net, subscribe, push_peer):
    phone, laptop = subscribe(net.mo), subscribe(net.mo)
    queue(net.mo, "push:2", channels=[Channel.PUSH], priority=Priority.BULK)
    run_worker()
    assert len(push_peer.for_device(phone)) == 1
    assert len(push_peer.for_device(laptop)) == 1
    assert push_peer.received[0].headers["urgency"] == "low"
    delivery = Delivery.objects.get(channel=Channel.PUSH)
    assert delivery.provider_message_id == "push:2/2"
    assert PushSent.objects.filter(delivery=delivery).count() == 2


def test_the_rate_slot_comes_after_the_work_right_before_the_request(
    net, subscribe, push_peer, settings
):
    # Reading the devices, encrypting, signing and connecting take a varying time: done after
    # the slot, a slow hand-over and the quick ones after it reached the push service closer
    # than their slots (21 in one second at 20/s in pledge_trigger). The push service must see
    # each connection first, then the request at the slot.
    # The peer stamps each request with the kernel's receive time (`arrived`): its thread
    # shares this (busy) process with the worker, and when it got round to reading a request
    # is not when the request reached the push service.
    seen: list[tuple[str, float]] = []

    class Noting(push_peer.handler()):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            seen.append(("connected", time.time()))
            super().setup()

        def do_POST(self) -> None:  # noqa: N802
            seen.append(("request", self.arrived))
            super().do_POST()

    server = push_peer.serve(handler=Noting)  # devices made from here on point at it
    try:
        subscribe(net.mo)
        settings.WEBPUSH_RATE = "2/s"
        for n in range(3):
            queue(net.mo, f"push:slot:{n}", channels=[Channel.PUSH], priority=Priority.BULK)
        run_worker()
    finally:
        server.shutdown()
        server.server_close()

    assert len(push_peer.received) == 3
    assert Delivery.objects.filter(status=Status.SENT).count() == 3
    # One send at a time: each connection, then its request.
    assert [what for what, _at in seen] == ["connected", "request"] * 3
    requests = [at for what, at in seen if what == "request"]
    assert windows_over(requests, Rate(2, 1.0)) <= 2
    # The second and third deliveries waited about half a second for their slots, with the
    # connection already open: the wait sits between connecting and the request.
    times = [at for _what, at in seen]
    waits = [times[n + 1] - times[n] for n in range(0, 6, 2)]
    assert min(waits[1:]) >= 0.3, waits


def test_a_gone_subscription_is_removed_and_is_a_permanent_failure(net, subscribe, push_peer):
    device = subscribe(net.mo)
    push_peer.answer_next(410, device=device)
    [delivery] = queue(net.mo, "push:3", channels=[Channel.PUSH])
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert "410" in delivery.last_error
    assert delivery.attempts == 1
    assert not PushSubscription.objects.filter(user=net.mo).exists()
    assert AuditEntry.objects.filter(action="webpush.subscription_gone").count() == 1
    # No device left: push is no longer one of Mo's channels.
    assert Channel.PUSH not in chosen_channels(net.mo)


def test_404_also_means_gone_but_other_devices_still_get_it(net, subscribe, push_peer):
    dead, alive = subscribe(net.mo), subscribe(net.mo)
    push_peer.answer_next(404, device=dead)
    [delivery] = queue(net.mo, "push:4", channels=[Channel.PUSH])
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert delivery.provider_message_id == "push:1/2"
    assert len(push_peer.for_device(alive)) == 1
    assert list(
        PushSubscription.objects.filter(user=net.mo).values_list("endpoint", flat=True)
    ) == [alive.endpoint]


def test_429_retries_after_retry_after_and_only_to_the_device_that_missed_it(
    net, subscribe, push_peer
):
    first, second = subscribe(net.mo), subscribe(net.mo)
    push_peer.answer_next(429, retry_after="120", device=second)
    [delivery] = queue(net.mo, "push:5", channels=[Channel.PUSH])
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED
    attempt = delivery.attempt_log.get()
    assert attempt.status == AttemptStatus.TRANSIENT
    assert "1 of 2 devices" in attempt.error and "429" in attempt.error
    wait = (delivery.next_attempt_at - attempt.started_at).total_seconds()
    assert wait >= 119  # Retry-After respected
    make_due()
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    # The device that took it the first time did not get it twice.
    assert len(push_peer.for_device(first)) == 1
    assert len(push_peer.for_device(second)) == 1


def test_500_is_transient_then_sent(net, subscribe, push_peer):
    device = subscribe(net.mo)
    push_peer.answer_next(500)
    [delivery] = queue(net.mo, "push:6", channels=[Channel.PUSH])
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED and "500" in delivery.last_error
    make_due()
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert len(push_peer.for_device(device)) == 1
    assert PushSubscription.objects.filter(user=net.mo).count() == 1


def test_a_push_service_that_cannot_be_reached_is_transient(net, subscribe, push_peer, settings):
    device = subscribe(net.mo)
    # Nothing listens there (the peer's port, closed again).
    PushSubscription.objects.filter(user=net.mo).update(
        endpoint=device.endpoint.replace(str(push_peer.port), "9")
    )
    [delivery] = queue(net.mo, "push:7", channels=[Channel.PUSH])
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED
    assert "unreachable" in delivery.last_error


def test_a_device_subscribed_with_another_vapid_key_refuses_it(net, subscribe, push_peer):
    other_public = keys.generate()[1]
    subscribe(net.mo, push_peer.new_device(application_server_key=other_public))
    [delivery] = queue(net.mo, "push:8", channels=[Channel.PUSH])
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert "403" in delivery.last_error
    assert push_peer.received == []
    assert push_peer.refused == ["vapid: k is not the key the device subscribed with"]


def test_sensitive_templates_show_only_a_neutral_line(net, subscribe, push_peer, settings):
    settings.WEBPUSH_GENERIC_TEMPLATES = ["test_message"]
    device = subscribe(net.mo)
    queue(net.mo, "push:9", channels=[Channel.PUSH])
    run_worker()
    [got] = push_peer.for_device(device)
    assert got.payload["body"] == "You have a new message. Open it to read it."
    assert "test" not in json.dumps(got.payload)


@override_settings(SITE_URL="https://defensa.example.org")
def test_the_notification_opens_the_first_link_to_our_site_only():
    assert (
        transport.our_path("see https://evil.example/x then https://defensa.example.org/r/abc?x=1.")
        == "/r/abc?x=1"
    )
    assert transport.our_path("http://defensa.example.org/r/abc") == "/accounts/"  # not https
    assert transport.our_path("no link") == "/accounts/"


def test_a_deactivated_account_gets_nothing_and_loses_its_devices(net, subscribe, push_peer):
    from defensa.accounts.actions import deactivate_user

    subscribe(net.mo)
    with transaction.atomic():
        [delivery] = queue_message(
            net.mo, "test_message", {}, idempotency_key="push:10", channels=[Channel.PUSH]
        )
    with transaction.atomic():
        deactivate_user(net.mo, actor=net.ana)
    assert not PushSubscription.objects.filter(user=net.mo).exists()
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.CANCELLED
    assert push_peer.requests == 0


def test_urgency_follows_priority():
    assert transport.urgency(Priority.URGENT) == "high"
    assert transport.urgency(Priority.NORMAL) == "normal"
    assert transport.urgency(Priority.BULK) == "low"


def test_retry_after_as_seconds_or_a_date():
    assert transport.retry_after_seconds("30") == 30
    assert transport.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert transport.retry_after_seconds("soon") is None
    assert transport.retry_after_seconds(None) is None
