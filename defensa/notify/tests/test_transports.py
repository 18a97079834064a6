"""The transport interface, the registry, and how SMTP errors are classified."""

from __future__ import annotations

import logging
import smtplib
import socket
import sys

import pytest
from django.apps import apps as django_apps

from defensa.notify.messages import Rendered
from defensa.notify.models import Delivery
from defensa.notify.testing import free_port
from defensa.notify.transports import (
    REGISTRY,
    NoTransport,
    Outgoing,
    Rate,
    TransportError,
    enabled_channels,
    parse_rate,
    transport_for_channel,
)
from defensa.notify.transports.console import ConsoleTransport
from defensa.notify.transports.email import EmailTransport, classify


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("1/s", Rate(1, 1.0)),
        ("100/s", Rate(100, 1.0)),
        (" 30 / min ", Rate(30, 60.0)),
        ("1/2s", Rate(1, 2.0)),
        ("", None),
    ],
)
def test_parse_rate(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["fast", "0/s", "1/0s", "-1/s", "10 per second"])
def test_parse_rate_refuses_nonsense(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def test_every_registered_transport_lives_in_its_own_folder():
    for kind, path in REGISTRY.items():
        assert path.startswith(f"defensa.notify.transports.{kind}."), path


def test_transports_load_lazily(settings):
    # The registry names transports by path: nothing is imported until a channel needs it.
    # A transport that is a Django app of its own (webpush) stays: its models are registered.
    apps_here = tuple(
        f"{config.name}."
        for config in django_apps.get_app_configs()
        if config.name.startswith("defensa.notify.transports.")
    )
    for module in [
        m
        for m in sys.modules
        if m.startswith("defensa.notify.transports.") and not f"{m}.".startswith(apps_here)
    ]:
        del sys.modules[module]
    from defensa.notify.transports import transport_class

    transport_class.cache_clear()
    settings.NOTIFY_CONSOLE = True
    settings.EMAIL_HOST = ""
    assert "defensa.notify.transports.email" not in sys.modules
    assert transport_for_channel("sms").kind == "console"
    assert "defensa.notify.transports.email" not in sys.modules


def test_a_transport_turns_on_when_its_settings_are_present(settings):
    settings.NOTIFY_CONSOLE = False
    settings.EMAIL_HOST = ""
    assert enabled_channels() == set()
    with pytest.raises(NoTransport):
        transport_for_channel("email")

    settings.EMAIL_HOST = "smtp.example.org"
    assert transport_for_channel("email").kind == "email"
    assert enabled_channels() == {"email"}

    settings.NOTIFY_CONSOLE = True
    # SMTP, once configured, wins over the console for email.
    assert transport_for_channel("email").kind == "email"
    assert enabled_channels() == {"email", "sms"}


def test_console_is_off_in_production_by_default():
    from django.conf import settings

    # The suite runs without DEBUG or DEFENSA_DEMO, as production does.
    assert settings.DEBUG is False
    assert settings.NOTIFY_CONSOLE is False


def test_console_writes_the_message_to_the_log(caplog):
    delivery = Delivery(pk=5, channel="sms", language="es", idempotency_key="k")
    outgoing = Outgoing(Rendered("", "hola\n"), "+12135550101")
    with caplog.at_level(logging.WARNING, logger="defensa.notify.console"):
        result = ConsoleTransport().send(delivery, outgoing)
    assert result.provider_message_id == "console-5"
    assert "hola" in caplog.text
    assert "+12135550101" in caplog.text


@pytest.mark.parametrize(
    ("exc", "permanent", "text"),
    [
        (smtplib.SMTPRecipientsRefused({"a@x": (451, b"later")}), False, "SMTP 451: later"),
        (smtplib.SMTPRecipientsRefused({"a@x": (550, b"no such")}), True, "SMTP 550: no such"),
        (smtplib.SMTPSenderRefused(553, b"bad sender", "s@x"), True, "SMTP 553: bad sender"),
        (smtplib.SMTPDataError(452, b"full"), False, "SMTP 452: full"),
        (smtplib.SMTPAuthenticationError(535, b"bad creds"), True, "SMTP 535: bad creds"),
        (smtplib.SMTPServerDisconnected("gone"), False, "SMTP connection failed"),
        (ConnectionRefusedError(), False, "SMTP connection failed"),
        (TimeoutError(), False, "SMTP connection failed"),
        (smtplib.SMTPNotSupportedError("STARTTLS"), True, "SMTP server does not support"),
    ],
)
def test_smtp_errors_are_classified(exc, permanent, text):
    error = classify(exc)
    assert isinstance(error, TransportError)
    assert error.permanent is permanent
    assert error.message.startswith(text)


def test_nobody_listening_is_a_transient_failure(settings):
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # bound, then released: nothing listens there
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 2
    delivery = Delivery(pk=1, channel="email", language="en", idempotency_key="x:1")
    outgoing = Outgoing(Rendered("s", "b"), "ana@example.org")
    with pytest.raises(TransportError) as caught:
        EmailTransport().send(delivery, outgoing)
    assert caught.value.permanent is False


def test_a_server_that_hangs_is_a_transient_failure(settings):
    # Accepts the connection but never greets: the timeout must fire, not hang the worker.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = listener.getsockname()[1]
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_TIMEOUT = 1
        delivery = Delivery(pk=1, channel="email", language="en", idempotency_key="x:2")
        outgoing = Outgoing(Rendered("s", "b"), "ana@example.org")
        with pytest.raises(TransportError) as caught:
            EmailTransport().send(delivery, outgoing)
    assert caught.value.permanent is False


def test_the_message_id_is_stable_per_delivery(settings):
    settings.DEFAULT_FROM_EMAIL = "Defensa <alerts@defensa.test>"
    one = Delivery(idempotency_key="offer:1:email")
    same = Delivery(idempotency_key="offer:1:email")
    other = Delivery(idempotency_key="offer:2:email")
    transport = EmailTransport()
    assert transport.message_id(one) == transport.message_id(same)
    assert transport.message_id(one) != transport.message_id(other)
    assert transport.message_id(one).endswith("@defensa.test>")


@pytest.mark.django_db
def test_lines_starting_with_a_dot_survive_smtp(smtp_server):
    delivery = Delivery(pk=1, channel="email", language="en", idempotency_key="dots:1")
    outgoing = Outgoing(Rendered("s", ".hidden\n..two\nend\n"), "ana@example.org")
    EmailTransport().send(delivery, outgoing)
    [received] = smtp_server.messages
    assert received.body.splitlines() == [".hidden", "..two", "end"]


@pytest.mark.django_db
def test_a_long_spanish_subject_arrives_exactly_as_written(smtp_server):
    subject = "Por favor verifica: Redada en un lugar de trabajo · Alrededor del ZIP 90033, 90063"
    delivery = Delivery(pk=2, channel="email", language="es", idempotency_key="subject:1")
    outgoing = Outgoing(Rendered(subject, "¿Puedes ir?\n"), "dani@example.org")
    EmailTransport().send(delivery, outgoing)
    [received] = smtp_server.messages
    assert received["Subject"] == subject
    assert received.body.strip() == "¿Puedes ir?"
    assert received["Auto-Submitted"] == "auto-generated"


def test_an_unusable_address_is_a_permanent_failure(settings):
    settings.EMAIL_HOST = "127.0.0.1"
    delivery = Delivery(pk=3, channel="email", language="en", idempotency_key="bad:1")
    outgoing = Outgoing(Rendered("s", "b\n"), "ana@example.org\r\nBcc: x@evil.example")
    with pytest.raises(TransportError) as raised:
        EmailTransport().send(delivery, outgoing)
    assert raised.value.permanent
