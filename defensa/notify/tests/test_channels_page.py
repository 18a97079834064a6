"""The channels page: which service carries each channel, its rate, and a test message to the
admin's own address through the delivery engine and the loopback peers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from defensa.audit.models import AuditEntry
from defensa.notify.channels import channel_states, describe_rate, unconfigured_channels
from defensa.notify.models import Delivery, Status
from defensa.notify.tests.helpers import run_worker
from defensa.notify.transports import Rate

pytestmark = pytest.mark.django_db

ADMIN_PHONE = "+12135550190"


def _admin(net):  # type: ignore[no-untyped-def]
    net.admin.phone = ADMIN_PHONE
    net.admin.save(update_fields=["phone"])
    return net.admin


def test_the_page_shows_the_carrier_and_its_rate(client_as, net, twilio_peer, settings):
    settings.TWILIO_RATE = "1/s"
    settings.EMAIL_HOST = ""
    client = client_as(_admin(net))
    page = client.get(reverse("notify:channels")).content.decode()
    assert "Carried by <strong>twilio</strong>, at most 1 message a second." in page
    # Email has no SMTP server here and the console is off: it reaches nobody, and says so.
    assert "Not set up: messages on this channel fail" in page
    states = {s.channel: s for s in channel_states()}
    assert states["sms"].configured and not states["email"].configured
    assert {s.channel for s in unconfigured_channels()} >= {"email", "signal", "push"}


def test_the_console_counts_as_not_configured(settings):
    settings.NOTIFY_CONSOLE = True
    settings.TWILIO_ACCOUNT_SID = ""
    settings.SMS_GATEWAY_URL = ""
    sms = next(s for s in channel_states() if s.channel == "sms")
    assert sms.carrier is not None and sms.carrier.kind == "console"
    assert sms.log_only and not sms.configured


def test_rates_in_words():
    assert describe_rate(None) == "no limit"
    assert describe_rate(Rate(1, 6)) == "1 message every 6 seconds"
    assert describe_rate(Rate(100, 1)) == "100 messages a second"
    assert describe_rate(Rate(30, 60)) == "30 messages a minute"


def test_a_mistyped_rate_is_said_not_a_500(client_as, net, twilio_peer, settings):
    settings.TWILIO_RATE = "fast please"
    page = client_as(_admin(net)).get(reverse("notify:channels")).content.decode()
    assert "the rate setting cannot be read" in page


def test_send_me_a_test_text_reaches_the_admins_own_phone(client_as, net, twilio_peer):
    client = client_as(_admin(net))
    response = client.post(reverse("notify:channel_test", args=["sms"]))
    assert response.status_code == 302
    [delivery] = Delivery.objects.filter(template="test_message")
    assert delivery.status == Status.QUEUED and delivery.recipient is None
    assert AuditEntry.objects.filter(action="notify.test_message").count() == 1
    page = client.get(reverse("notify:channels")).content.decode()
    assert "Queued" in page and "Some are still waiting to be sent." in page
    run_worker()
    [sms] = twilio_peer.messages
    assert sms.to == ADMIN_PHONE and "test message" in sms.body
    page = client.get(reverse("notify:channels")).content.decode()
    assert f'id="test-{delivery.pk}"' in page and "Sent" in page and "twilio" in page


def test_a_channel_with_no_service_fails_with_the_reason(client_as, net, settings):
    settings.NOTIFY_CONSOLE = False
    settings.SIGNAL_RPC_URL = ""
    client = client_as(_admin(net))
    client.post(reverse("notify:channel_test", args=["signal"]))
    run_worker()
    [delivery] = Delivery.objects.filter(template="test_message")
    assert delivery.status == Status.FAILED
    page = client.get(reverse("notify:channels")).content.decode()
    assert "Failed" in page and "no transport is configured for this channel" in page


def test_the_provider_refusing_is_shown_as_failed(client_as, net, twilio_peer):
    twilio_peer.fail_next(400, code=21211)
    client = client_as(_admin(net))
    client.post(reverse("notify:channel_test", args=["sms"]))
    run_worker()
    [delivery] = Delivery.objects.filter(template="test_message")
    assert delivery.status == Status.FAILED and delivery.last_error


def test_no_phone_is_a_clear_error_and_sends_nothing(client_as, net, twilio_peer):
    client = client_as(net.admin)  # the persona has no phone
    response = client.post(reverse("notify:channel_test", args=["sms"]), follow=True)
    assert "Add your mobile phone number in My settings first." in response.content.decode()
    assert not Delivery.objects.exists()
    response = client.post(reverse("notify:channel_test", args=["push"]), follow=True)
    assert "Turn on device notifications" in response.content.decode()
    assert not Delivery.objects.exists()


def test_spanish_admin_reads_spanish(client_as, net, twilio_peer, settings):
    settings.TWILIO_RATE = "1/s"
    admin = _admin(net)
    admin.language = "es"
    admin.save(update_fields=["language"])
    client = client_as(admin)
    page = client.get(reverse("notify:channels"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Canales" in page and "1 mensaje por segundo" in page


@pytest.mark.parametrize("who", ["ana", "dani", "pat", "lucia"])
def test_only_network_admins_see_or_send(client_as, net, who, twilio_peer):
    client = client_as(getattr(net, who))
    assert client.get(reverse("notify:channels")).status_code == 404
    assert client.post(reverse("notify:channel_test", args=["sms"])).status_code == 404
    assert not Delivery.objects.exists()


def test_an_unknown_channel_is_404(client_as, net):
    client = client_as(_admin(net))
    assert client.post(reverse("notify:channel_test", args=["fax"])).status_code == 404
    assert client.get(reverse("notify:channel_test", args=["sms"])).status_code == 405


def test_email_signal_and_the_gateway_each_carry_their_test(  # type: ignore[no-untyped-def]
    client_as, net, smtp_server, signal_peer, gateway_peer
):
    admin = _admin(net)
    client = client_as(admin)
    page = client.get(reverse("notify:channels")).content.decode()
    assert "Carried by <strong>gateway</strong>" in page
    assert "Carried by <strong>signal</strong>" in page
    assert "Carried by <strong>email</strong>" in page
    for channel in ("email", "signal", "sms"):
        assert client.post(reverse("notify:channel_test", args=[channel])).status_code == 302
    run_worker()
    assert [m.rcpt for m in smtp_server.messages] == [[admin.email]]
    assert [to for to, _text, _at in signal_peer.sent] == [ADMIN_PHONE]
    assert [m.to for m in gateway_peer.messages] == [ADMIN_PHONE]
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.SENT}
    assert set(Delivery.objects.values_list("transport", flat=True)) == {
        "email",
        "signal",
        "gateway",
    }


def test_one_test_at_a_time_per_channel(client_as, net, twilio_peer):
    client = client_as(_admin(net))
    client.post(reverse("notify:channel_test", args=["sms"]))
    response = client.post(reverse("notify:channel_test", args=["sms"]), follow=True)
    assert "still waiting to be sent" in response.content.decode()
    assert Delivery.objects.count() == 1
    run_worker()
    client.post(reverse("notify:channel_test", args=["sms"]))
    assert Delivery.objects.count() == 2
