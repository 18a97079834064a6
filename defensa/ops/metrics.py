"""Prometheus metrics, read from the database, so every web process tells the same story.

Text exposition format 0.0.4, written here in a few lines rather than with a client library:
the figures are all read fresh from the tables (no in-process counters that several gunicorn
workers or machines would each hold a part of). No label ever holds personal data: only
channels, transports, priorities, statuses, message kinds and process names (`host:pid`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from defensa.core.heartbeat.models import Heartbeat
from defensa.notify.models import Delivery, Priority, Status
from defensa.ops import health
from defensa.reports.models import Report

# Seconds from queueing to sent: an urgent alert should sit in the first buckets.
LATENCY_BUCKETS = (1, 2, 5, 10, 30, 60, 300, 900, 3600)
WINDOW = dt.timedelta(hours=1)
PRIORITY_NAMES = {p.value: p.name.lower() for p in Priority}


def _labels(labels: dict[str, object]) -> str:
    if not labels:
        return ""
    inner = ",".join(
        f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in labels.items()
    )
    return "{" + inner + "}"


class Exposition:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, text: str) -> None:
        self.lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]

    def sample(self, name: str, value: float, **labels: object) -> None:
        number = repr(float(value)) if isinstance(value, float) else str(value)
        self.lines.append(f"{name}{_labels(labels)} {number}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render(now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    out = Exposition()
    f = health.figures(now)
    out.family("defensa_health_check", "gauge", "1 when the health check passes, by check.")
    for check, ok in health.checks(f).items():
        out.sample("defensa_health_check", int(ok), check=check)
    out.family("defensa_disk_free_bytes", "gauge", "Free space where the data lives.")
    out.sample("defensa_disk_free_bytes", f.disk_free_bytes)
    out.family(
        "defensa_oldest_urgent_due_seconds",
        "gauge",
        "How long the oldest due urgent message has waited (0 when none waits).",
    )
    out.sample("defensa_oldest_urgent_due_seconds", float(f.oldest_urgent_s or 0.0))
    _heartbeats(out, now)
    _outbox(out)
    _deliveries(out, now)
    _reports(out, now)
    return out.text()


def _heartbeats(out: Exposition, now: dt.datetime) -> None:
    out.family(
        "defensa_heartbeat_age_seconds", "gauge", "Seconds since each background process beat."
    )
    for kind, process, beat_at in Heartbeat.objects.values_list("kind", "process", "beat_at"):
        age = max(0.0, (now - beat_at).total_seconds())
        out.sample("defensa_heartbeat_age_seconds", age, kind=kind, process=process)


def _outbox(out: Exposition) -> None:
    out.family("defensa_outbox_messages", "gauge", "Messages waiting, by priority and status.")
    rows = (
        Delivery.objects.filter(status__in=[Status.QUEUED, Status.SENDING])
        .values("priority", "status")
        .annotate(n=Count("id"))
    )
    seen = {(r["priority"], r["status"]): r["n"] for r in rows}
    for priority, name in PRIORITY_NAMES.items():
        for status in (Status.QUEUED, Status.SENDING):
            value = seen.get((priority, status.value), 0)
            out.sample("defensa_outbox_messages", value, priority=name, status=status.value)


def _deliveries(out: Exposition, now: dt.datetime) -> None:
    since = now - WINDOW
    out.family(
        "defensa_deliveries_last_hour",
        "gauge",
        "Messages that reached a final state in the last hour, by channel, transport, outcome.",
    )
    finished = (
        Delivery.objects.filter(
            Q(status=Status.SENT, sent_at__gte=since)
            | Q(status=Status.FAILED, next_attempt_at__gte=since)
        )
        .values("channel", "transport", "status")
        .annotate(n=Count("id"))
        .order_by("channel", "transport", "status")
    )
    for row in finished:
        out.sample(
            "defensa_deliveries_last_hour",
            row["n"],
            channel=row["channel"],
            transport=row["transport"] or "none",
            outcome=row["status"],
        )
    out.family(
        "defensa_delivery_latency_seconds",
        "histogram",
        "Seconds from queueing to sent, for messages sent in the last hour, by priority.",
    )
    sent = Delivery.objects.filter(status=Status.SENT, sent_at__gte=since)
    buckets = {
        f"le_{b}": Count("id", filter=Q(sent_at__lte=F("created_at") + dt.timedelta(seconds=b)))
        for b in LATENCY_BUCKETS
    }
    waited = ExpressionWrapper(F("sent_at") - F("created_at"), output_field=DurationField())
    rows = sent.values("priority").annotate(total=Count("id"), waited=Sum(waited), **buckets)
    by_priority = {r["priority"]: r for r in rows}
    for priority, name in PRIORITY_NAMES.items():
        row = by_priority.get(priority, {})
        for b in LATENCY_BUCKETS:
            out.sample(
                "defensa_delivery_latency_seconds_bucket",
                row.get(f"le_{b}", 0),
                priority=name,
                le=str(b),
            )
        total = row.get("total", 0)
        out.sample("defensa_delivery_latency_seconds_bucket", total, priority=name, le="+Inf")
        waited_s = row["waited"].total_seconds() if row.get("waited") else 0.0
        out.sample("defensa_delivery_latency_seconds_sum", waited_s, priority=name)
        out.sample("defensa_delivery_latency_seconds_count", total, priority=name)


def _reports(out: Exposition, now: dt.datetime) -> None:
    out.family("defensa_reports_last_hour", "gauge", "Reports received in the last hour.")
    rows = (
        Report.objects.filter(created_at__gte=now - WINDOW)
        .values("channel")
        .annotate(n=Count("id"))
        .order_by("channel")
    )
    counts = {r["channel"]: r["n"] for r in rows}
    for channel in _report_channels(counts):
        out.sample("defensa_reports_last_hour", counts.get(channel, 0), channel=channel)


def _report_channels(counts: dict[str, int]) -> Iterable[str]:
    declared = [value for value, _label in Report._meta.get_field("channel").choices]
    return [*declared, *sorted(set(counts) - set(declared))]
