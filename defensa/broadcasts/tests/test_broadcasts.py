"""Broadcasts: segment, what is shown before sending, approval, enqueue, pause, cancel."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.audit.models import AuditEntry
from defensa.broadcasts import actions, estimate, progress, segments
from defensa.broadcasts.messages import sms_body
from defensa.broadcasts.models import Broadcast, BroadcastStatus
from defensa.broadcasts.tasks import enqueue_broadcast
from defensa.notify.actions import opt_out
from defensa.notify.models import Delivery, Status
from defensa.notify.tests.helpers import queue, run_worker

TEXTS = {"en": "Meeting Sunday 5pm at the church hall.", "es": "Reunión el domingo a las 5pm."}


def make(net, committee=None, **fields):  # type: ignore[no-untyped-def]
    fields.setdefault("texts", TEXTS)
    return actions.create_broadcast(committee or net.boyle, actor=net.ana, **fields)


def names(qs):  # type: ignore[no-untyped-def]
    return sorted(u.display_name for u in qs)


def test_segment_by_committee_area_skill_language(net):
    assert names(segments.recipients(make(net))) == ["Ana", "Dani", "Lucia", "Mo", "Pat", "Vero"]
    assert names(segments.recipients(make(net, language="es"))) == ["Dani", "Pat", "Vero"]
    assert names(segments.recipients(make(net, skill="verifier"))) == ["Vero"]
    assert names(segments.recipients(make(net, zip_codes=["90033"]))) == ["Vero"]
    city = make(net, committee=net.city)
    assert "Omar" in names(segments.recipients(city))
    city.include_subcommittees = False
    assert names(segments.recipients(city)) == []
    net.mo.is_active = False
    net.mo.save()
    assert "Mo" not in names(segments.recipients(make(net)))


def test_preview_counts_channels_segments_cost_and_time(net, settings, twilio_peer, smtp_server):
    settings.TWILIO_RATE = "2/s"
    settings.EMAIL_RATE = "10/s"
    settings.BROADCAST_SMS_SEGMENT_PRICE = "0.01"
    for user in (net.dani, net.vero, net.mo):  # dani, vero read Spanish; mo English
        user.notify_sms = True
        user.save()
    plan = estimate.estimate(make(net))
    by = {c.channel: c for c in plan.channels}
    assert plan.people == 6
    assert by["email"].messages == 6 and by["sms"].messages == 3
    langs = {lang.language: lang for lang in plan.languages}
    assert langs["en"].sms.encoding == "GSM-7" and langs["en"].sms.segments == 1
    assert langs["es"].sms.encoding == "UCS-2"  # the ó of Reunión
    assert langs["es"].sms.segments == 2  # ~80 UCS-2 characters: more than 70
    assert plan.sms_segments == 1 + 2 * 2  # mo in English; dani and vero in Spanish
    assert plan.cost == Decimal("0.05")
    # Our own Spanish footer keeps to GSM-7: only the author's accents cost more.
    plain = make(net, texts={"en": "Meeting Sunday", "es": "Junta el domingo"})
    assert {lang.sms.encoding for lang in estimate.estimate(plain).languages} == {"GSM-7"}
    # 3 texts at 2/s = 1.5 s; 6 emails at 10/s = 0.6 s: the slower one decides.
    assert plan.seconds == pytest.approx(1.5)
    # An opted-out number counts as no SMS.
    with transaction.atomic():
        opt_out("sms", net.mo.phone)
    plan = estimate.estimate(make(net))
    assert {c.channel: c.messages for c in plan.channels}["sms"] == 2
    assert plan.opted_out == 1


def test_coordinator_writes_checks_and_sends(net, client_as, settings):
    settings.BROADCAST_APPROVAL_THRESHOLD = 100
    client = client_as(net.ana)
    url = reverse("broadcasts:new", args=["boyle-heights"])
    response = client.post(
        url, {"text_en": "Hello all", "text_es": "", "include_subcommittees": "on"}
    )
    assert response.status_code == 400
    assert not Broadcast.objects.exists()
    response = client.post(url, {"text_en": "Hello all", "text_es": "Hola a todos"})
    broadcast = Broadcast.objects.get()
    assert response.status_code == 302
    page = client.get(reverse("broadcasts:detail", args=["boyle-heights", broadcast.pk]))
    text = page.content.decode()
    assert "Before you send" in text and "Estimated cost" in text and "Send now" in text
    client.post(reverse("broadcasts:send", args=["boyle-heights", broadcast.pk]))
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.SENDING
    # The enqueuer is a task row written in the same transaction.
    assert DBTaskResult.objects.filter(task_path__endswith="enqueue_broadcast").count() == 1
    enqueue_broadcast.call(broadcast.pk)
    rows = progress.deliveries_of(broadcast)
    assert rows.count() == 6  # everyone has email on by default
    assert {d.recipient.language for d in rows.filter(language="es")} == {"es"}
    assert set(rows.values_list("priority", flat=True)) == {10}
    page = client.get(reverse("broadcasts:progress", args=["boyle-heights", broadcast.pk]))
    assert page.status_code == 200 and "still to send" in page.content.decode()


def test_a_killed_enqueuer_resumes_without_duplicates(net, settings):
    settings.BROADCAST_BATCH_SIZE = 2
    broadcast = make(net)
    actions.send_broadcast(broadcast, actor=net.ana)
    assert actions.enqueue_batch(broadcast.pk)  # one batch, then the process "dies"
    assert progress.deliveries_of(broadcast).count() == 2
    # The same batch again (a crash after the insert, before the cursor commit): nothing new.
    Broadcast.objects.filter(pk=broadcast.pk).update(enqueue_cursor=0, heartbeat_at=None)
    broadcast.refresh_from_db()
    assert actions.is_stalled(broadcast)
    assert actions.restart_enqueue(broadcast)
    enqueue_broadcast.call(broadcast.pk)
    keys = list(progress.deliveries_of(broadcast).values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys)) == 6
    broadcast.refresh_from_db()
    assert broadcast.enqueue_done and broadcast.deliveries_total == 6
    assert not actions.restart_enqueue(broadcast)


def test_queries_per_batch_do_not_grow_with_its_people(net, settings):
    """A 100,000-member broadcast took 55 s to queue when each person cost two more queries
    (fields the channel choice reads were left out of the batch's query)."""
    User = type(net.ana)
    User.objects.update(notify_push=True, notify_signal=True, notify_sms=True)
    broadcast = make(net)
    actions.send_broadcast(broadcast, actor=net.ana)
    counts = []
    for size in (2, 4):
        settings.BROADCAST_BATCH_SIZE = size
        with CaptureQueriesContext(connection) as queries:
            assert actions.enqueue_batch(broadcast.pk)
        counts.append(len(queries))
    assert progress.deliveries_of(broadcast).count() == 6 * 2  # email and text each
    assert counts[0] == counts[1]
    # The preview reads everyone once too: the same queries for 3 people as for 6.
    previews = []
    for language in ("es", ""):
        with CaptureQueriesContext(connection) as queries:
            estimate.estimate(make(net, language=language))
        previews.append(len(queries))
    assert previews[0] == previews[1]


def test_above_the_threshold_a_second_coordinator_approves(net, client_as, settings):
    settings.BROADCAST_APPROVAL_THRESHOLD = 3
    broadcast = make(net)
    client = client_as(net.ana)
    client.post(reverse("broadcasts:send", args=["boyle-heights", broadcast.pk]))
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.PENDING
    assert not DBTaskResult.objects.exists()
    # The author cannot approve their own broadcast.
    page = client.post(
        reverse("broadcasts:approve", args=["boyle-heights", broadcast.pk]), follow=True
    )
    assert "not the person who wrote it" in page.content.decode()
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.PENDING
    net.lucia.memberships.update(is_coordinator=True)
    client_as(net.lucia).post(reverse("broadcasts:approve", args=["boyle-heights", broadcast.pk]))
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.SENDING
    assert broadcast.approved_by == net.lucia
    audit = dict(
        AuditEntry.objects.filter(object_id=str(broadcast.pk)).values_list("action", "actor_id")
    )
    assert audit["broadcasts.request_approval"] == net.ana.pk
    assert audit["broadcasts.approve"] == net.lucia.pk


def test_pause_holds_deliveries_cancel_stops_them(net, smtp_server):
    broadcast = make(net)
    actions.send_broadcast(broadcast, actor=net.ana)
    enqueue_broadcast.call(broadcast.pk)
    actions.pause_broadcast(broadcast, actor=net.ana)
    run_worker()
    assert smtp_server.messages == []  # paused: the worker claims none of them
    actions.resume_broadcast(broadcast, actor=net.ana)
    run_worker()
    assert len(smtp_server.messages) == 6
    bodies = {m.rcpt[0]: m.body for m in smtp_server.messages}
    assert "Reunión el domingo" in bodies["dani@example.org"]  # her language
    assert "Meeting Sunday" in bodies["ana@example.org"]
    state = progress.progress(broadcast)
    assert (state.sent, state.remaining, state.finished) == (6, 0, True)

    second = make(net)
    actions.send_broadcast(second, actor=net.ana)
    enqueue_broadcast.call(second.pk)
    actions.cancel_broadcast(second, actor=net.ana)
    run_worker()
    assert len(smtp_server.messages) == 6
    assert set(progress.deliveries_of(second).values_list("status", flat=True)) == {
        Status.CANCELLED
    }


def test_each_person_gets_it_by_their_channel_in_their_language(net, twilio_peer, settings):
    settings.TWILIO_RATE = ""
    for user in (net.dani, net.mo):
        user.notify_sms, user.notify_email = True, False
        user.save()
    with transaction.atomic():
        opt_out("sms", net.mo.phone)
    broadcast = make(net, language="", zip_codes=[], skill="")
    actions.send_broadcast(broadcast, actor=net.ana)
    enqueue_broadcast.call(broadcast.pk)
    assert not progress.deliveries_of(broadcast).filter(recipient=net.mo).exists()
    run_worker()
    [sms] = twilio_peer.messages
    assert sms.to == net.dani.phone
    # Exactly the text whose segments were counted before sending, in her language.
    assert sms.body == sms_body(broadcast, "es").strip()
    assert "Reunión el domingo" in sms.body and "ALTO" in sms.body


def test_others_get_404(net, client_as):
    broadcast = make(net)
    for person in (net.omar, net.mo, net.pat, net.dani):
        client = client_as(person)
        assert client.get(reverse("broadcasts:index", args=["boyle-heights"])).status_code == 404
        url = reverse("broadcasts:detail", args=["boyle-heights", broadcast.pk])
        assert client.get(url).status_code == 404
        url = reverse("broadcasts:cancel", args=["boyle-heights", broadcast.pk])
        assert client.post(url).status_code == 404
    # omar coordinates East LA: his own committee does not hold Boyle Heights' broadcast.
    url = reverse("broadcasts:detail", args=["east-la", broadcast.pk])
    assert client_as(net.omar).get(url).status_code == 404


def test_failures_show_on_me_and_on_the_member_page(net, client_as):
    [delivery] = queue(net.pat, "fail-1", channels=["email"])
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.FAILED, last_error="the address opted out"
    )
    page = client_as(net.pat).get(reverse("me:index"), HTTP_ACCEPT_LANGUAGE="es")
    text = page.content.decode()
    assert "No llegaron" in text or "no llegó" in text
    assert "la dirección pidió no recibir mensajes" in text
    membership = net.pat.memberships.get()
    url = reverse("committees:member", args=["boyle-heights", membership.pk])
    text = client_as(net.ana).get(url).content.decode()
    assert "could not be delivered" in text and "the address opted out" in text
    # Someone else's failures are not on mo's own page.
    assert (
        "the address opted out" not in client_as(net.mo).get(reverse("me:index")).content.decode()
    )


@pytest.mark.django_db
@hsettings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    en=st.text(max_size=1200),
    es=st.text(max_size=50),
    zips=st.text(max_size=80),
    cells=st.text(max_size=80),
    skill=st.text(max_size=25),
)
def test_any_input_gives_a_page_or_a_clear_error(net, client_as, en, es, zips, cells, skill):
    url = reverse("broadcasts:new", args=["boyle-heights"])
    before = Broadcast.objects.count()
    data = {"text_en": en, "text_es": es, "zip_codes": zips, "h3_cells": cells, "skill": skill}
    response = client_as(net.ana).post(url, {k: v.replace("\x00", "") for k, v in data.items()})
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert Broadcast.objects.count() == before
