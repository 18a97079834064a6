"""The health check says yes or no and nothing more; the metrics need a token and name nobody."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.utils import timezone

from defensa.core.heartbeat.beat import Beating, beat
from defensa.core.heartbeat.models import Heartbeat
from defensa.notify.actions import Address, queue_message
from defensa.notify.models import Delivery, Priority, Status
from defensa.ops import health

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests-0123456789"
SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"\\]*",?)*\})? -?[0-9.e+]+$')


def _urgent(n: int = 1, *, due: dt.datetime | None = None) -> list[Delivery]:
    out = []
    for i in range(n):
        out += queue_message(
            Address("sms", f"+1213555{i:04d}"),
            "test_message",
            {},
            priority=Priority.URGENT,
            idempotency_key=f"ops:{i}:{time.time_ns()}",
            audit=False,
        )
    if due is not None:
        Delivery.objects.filter(pk__in=[d.pk for d in out]).update(next_attempt_at=due)
    return out


def test_healthy_when_a_worker_beats_and_nothing_urgent_waits(client):
    beat("deliver")
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "status": "ok",
        "checks": {
            "database": True,
            "delivery_worker": True,
            "urgent_messages": True,
            "disk": True,
        },
    }
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_no_worker_ever_seen_is_a_failure(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["delivery_worker"] is False


def test_a_silent_worker_and_a_late_urgent_message_fail_and_say_nothing_else(client, settings):
    Heartbeat.objects.create(
        kind="deliver", process="web1:42", beat_at=timezone.now() - dt.timedelta(minutes=5)
    )
    _urgent(3, due=timezone.now() - dt.timedelta(minutes=10))
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["delivery_worker"] is False
    assert body["checks"]["urgent_messages"] is False
    # Only yes or no: no counts, ages, process names or addresses for a stranger to read.
    text = response.content.decode()
    assert not re.search(r"\d", text), text
    assert "web1" not in text


def test_urgent_messages_due_in_the_future_or_just_now_are_not_late(settings):
    beat("deliver")
    _urgent(2, due=timezone.now() + dt.timedelta(minutes=30))
    _urgent(1, due=timezone.now() - dt.timedelta(seconds=5))
    assert health.checks(health.figures())["urgent_messages"] is True


def test_disk_check_follows_the_setting(settings):
    beat("deliver")
    settings.HEALTH_MIN_FREE_MB = 10**12  # more than any disk has
    assert health.checks(health.figures())["disk"] is False


def test_metrics_are_closed_without_the_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 404


def _metrics(client, settings) -> str:  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.content.decode()


def _value(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        named = line.startswith((name + "{", name + " "))
        if named and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} not in the metrics")


def test_metrics_count_the_outbox_and_the_latency_without_naming_anyone(client, settings, net):
    beat("deliver")
    _urgent(4)
    sent = _urgent(3)
    now = timezone.now()
    for seconds, d in zip((0.5, 3, 400), sent, strict=True):
        Delivery.objects.filter(pk=d.pk).update(
            status=Status.SENT,
            transport="twilio",
            created_at=now - dt.timedelta(seconds=seconds),
            sent_at=now,
        )
    text = _metrics(client, settings)
    for line in text.splitlines():
        assert line.startswith("# ") or SAMPLE.match(line), line
    assert _value(text, "defensa_outbox_messages", priority="urgent", status="queued") == 4
    assert _value(text, "defensa_outbox_messages", priority="bulk", status="queued") == 0
    assert _value(text, "defensa_deliveries_last_hour", channel="sms", outcome="sent") == 3
    bucket = {
        le: _value(text, "defensa_delivery_latency_seconds_bucket", priority="urgent", le=le)
        for le in ("1", "5", "300", "3600", "+Inf")
    }
    assert bucket == {"1": 1, "5": 2, "300": 2, "3600": 3, "+Inf": 3}
    assert _value(text, "defensa_delivery_latency_seconds_count", priority="urgent") == 3
    assert 403 <= _value(text, "defensa_delivery_latency_seconds_sum", priority="urgent") <= 404
    assert _value(text, "defensa_health_check", check="delivery_worker") == 1
    # The sealed addresses, the people of the network: none of them in any label.
    for person in (net.ana, net.dani, net.vero, net.lucia, net.mo, net.pat, net.omar):
        assert person.email not in text and (not person.phone or person.phone not in text)
    assert "+1213555" not in text and "5550000" not in text


def test_a_process_beats_from_its_own_thread_and_stops(transactional_db):
    with Beating("deliver", interval=0.05):
        deadline = time.monotonic() + 10
        while not Heartbeat.objects.filter(kind="deliver").exists():
            assert time.monotonic() < deadline, "no heartbeat within 10 s"
            time.sleep(0.02)
        first = Heartbeat.objects.get(kind="deliver").beat_at
        while Heartbeat.objects.get(kind="deliver").beat_at == first:
            assert time.monotonic() < deadline, "the heartbeat did not move"
            time.sleep(0.02)
    assert Heartbeat.objects.count() == 1  # one row per process, updated in place
