"""The outbox against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.utils import timezone

from defensa.audit.models import AuditEntry
from defensa.notify import actions
from defensa.notify.actions import Address, NotInTransaction, queue_message
from defensa.notify.messages import UnsafeContext
from defensa.notify.models import AttemptStatus, Delivery, DeliveryAttempt, Priority, Status
from defensa.notify.tests.helpers import make_due, queue, run_worker

pytestmark = pytest.mark.django_db


def test_a_queued_message_is_delivered_with_its_attempt_recorded(net, smtp_server):
    [delivery] = queue(net.ana, "test:1")
    assert delivery.status == Status.QUEUED
    assert delivery.channel == "email"

    run_worker()

    [received] = smtp_server.messages
    assert received.rcpt == ["ana@example.org"]
    assert received["To"] == "ana@example.org"
    assert received["From"] == "alerts@defensa.test"
    assert received["Subject"] == "Test message from Defensa"
    assert "Hello Ana," in received.body
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert delivery.sent_at is not None
    assert delivery.attempts == 1
    assert delivery.transport == "email"
    # The provider id is the Message-ID, stable across retries of the same delivery.
    assert received["Message-ID"] == f"<{delivery.provider_message_id}>"
    [attempt] = delivery.attempt_log.all()
    assert (attempt.status, attempt.number, attempt.transport) == ("sent", 1, "email")
    assert attempt.duration_ms >= 0
    assert AuditEntry.objects.filter(action="notify.queue_message").count() == 1


def test_spanish_and_english_messages_in_each_persons_language(net, smtp_server):
    queue(net.ana, "lang:en")
    queue(net.dani, "lang:es")  # dani's language is Spanish

    run_worker()

    by_rcpt = {m.rcpt[0]: m for m in smtp_server.messages}
    english, spanish = by_rcpt["ana@example.org"], by_rcpt["dani@example.org"]
    assert english["Subject"] == "Test message from Defensa"
    assert "You do not need to reply." in english.body
    assert spanish["Subject"] == "Mensaje de prueba de Defensa"
    assert "Hola, Dani:" in spanish.body
    assert "No hace falta que respondas." in spanish.body


def test_transient_failure_is_retried_then_delivered(net, smtp_server):
    smtp_server.fail_next(451)
    [delivery] = queue(net.ana, "transient:1")

    run_worker()
    delivery.refresh_from_db()
    assert smtp_server.messages == []
    assert delivery.status == Status.QUEUED
    assert delivery.attempts == 1
    assert "451" in delivery.last_error
    # Backed off: not due again at once.
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=4)

    run_worker()  # not due yet: nothing happens
    assert smtp_server.messages == []

    make_due()
    run_worker()
    delivery.refresh_from_db()
    assert len(smtp_server.messages) == 1
    assert delivery.status == Status.SENT
    assert delivery.attempts == 2
    assert delivery.last_error == ""
    assert list(delivery.attempt_log.values_list("number", "status")) == [
        (1, AttemptStatus.TRANSIENT),
        (2, AttemptStatus.SENT),
    ]


def test_transient_failures_stop_at_the_attempt_limit(net, smtp_server, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    smtp_server.fail_next(451, times=2)
    [delivery] = queue(net.ana, "transient:limit")

    run_worker()
    make_due()
    run_worker()

    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.attempts == 2
    assert smtp_server.messages == []
    assert AuditEntry.objects.filter(action="notify.delivery_failed").count() == 1


def test_permanent_failure_stops_at_once_and_is_shown_on_the_deliveries_page(
    net, smtp_server, client_as
):
    smtp_server.fail_next(550)
    [failed] = queue(net.mo, "permanent:1")
    [ok] = queue(net.vero, "permanent:2")

    run_worker()

    failed.refresh_from_db()
    assert failed.status == Status.FAILED
    assert failed.attempts == 1
    assert failed.last_error.startswith("SMTP 550")
    assert [m.rcpt for m in smtp_server.messages] == [["vero@example.org"]]

    page = client_as(net.ana).get("/notify/deliveries/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "1 message could not be delivered" in html
    # Failed first, with its reason, and a way to send it again.
    assert html.index(f'id="delivery-{failed.pk}"') < html.index(f'id="delivery-{ok.pk}"')
    assert "SMTP 550" in html
    assert f"/notify/deliveries/{failed.pk}/retry/" in html


def test_a_worker_killed_mid_send_is_retried_exactly_once(net, smtp_server):
    [delivery] = queue(net.ana, "killed:1")
    # A worker claimed it and died: the row stays 'sending' and its lease has run out.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENDING,
        attempts=1,
        transport="email",
        next_attempt_at=timezone.now() - timedelta(seconds=1),
    )
    # Another worker's live lease is left alone.
    [busy] = queue(net.vero, "killed:2")
    Delivery.objects.filter(pk=busy.pk).update(
        status=Status.SENDING, attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=1)
    )

    run_worker()
    run_worker()

    assert [m.rcpt for m in smtp_server.messages] == [["ana@example.org"]]
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert delivery.attempts == 2
    assert list(delivery.attempt_log.values_list("number", "status")) == [
        (1, AttemptStatus.ABANDONED),
        (2, AttemptStatus.SENT),
    ]
    busy.refresh_from_db()
    assert busy.status == Status.SENDING


def test_queued_in_a_rolled_back_transaction_means_no_delivery(net, smtp_server):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        queue_message(net.ana, "test_message", {}, idempotency_key="rollback:1")
        assert Delivery.objects.count() == 1
        raise Boom

    assert Delivery.objects.count() == 0
    run_worker()
    assert smtp_server.messages == []


def test_reusing_an_idempotency_key_queues_one_delivery(net, smtp_server):
    [first] = queue(net.ana, "offer:7")
    [again] = queue(net.ana, "offer:7")

    assert first.pk == again.pk
    run_worker()
    assert len(smtp_server.messages) == 1


def test_a_persons_channel_choice_is_respected(net, smtp_server):
    net.ana.notify_email = False
    net.ana.save()

    assert queue(net.ana, "choice:1") == []
    run_worker()
    assert smtp_server.messages == []


def test_channels_narrow_but_never_widen_a_persons_choice(net, smtp_server, settings):
    settings.NOTIFY_CONSOLE = True  # so SMS has a transport in this test
    net.ana.notify_sms = True
    net.ana.save()
    assert {d.channel for d in queue(net.ana, "narrow:1")} == {"email", "sms"}
    assert [d.channel for d in queue(net.ana, "narrow:2", channels=["sms"])] == ["sms"]
    assert [d.channel for d in queue(net.mo, "narrow:3", channels=["sms"])] == []


def test_an_opted_out_address_gets_nothing(net, smtp_server):
    with transaction.atomic():
        actions.opt_out("email", "ANA@example.org ")
    assert queue(net.ana, "optout:1") == []
    assert queue(Address("email", "ana@example.org"), "optout:2") == []
    run_worker()
    assert smtp_server.messages == []


def test_opting_out_after_queueing_stops_the_message_at_send_time(net, smtp_server):
    [delivery] = queue(net.ana, "optout:late")
    net.ana.notify_email = False
    net.ana.save()

    run_worker()

    delivery.refresh_from_db()
    assert delivery.status == Status.CANCELLED
    assert "turned this channel off" in delivery.last_error
    assert smtp_server.messages == []


def test_opt_in_undoes_an_opt_out(net, smtp_server):
    with transaction.atomic():
        actions.opt_out("email", "ana@example.org")
        assert actions.opt_in("email", "ana@example.org") is True
    assert len(queue(net.ana, "optin:1")) == 1


def test_an_address_without_an_account_is_reached_in_its_language(db, smtp_server):
    [delivery] = queue(Address("email", "reporter@example.net", language="es"), "addr:1")
    run_worker()
    [received] = smtp_server.messages
    assert received.rcpt == ["reporter@example.net"]
    assert "Hola," in received.body
    assert delivery.recipient_label == "r•••@example.net"


def test_context_holds_ids_not_message_text(net):
    with pytest.raises(UnsafeContext), transaction.atomic():
        queue_message(
            net.ana,
            "test_message",
            {"note": "ICE at 5th and Main, two vans"},
            idempotency_key="ctx:1",
        )
    with transaction.atomic():
        queue_message(net.ana, "test_message", {"incident": 42}, idempotency_key="ctx:2")


def test_an_unknown_template_fails_in_the_callers_transaction(net):
    with pytest.raises(TemplateDoesNotExist), transaction.atomic():
        queue_message(net.ana, "no_such_message", {}, idempotency_key="tpl:1")
    assert Delivery.objects.count() == 0


def test_no_transport_for_a_channel_is_a_visible_failure(net, settings):
    settings.NOTIFY_CONSOLE = False
    settings.EMAIL_HOST = ""
    [delivery] = queue(net.ana, "notransport:1")
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.last_error == "no transport is configured for this channel"


def test_urgent_goes_before_a_long_bulk_queue(net, smtp_server):
    for n in range(30):
        queue(net.mo, f"bulk:{n}", priority=Priority.BULK)
    queue(net.vero, "urgent:1", priority=Priority.URGENT)

    run_worker()

    assert len(smtp_server.messages) == 31
    assert smtp_server.messages[0].rcpt == ["vero@example.org"]


def test_the_deliver_command_sends_once_and_exits(net, smtp_server):
    queue(net.ana, "command:1")
    call_command("deliver", "--once", "--threads", "1")
    assert len(smtp_server.messages) == 1
    assert DeliveryAttempt.objects.filter(status=AttemptStatus.SENT).count() == 1


@pytest.mark.django_db(transaction=True)
def test_queue_message_refuses_to_run_outside_a_transaction(net):
    with pytest.raises(NotInTransaction):
        queue_message(net.ana, "test_message", {}, idempotency_key="autocommit:1")
    assert Delivery.objects.count() == 0


def test_a_hand_written_language_file_wins_over_the_translated_template(
    net, smtp_server, tmp_path, monkeypatch
):
    from django.template import Engine

    from defensa.notify import messages

    folder = tmp_path / "notify" / "messages"
    folder.mkdir(parents=True)
    (folder / "test_message.email.es.txt").write_text(
        "Texto escrito a mano para {{ network_name }}."
    )
    engine = Engine(
        dirs=[str(tmp_path)],
        app_dirs=True,
        autoescape=False,
        libraries={"i18n": "django.templatetags.i18n"},
    )
    monkeypatch.setattr(messages, "_engine", lambda: engine)
    queue(net.dani, "handwritten:es")
    queue(net.ana, "handwritten:en")

    run_worker()

    by_rcpt = {m.rcpt[0]: m for m in smtp_server.messages}
    assert by_rcpt["dani@example.org"].body.strip() == "Texto escrito a mano para Defensa."
    assert by_rcpt["dani@example.org"]["Subject"] == "Mensaje de prueba de Defensa"
    assert "Hello Ana," in by_rcpt["ana@example.org"].body


def test_text_is_not_html_escaped(net, smtp_server, settings):
    settings.NETWORK_NAME = "Workers & Neighbours <LA>"
    queue(net.ana, "escape:1")
    run_worker()
    [received] = smtp_server.messages
    assert "Workers & Neighbours <LA>" in received.body
    assert received["Subject"] == "Test message from Workers & Neighbours <LA>"


def test_a_message_that_keeps_killing_workers_is_failed_not_retried_forever(
    net, smtp_server, settings
):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    [poison] = queue(net.ana, "poison:1", priority=Priority.URGENT)
    [fine] = queue(net.vero, "poison:2")
    Delivery.objects.filter(pk=poison.pk).update(
        status=Status.SENDING, attempts=3, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )

    run_worker()

    poison.refresh_from_db()
    assert poison.status == Status.FAILED
    assert "too many times" in poison.last_error
    # The worker went on to the next delivery.
    assert [m.rcpt for m in smtp_server.messages] == [["vero@example.org"]]
    fine.refresh_from_db()
    assert fine.status == Status.SENT


def test_finished_deliveries_are_purged_after_their_retention_but_waiting_ones_never(net):
    [sent] = queue(net.ana, "purge:sent")
    [waiting] = queue(net.vero, "purge:waiting")
    [recent] = queue(net.mo, "purge:recent")
    old = timezone.now() - timedelta(days=31)
    Delivery.objects.filter(pk=sent.pk).update(status=Status.SENT, created_at=old)
    DeliveryAttempt.objects.create(delivery=sent, number=1, status=AttemptStatus.SENT)
    Delivery.objects.filter(pk=waiting.pk).update(created_at=old)
    Delivery.objects.filter(pk=recent.pk).update(status=Status.FAILED)

    call_command("purge_deliveries", verbosity=0)

    assert set(Delivery.objects.values_list("pk", flat=True)) == {waiting.pk, recent.pk}
    assert DeliveryAttempt.objects.count() == 0
    assert AuditEntry.objects.filter(action="notify.purge_deliveries").count() == 1
