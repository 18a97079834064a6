"""Subscribing and unsubscribing a device, the settings control, service worker and manifest."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.audit.models import AuditEntry
from defensa.core.classification import SECRET
from defensa.notify.models import Channel, Delivery, Status
from defensa.notify.tests.helpers import run_worker
from defensa.notify.transports.webpush import keys
from defensa.notify.transports.webpush.actions import MAX_DEVICES
from defensa.notify.transports.webpush.models import PushSubscription

pytestmark = pytest.mark.django_db

SUBSCRIBE = "/me/push/subscribe/"
UNSUBSCRIBE = "/me/push/unsubscribe/"


def _fields(device):  # type: ignore[no-untyped-def]
    return {"endpoint": device.endpoint, "p256dh": device.p256dh, "auth": device.auth}


def test_a_member_subscribes_this_device(net, client_as, push_peer):
    client = client_as(net.mo)
    device = push_peer.new_device()
    response = client.post(SUBSCRIBE, _fields(device))
    assert response.status_code == 201
    assert response.json()["ok"] is True
    sub = PushSubscription.objects.get(user=net.mo)
    assert (sub.endpoint, sub.p256dh, sub.auth) == (device.endpoint, device.p256dh, device.auth)
    net.mo.refresh_from_db()
    assert net.mo.notify_push
    assert AuditEntry.objects.filter(action="webpush.subscribed", object_id=str(net.mo.pk)).exists()
    # Nothing of the subscription in the audit log.
    assert device.endpoint not in json.dumps(
        list(AuditEntry.objects.values_list("data", flat=True))
    )

    # Subscribing the same browser again updates it, it does not add a device.
    assert client.post(SUBSCRIBE, _fields(device)).status_code == 201
    assert PushSubscription.objects.filter(user=net.mo).count() == 1


def test_another_account_cannot_take_a_known_endpoint(net, client_as, push_peer):
    # Issue 9, point 13: an endpoint is refused, not moved, when it is another account's.
    device = push_peer.new_device()
    assert client_as(net.mo).post(SUBSCRIBE, _fields(device)).status_code == 201
    thief = push_peer.new_device()  # the thief's own keys, the victim's endpoint
    taken = client_as(net.dani).post(
        SUBSCRIBE, {"endpoint": device.endpoint, "p256dh": thief.p256dh, "auth": thief.auth}
    )
    assert taken.status_code == 409 and taken.json()["ok"] is False
    assert "another account" in taken.json()["message"]
    sub = PushSubscription.objects.get()
    assert (sub.user_id, sub.p256dh, sub.auth) == (net.mo.pk, device.p256dh, device.auth)
    assert AuditEntry.objects.filter(action="webpush.subscribed").count() == 1
    # The legitimate path on a shared phone: the first person turns it off, the next turns on.
    client_as(net.mo).post(UNSUBSCRIBE, {"endpoint": device.endpoint})
    assert client_as(net.dani).post(SUBSCRIBE, _fields(device)).status_code == 201
    assert list(PushSubscription.objects.values_list("user", flat=True)) == [net.dani.pk]


def test_old_devices_beyond_the_limit_are_dropped(net, client_as, push_peer):
    client = client_as(net.mo)
    devices = [push_peer.new_device() for _ in range(MAX_DEVICES + 2)]
    for device in devices:
        assert client.post(SUBSCRIBE, _fields(device)).status_code == 201
    kept = set(PushSubscription.objects.filter(user=net.mo).values_list("endpoint", flat=True))
    assert kept == {d.endpoint for d in devices[2:]}


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"endpoint": "https://evil.example/push/x"}, "push service"),
        ({"endpoint": "http://169.254.169.254/latest/meta-data"}, "push service"),
        ({"endpoint": "https://user:pw@fcm.googleapis.com/x"}, "address"),
        ({"endpoint": "javascript:alert(1)"}, "address"),
        ({"endpoint": ""}, "address"),
        ({"p256dh": "AAAA"}, "keys"),
        ({"p256dh": "B" + "A" * 86}, "keys"),  # 65 bytes, but not a point on the curve
        ({"auth": "short"}, "keys"),
        ({"auth": "!!!!!!!!!!!!!!!!!!!!!!"}, "keys"),
    ],
)
def test_a_bad_subscription_is_refused_with_a_reason_and_stores_nothing(
    net, client_as, push_peer, change, why
):
    fields = {**_fields(push_peer.new_device()), **change}
    response = client_as(net.mo).post(SUBSCRIBE, fields)
    assert response.status_code == 400
    assert why in response.json()["message"]
    assert not PushSubscription.objects.exists()
    net.mo.refresh_from_db()
    assert not net.mo.notify_push


def test_only_https_push_services_are_allowed_by_default(settings):
    settings.WEBPUSH_ALLOWED_HOSTS = ["fcm.googleapis.com", "push.apple.com"]
    assert keys.endpoint_problem("https://fcm.googleapis.com/fcm/send/abc") == ""
    assert keys.endpoint_problem("https://web.push.apple.com/QAbc") == ""
    assert keys.endpoint_problem("http://fcm.googleapis.com/fcm/send/abc")
    assert keys.endpoint_problem("https://fcm.googleapis.com.evil.example/x")
    assert keys.endpoint_problem("https://notfcm.googleapis.com/x")
    assert keys.endpoint_problem("http://127.0.0.1:8000/x")


def test_subscribing_is_refused_when_push_is_not_configured(net, client_as, settings):
    settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    response = client_as(net.mo).post(
        SUBSCRIBE, {"endpoint": "https://fcm.googleapis.com/x", "p256dh": "x", "auth": "y"}
    )
    assert response.status_code == 404
    assert not PushSubscription.objects.exists()


def test_unsubscribe_deletes_only_this_persons_device(net, client_as, push_peer, subscribe):
    mine, theirs = subscribe(net.mo), subscribe(net.dani)
    client = client_as(net.mo)
    # Someone else's endpoint: nothing happens to it.
    assert client.post(UNSUBSCRIBE, {"endpoint": theirs.endpoint}).status_code == 200
    assert PushSubscription.objects.filter(user=net.dani).count() == 1
    assert client.post(UNSUBSCRIBE, {"endpoint": mine.endpoint}).status_code == 200
    assert not PushSubscription.objects.filter(user=net.mo).exists()
    assert AuditEntry.objects.filter(action="webpush.unsubscribed").count() == 2


def test_stop_on_all_devices_forgets_them_and_turns_the_channel_off(
    net, client_as, push_peer, subscribe
):
    subscribe(net.mo)
    subscribe(net.mo)
    response = client_as(net.mo).post("/me/push/off/", follow=True)
    assert "We forgot 2 devices" in response.content.decode()
    assert not PushSubscription.objects.filter(user=net.mo).exists()
    net.mo.refresh_from_db()
    assert not net.mo.notify_push


def test_a_test_notification_reaches_every_device(net, client_as, push_peer, subscribe):
    phone, laptop = subscribe(net.mo), subscribe(net.mo)
    response = client_as(net.mo).post("/me/push/test/", follow=True)
    assert "Test notification sent" in response.content.decode()
    [delivery] = Delivery.objects.filter(recipient=net.mo)
    assert delivery.channel == Channel.PUSH  # the test goes to devices only, not email
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert len(push_peer.for_device(phone)) == len(push_peer.for_device(laptop)) == 1


def test_the_settings_page_offers_the_control_only_when_push_is_configured(
    net, client_as, push_peer, settings
):
    client = client_as(net.mo)
    html = client.get("/me/profile/").content.decode()
    assert 'id="push-control" hidden' in html  # shown by push.js, never without it
    assert f'data-key="{keys.application_server_key()}"' in html
    assert "/static/webpush/push.js" in html
    assert "data-push-section" in html
    settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    html = client.get("/me/profile/").content.decode()
    assert "push-control" not in html and "push.js" not in html


def test_with_devices_the_no_script_forms_are_there(net, client_as, push_peer, subscribe):
    subscribe(net.mo)
    html = client_as(net.mo).get("/me/profile/").content.decode()
    assert "Notifications go to 1 device." in html
    assert 'action="/me/push/off/"' in html and 'action="/me/push/test/"' in html


def test_the_service_worker_is_served_from_the_root_and_caches_nothing(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert 'addEventListener("push"' in body and 'addEventListener("notificationclick"' in body
    # No fetch handler and no Cache API: private pages are never kept on the device.
    assert '"fetch"' not in body and "caches" not in body
    assert "self.location.origin" in body  # only our own pages open


def test_the_manifest_names_the_network_and_our_own_icons(client, settings):
    settings.NETWORK_NAME = "Red de Defensa LA"
    response = client.get("/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["name"] == "Red de Defensa LA"
    assert data["display"] == "standalone" and data["scope"] == "/"
    for icon in data["icons"]:
        assert icon["src"].startswith("/static/webpush/")
        assert client.get(icon["src"]).status_code == 200


def test_the_manifest_is_linked_for_members_only(net, client, client_as):
    assert "manifest" not in client.get("/").content.decode()
    assert (
        'rel="manifest" href="/manifest.webmanifest"' in client_as(net.mo).get("/").content.decode()
    )


def test_subscriptions_are_classified_secret():
    for name in ("endpoint", "endpoint_digest", "p256dh", "auth"):
        assert PushSubscription.DATA_CLASSIFICATION[name].level == SECRET


_text = st.text(max_size=300)


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=st.dictionaries(st.sampled_from(["endpoint", "p256dh", "auth", "x"]), _text),
    path=st.sampled_from([SUBSCRIBE, UNSUBSCRIBE]),
)
def test_any_input_gets_a_clear_answer_never_a_500(net, client_as, push_peer, fields, path):
    fields = {k: v.replace("\x00", "") for k, v in fields.items()}
    response = client_as(net.mo).post(path, fields)
    assert response.status_code in (200, 201, 400)
    assert response.json()["message"]
