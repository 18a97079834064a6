"""figures_page: the figures of a city with 100k incidents over a year, computed for the page.

A child process builds a throwaway one-machine install (SQLite file in WAL mode, as
deployed): one city with six local committees, 100k incidents spread over 365 days (1.5
reports each on average), a third of them offered to a verifier who accepted, one in six
confirmed, one in four called a false alarm (each a timeline entry), and two alerts sent per
confirmed incident. Then it computes the city's figures (`record.figures.compute`, what the
page and every CSV call) for the whole year, and for the last 30 days, several times each:

- `p95_ms`: the whole year's figures (every incident counted), the figure the target is
  about; `month_p95_ms`: the default view, the last 30 days;
- `cpu_p95_ms`, `month_cpu_p95_ms`: the same in CPU time of the process (SQLite runs in
  it), what an idle machine would show;
- `statements`: SQL statements one computation runs (the same for 10 incidents or 100k);
- `incidents`, `reports`: what was counted; `load_average`, `cores`: a shared machine's
  wall-clock figures include waiting for a core.

Target: p95_ms <= 2000 (a year of a busy city's figures within two seconds on two cores).
"""

from __future__ import annotations

import json
import os
import sys

from bench import progress, result
from bench._server import p95, run_child

TARGETS = {"p95_ms": 2000.0}


def run(quick: bool = False) -> dict:
    n = 10_000 if quick else 100_000
    figures = run_child("figures_page", str(n))
    ok = figures["p95_ms"] <= TARGETS["p95_ms"]
    return result("figures_page", figures, TARGETS, ok)


def child(n: int) -> dict:
    import random
    import time

    import django

    django.setup()
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from defensa.accounts.models import User
    from defensa.committees.models import Committee, Kind
    from defensa.core.tokens import SHORT_CODE_ALPHABET as ALPHABET
    from defensa.dispatch.models import Offer, OfferStatus
    from defensa.incidents.models import Incident, State, TimelineAction, TimelineEntry
    from defensa.notify.models import Delivery, Status
    from defensa.record.figures import FiguresFilter, Scope, compute
    from defensa.reports.actions import key_digest
    from defensa.reports.models import Report

    call_command("migrate", verbosity=0, interactive=False)
    assert connection.vendor == "sqlite" and "defensa-bench-" in str(
        connection.settings_dict["NAME"]
    )
    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def code(i: int, prefix: str) -> str:
        digits = []
        for _ in range(6):
            i, rem = divmod(i, len(ALPHABET))
            digits.append(ALPHABET[rem])
        return prefix + "".join(digits)[:7]

    city = Committee.objects.create(name="City", slug="city", kind=Kind.CITY)
    locals_ = [
        Committee.objects.create(name=f"Local {k}", slug=f"local-{k}", parent=city)
        for k in range(6)
    ]
    verifier = User.objects.create_user(email="v@example.org", password="x" * 20)
    progress(f"loading {n} incidents over a year")
    started = time.monotonic()
    batch = 5000
    made = 0
    report_no = 0
    while made < n:
        size = min(batch, n - made)
        incidents = []
        for i in range(made, made + size):
            opened = now - dt.timedelta(minutes=rng.uniform(0, 365 * 24 * 60))
            incidents.append(
                Incident(
                    reference=code(i, "I"),
                    category=rng.choice(["workplace_raid", "vehicle_stop", "sighting"]),
                    committee=rng.choice(locals_),
                    first_observed_at=opened,
                    last_observed_at=opened,
                    created_at=opened,
                    report_count=1,
                )
            )
        Incident.objects.bulk_create(incidents)
        saved = list(Incident.objects.filter(reference__in=[i.reference for i in incidents]))
        reports, entries, offers, deliveries = [], [], [], []
        for inc in saved:
            for _ in range(rng.choice((1, 1, 2))):
                reports.append(
                    Report(
                        reference=code(report_no, "R"),
                        channel="web",
                        category=inc.category,
                        observed_at=inc.created_at,
                        created_at=inc.created_at,
                        idempotency_key=key_digest(f"bench-{report_no}"),
                        incident=inc,
                    )
                )
                report_no += 1
            roll = rng.random()
            if roll < 1 / 3:
                offers.append(
                    Offer(
                        incident=inc,
                        responder=verifier,
                        status=OfferStatus.ACCEPTED,
                        nonce="0" * 32,
                        token_hash=f"{inc.pk:064d}",
                        created_at=inc.created_at,
                        expires_at=inc.created_at + dt.timedelta(hours=4),
                        responded_at=inc.created_at + dt.timedelta(minutes=rng.uniform(1, 30)),
                    )
                )
            verdict = State.CONFIRMED if roll < 1 / 6 else State.FALSE_ALARM if roll > 3 / 4 else ""
            if verdict:
                at = inc.created_at + dt.timedelta(minutes=rng.uniform(5, 90))
                entries.append(
                    TimelineEntry(
                        incident=inc,
                        action=TimelineAction.STATE_CHANGED,
                        at=at,
                        detail={"from": "verifying", "to": verdict},
                    )
                )
                if verdict == State.CONFIRMED:
                    for channel in ("sms", "email"):
                        deliveries.append(
                            Delivery(
                                recipient=verifier,
                                channel=channel,
                                template="incident_alert",
                                context={"incident": inc.pk},
                                language="en",
                                status=Status.SENT,
                                idempotency_key=f"alert:{inc.pk}:{channel}",
                                created_at=at,
                                sent_at=at,
                            )
                        )
        Report.objects.bulk_create(reports)
        TimelineEntry.objects.bulk_create(entries)
        Offer.objects.bulk_create(offers)
        Delivery.objects.bulk_create(deliveries)
        made += size
    progress(f"loaded in {time.monotonic() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    scope = Scope(city, city.tz, tuple(Committee.objects.all()))
    today = now.astimezone(city.tz).date()
    year = {"since": (today - dt.timedelta(days=365)).isoformat(), "until": today.isoformat()}

    cpu: dict[str, list[float]] = {"year": [], "month": []}

    def timed(data: dict, name: str) -> tuple[list[float], int, object]:
        runs, statements, last = [], 0, None
        for _ in range(7):
            form = FiguresFilter(data, scope=scope)
            assert form.is_valid(), form.errors
            with CaptureQueriesContext(connection) as queries:
                t, c = time.perf_counter(), time.process_time()
                last = compute(form)
                runs.append((time.perf_counter() - t) * 1000)
                cpu[name].append((time.process_time() - c) * 1000)
            statements = len(queries.captured_queries)
        return runs, statements, last

    load_before = os.getloadavg()[0]
    year_ms, statements, figures = timed(year, "year")
    month_ms, _statements, _month = timed({}, "month")
    total = figures.totals  # type: ignore[attr-defined]
    return {
        "p95_ms": round(p95(year_ms), 1),
        "month_p95_ms": round(p95(month_ms), 1),
        # CPU time of this process (SQLite runs in it): what an idle machine would show.
        "cpu_p95_ms": round(p95(cpu["year"]), 1),
        "month_cpu_p95_ms": round(p95(cpu["month"]), 1),
        "statements": statements,
        "incidents": total.incidents,
        "reports": total.reports,
        "load_average": round((load_before + os.getloadavg()[0]) / 2, 2),
        "cores": os.cpu_count(),
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defensa.settings")
        print(json.dumps(child(int(sys.argv[2]))), flush=True)
    else:
        raise SystemExit("run it as: python -m bench figures_page [--quick]")
