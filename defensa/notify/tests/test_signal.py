"""Signal through a signal-cli JSON-RPC daemon, against a local peer standing in for it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from defensa.notify.actions import Address, chosen_channels
from defensa.notify.models import AttemptStatus, Delivery, Priority, Status
from defensa.notify.tests.helpers import make_due, queue, run_worker
from defensa.notify.tests.test_worker import windows_over
from defensa.notify.transports import Rate
from defensa.notify.transports.signal import SignalTransport, classify
from defensa.testing.peers.signal import ACCOUNT

pytestmark = pytest.mark.django_db


@pytest.fixture
def signaller(net):  # type: ignore[no-untyped-def]
    """Mo: English, Signal only."""
    net.mo.phone = "+13235550177"
    net.mo.notify_signal = True
    net.mo.notify_email = False
    net.mo.notify_sms = False
    net.mo.save()
    return net.mo


def test_signal_is_chosen_only_with_a_phone_and_while_the_transport_is_on(signaller, settings):
    settings.SIGNAL_RPC_URL = ""
    assert chosen_channels(signaller) == []
    settings.SIGNAL_RPC_URL = "http://127.0.0.1:1"
    settings.SIGNAL_ACCOUNT = ACCOUNT
    assert chosen_channels(signaller) == ["signal"]
    signaller.phone = ""
    assert chosen_channels(signaller) == []


def test_a_signal_message_goes_to_the_persons_phone_number(signaller, signal_peer):
    [delivery] = queue(signaller, "sig:1", priority=Priority.URGENT)
    assert delivery.channel == "signal"
    run_worker()
    [request] = signal_peer.received
    assert request["method"] == "send"
    assert request["params"]["account"] == ACCOUNT
    assert request["params"]["recipient"] == [signaller.phone]
    assert request["params"]["message"].startswith("Defensa: test message.")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.transport) == (Status.SENT, "signal")
    assert delivery.provider_message_id.isdigit()


def test_a_changed_number_is_used_at_send_time(signaller, signal_peer):
    queue(signaller, "sig:changed")
    signaller.phone = "+13235550188"
    signaller.save()
    run_worker()
    assert signal_peer.sent[0][0] == "+13235550188"


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        ("UNREGISTERED_FAILURE", "Signal: not on Signal"),
        ("IDENTITY_FAILURE", "Signal: untrusted identity"),
    ],
)
def test_not_on_signal_or_an_untrusted_identity_is_permanent(
    signaller, signal_peer, failure, reason
):
    signal_peer.fail_next(failure)
    [delivery] = queue(signaller, f"sig:{failure}")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.last_error == reason
    assert list(delivery.attempt_log.values_list("status", flat=True)) == [AttemptStatus.PERMANENT]


def test_a_rate_limit_waits_for_signals_retry_after(signaller, signal_peer):
    signal_peer.fail_next("RATE_LIMIT_FAILURE", retry_after=600)
    [delivery] = queue(signaller, "sig:rate")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED
    assert delivery.last_error == "Signal: rate limited"
    assert delivery.next_attempt_at >= timezone.now() + timedelta(seconds=590)
    make_due()
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT


def test_a_captcha_challenge_backs_off_an_hour(signaller, signal_peer):
    signal_peer.fail_next("PROOF_REQUIRED_FAILURE", retry_after=5)
    [delivery] = queue(signaller, "sig:captcha")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED
    assert delivery.last_error == "Signal: captcha challenge"
    assert delivery.next_attempt_at >= timezone.now() + timedelta(minutes=59)


@pytest.mark.parametrize("how", ["io", "internal", "http500", "down"])
def test_daemon_trouble_is_transient(signaller, signal_peer, settings, how):
    if how == "io":
        signal_peer.error_next(-3, "Failed to send message: network")
    elif how == "internal":
        signal_peer.error_next(-32603, "boom")
    elif how == "http500":
        signal_peer.http_next(500)
    else:
        settings.SIGNAL_RPC_URL = "http://127.0.0.1:9"
    [delivery] = queue(signaller, f"sig:{how}")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED, delivery.last_error
    assert list(delivery.attempt_log.values_list("status", flat=True)) == [AttemptStatus.TRANSIENT]


def test_a_wrong_account_setting_is_permanent(signaller, signal_peer, settings):
    settings.SIGNAL_ACCOUNT = "+19999999999"
    [delivery] = queue(signaller, "sig:account")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.last_error == "signal-cli refused the request (error -32602)"


def test_a_slow_daemon_times_out_as_transient(signaller, signal_peer, settings):
    settings.SIGNAL_TIMEOUT = 1
    signal_peer.latency = 1.5
    [delivery] = queue(signaller, "sig:slow")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED
    assert delivery.last_error.startswith("signal-cli unreachable")


def test_turning_signal_off_cancels_what_is_queued(signaller, signal_peer):
    [delivery] = queue(signaller, "sig:off")
    signaller.notify_signal = False
    signaller.save()
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.CANCELLED
    assert signal_peer.received == []


def test_the_accounts_rate_is_never_exceeded(signal_peer, settings):
    settings.SIGNAL_RATE = "2/s"
    for n in range(5):
        queue(Address("signal", f"+1213555{n:04d}"), f"sig:rate:{n}", priority=Priority.BULK)
    started = time.time()
    run_worker(threads=1)
    assert len(signal_peer.sent) == 5
    assert windows_over([at for _n, _t, at in signal_peer.sent], Rate(2, 1.0)) <= 2
    assert time.time() - started >= 1.5
    assert Delivery.objects.filter(status=Status.SENT).count() == 5


def test_the_default_rate_is_conservative():
    assert SignalTransport().rate == Rate(1, 3.0)


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [
        ({"result": {}}, False),  # no timestamp
        ({"result": {"timestamp": "x"}}, False),
        ({"error": "boom"}, False),
        ({"error": {"code": -1, "message": "The user +1 is not registered."}}, True),
        ({"error": {"code": -1, "message": "Invalid group"}}, True),
        ({"error": {"code": -4, "message": "untrusted"}}, True),
        ({"error": {"code": -5, "message": "rate"}}, False),
        ({"error": {"code": None}}, False),
    ],
)
def test_every_answer_is_classified(answer, permanent):
    from defensa.notify.transports import TransportError

    with pytest.raises(TransportError) as caught:
        classify(answer)
    assert caught.value.permanent is permanent


def test_a_success_answer_gives_the_timestamp():
    result = {"timestamp": 1631458508784, "results": [{"type": "SUCCESS"}]}
    assert classify({"result": result}).provider_message_id == "1631458508784"


# The person's choice, under /me/ ---------------------------------------------------------


def _profile(**extra: object) -> dict[str, object]:
    return {"display_name": "Mo", "language": "en", "notify_email": "on", **extra}


def test_the_signal_checkbox_shows_only_while_signal_is_on(net, client_as, settings):
    client = client_as(net.mo)
    settings.SIGNAL_RPC_URL = ""
    assert b'name="notify_signal"' not in client.get("/me/profile/").content
    settings.SIGNAL_RPC_URL = "http://127.0.0.1:1"
    settings.SIGNAL_ACCOUNT = ACCOUNT
    page = client.get("/me/profile/").content.decode()
    assert 'name="notify_signal"' in page and "Send me Signal messages" in page


def test_choosing_signal_needs_a_phone_and_is_saved(net, client_as, settings):
    settings.SIGNAL_RPC_URL = "http://127.0.0.1:1"
    settings.SIGNAL_ACCOUNT = ACCOUNT
    client = client_as(net.mo)
    net.mo.phone = ""
    net.mo.save()
    refused = client.post("/me/profile/", _profile(notify_signal="on", phone=""))
    assert refused.status_code == 400 and b"To get Signal messages" in refused.content
    net.mo.refresh_from_db()
    assert not net.mo.notify_signal

    saved = client.post("/me/profile/", _profile(notify_signal="on", phone="(323) 555-0177"))
    assert saved.status_code == 302
    net.mo.refresh_from_db()
    assert net.mo.notify_signal and net.mo.phone == "+13235550177"


def test_with_signal_off_saving_the_page_keeps_the_earlier_choice(net, client_as, settings):
    settings.SIGNAL_RPC_URL = ""
    net.mo.notify_signal = True
    net.mo.save()
    response = client_as(net.mo).post("/me/profile/", _profile(language="es"))
    assert response.status_code == 302
    net.mo.refresh_from_db()
    assert net.mo.notify_signal and net.mo.language == "es"


def test_the_spanish_page_says_it_in_spanish(net, client_as, settings):
    settings.SIGNAL_RPC_URL = "http://127.0.0.1:1"
    settings.SIGNAL_ACCOUNT = ACCOUNT
    client = client_as(net.dani)
    client.cookies["django_language"] = "es"
    page = client.get("/me/profile/").content.decode()
    assert "Mándenme mensajes por Signal" in page


def test_a_signal_address_is_masked_on_the_deliveries_page(net, client_as, signal_peer):
    queue(Address("signal", "+13235550142"), "sig:masked")
    html = client_as(net.admin).get("/notify/deliveries/").content.decode()
    assert "•••-•••-••42" in html
    assert "3235550142" not in html
