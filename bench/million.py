"""million: a network of 1,000,000 members on PostgreSQL (docs/performance.md, "A million").

PostgreSQL only, and not part of `python -m bench all` (ALL = False): it needs a database
server and about half an hour. BENCH_DATABASE_URL names a scratch database of its own (for
example postgres://postgres@127.0.0.1:5432/million_bench): the benchmark drops and creates it
at the start and drops it at the end. Without it, or with no PostgreSQL answering there, it
refuses with a message and touches nothing (BENCH_MILLION_KEEP=1 leaves the database there
afterwards, to look at its query plans). BENCH_MILLION_MEMBERS (default 1,000,000) makes a
smaller run while iterating; `--quick` is 20,000. The output says when a run is not the full
million (`full_million`).

1. Seed, with PostgreSQL's COPY (psycopg 3's `cursor.copy()`), rows of the real tables:
   200 committees (a network, 9 cities, 190 locals with one Los Angeles ZIP code each; local
   sizes fall off as 1/rank^0.7, so the largest holds about 7.5% of everyone), the members
   (accounts and memberships; home ZIP, a coarse home cell near it, 30% on duty), skills (40%
   verifiers, 20% a second skill), weekly shifts for a quarter of the members, area alerts
   for a tenth, and alert subscribers without an account (a tenth as many as members).
   Subscribers' numbers are sealed for real, one by one, with the project's crypto: each
   value is bound to its row (the AAD holds the pk) and the area alert opens them again. The
   rows share a pool of 50 data keys (crypto allows a key per group of rows), because a key
   per row would measure key wrapping, not the queries.
2. In the same run, on the largest local committee:
   - `match_p95_ms`: `dispatch.matching.nearest_responders(incident, 50)` for 30 incidents;
   - `console_p95_ms` and `members_page_p95_ms`: the dispatcher's console and the
     coordinators' members page (first page, then pages further on), through the full
     middleware stack with Django's test client, 20 fetches each (CPU time reported too);
   - `area_alert_queued_s`: `confirm_and_respond` on a raid at the area's centre, until
     every alert to the area's members who asked and its subscribers is queued;
   - `broadcast_enqueue_s`: a network-wide broadcast (every committee, every member) from
     the second coordinator's approval until the enqueuer (the real task function, batch by
     batch) has queued every delivery (target <= 300 s);
   - `db_mb`: the database's size at the end (`db_mb_seeded`: before the alert and the
     broadcast queued their deliveries).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import ROOT, progress, result
from bench._server import p95, scratch_env

ALL = False  # not in `python -m bench all`: PostgreSQL only, and long
FULL = 1_000_000
QUICK = 20_000
COMMITTEES = 200
CITIES = 9
LOCALS = COMMITTEES - CITIES - 1
CENTRE = (34.05, -118.25)  # Los Angeles
TARGETS = {
    "match_p95_ms": 50.0,
    "area_alert_queued_s": 5.0,
    "broadcast_enqueue_s": 300.0,
    "console_p95_ms": 500.0,
    "members_page_p95_ms": 500.0,
}


class Refused(SystemExit):
    pass


def _split(url: str) -> tuple[str, str]:
    """(the server's maintenance URL, the database name) of a PostgreSQL URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql") or not parts.path.strip("/"):
        raise Refused(
            "million: BENCH_DATABASE_URL must be a PostgreSQL URL with a database name of its "
            "own, e.g. postgres://postgres@127.0.0.1:5432/million_bench"
        )
    name = parts.path.strip("/")
    return urlunsplit(parts._replace(path="/postgres")), name


def scratch_database(url: str) -> str:
    """Drop and create the benchmark's database; refuse clearly when PostgreSQL is not there."""
    import psycopg

    server, name = _split(url)
    try:
        with psycopg.connect(server, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        raise Refused(f"million: no PostgreSQL answers at BENCH_DATABASE_URL ({exc})") from exc
    return url


def drop_database(url: str) -> None:
    import psycopg

    server, name = _split(url)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(quick: bool = False) -> dict:
    url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    if not url:
        raise Refused(
            "million: PostgreSQL only. Set BENCH_DATABASE_URL to a scratch database it may "
            "drop and create, e.g. postgres://postgres@127.0.0.1:5432/million_bench"
        )
    members = QUICK if quick else int(os.environ.get("BENCH_MILLION_MEMBERS", str(FULL)))
    if members < 2_000:
        raise Refused("million: BENCH_MILLION_MEMBERS must be at least 2000")
    if members != FULL:
        progress(f"NOT the full million: {members} members (BENCH_MILLION_MEMBERS or --quick)")
    scratch_database(url)
    try:
        with tempfile.TemporaryDirectory(prefix="defensa-bench-") as tmp:
            env = scratch_env(Path(tmp) / "data", DATABASE_URL=url)
            done = subprocess.run(
                [sys.executable, "-m", "bench.million", "--child", str(members)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
                check=True,
            )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if os.environ.get("BENCH_MILLION_KEEP") != "1":
            drop_database(url)
    ok = all(figures[name] <= limit for name, limit in TARGETS.items())
    return result("million", figures, {k: f"<= {v}" for k, v in TARGETS.items()}, ok)


# The child: a Django process on the scratch database ----------------------------------


def _copy(model, rows, fields: list[str]) -> int:  # type: ignore[no-untyped-def]
    """COPY rows (tuples in the order of `fields`, attnames) into the model's table; every
    other column gets the field's default. Returns the number of rows."""
    from django.db import connection

    by_name = {f.attname: f for f in model._meta.concrete_fields}
    missing = [name for name in fields if name not in by_name]
    if missing:
        raise ValueError(f"{model.__name__} has no column {missing}")
    rest = [f for f in model._meta.concrete_fields if f.attname not in fields]
    defaults = []
    for f in rest:
        value = f.get_default()  # "" for a text column without one, None when nullable
        if value is None and not f.null:
            raise ValueError(f"{model.__name__}.{f.attname} needs a value")
        defaults.append(value)
    columns = [by_name[n].column for n in fields] + [f.column for f in rest]
    sql = 'COPY "{}" ({}) FROM STDIN'.format(
        model._meta.db_table, ", ".join(f'"{c}"' for c in columns)
    )
    count = 0
    tail = tuple(defaults)
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row + tail)
            count += 1
    return count


def _reset_sequences(*models) -> None:  # type: ignore[no-untyped-def]
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(sql)


def _weights(n: int) -> list[float]:
    raw = [1 / (rank + 1) ** 0.7 for rank in range(n)]
    total = sum(raw)
    return [w / total for w in raw]


def seed(members: int) -> dict:  # noqa: PLR0915 (one long, linear recipe)
    import datetime as dt
    import random
    from collections import Counter

    from django.db import connection, transaction
    from django.utils import timezone

    from defensa.accounts.models import Skill, SkillKind, User
    from defensa.committees.models import Committee, Kind, Membership, MemberStatus, Shift
    from defensa.core import crypto, geo
    from defensa.core.crypto.digests import digest_key, keyed_digest
    from defensa.dispatch.models import AreaAlert
    from defensa.subscribers.actions import DIGEST_KEY
    from defensa.subscribers.models import Subscription

    rng = random.Random(1_000_000)
    now = timezone.now()
    zips = sorted(
        geo._state_zip_centroids("CA"),
        key=lambda z: (z[1] - CENTRE[0]) ** 2 + (z[2] - CENTRE[1]) ** 2,
    )[:LOCALS]
    network = Committee.objects.create(name="Network", slug="network", kind=Kind.NETWORK)
    cities = [
        Committee.objects.create(name=f"City {i}", slug=f"city-{i}", kind=Kind.CITY, parent=network)
        for i in range(CITIES)
    ]
    locals_ = Committee.objects.bulk_create(
        [
            Committee(
                name=f"Local {i} ({z})",
                slug=f"local-{i}",
                kind=Kind.LOCAL,
                parent=cities[i % CITIES],
                zip_codes=[z],
            )
            for i, (z, _lat, _lon) in enumerate(zips)
        ]
    )
    assert Committee.objects.count() == COMMITTEES  # noqa: S101
    # Each local's few home cells around its ZIP's centre (coarse areas, as people choose).
    cells = {
        c.pk: [
            geo.cell_for(lat + rng.uniform(-0.02, 0.02), lon + rng.uniform(-0.02, 0.02))
            for _ in range(8)
        ]
        for c, (_z, lat, lon) in zip(locals_, zips, strict=True)
    }
    zip_of = {c.pk: c.zip_codes[0] for c in locals_}
    weights = _weights(len(locals_))
    committee_of = rng.choices([c.pk for c in locals_], weights=weights, k=members)
    others = [k for k in SkillKind.values if k != SkillKind.VERIFIER]

    progress(f"COPY {members} accounts")
    started = time.monotonic()
    with transaction.atomic():
        user_fields = [
            "id", "password", "email", "display_name", "phone", "language", "notify_email",
            "notify_sms", "home_zip", "home_cell", "area_cell", "on_duty", "on_duty_since",
            "created_at",
        ]  # fmt: skip
        on_duty = [rng.random() < 0.3 for _ in range(members)]

        def users():  # type: ignore[no-untyped-def]
            for n in range(members):
                committee = committee_of[n]
                cell = cells[committee][n % 8]
                sms = n % 5 != 0
                yield (
                    n + 1, "!", f"m{n}@bench.invalid", f"Member {n:07d}",
                    f"+1{2130000000 + n}", "es" if n % 3 else "en", not sms, sms,
                    zip_of[committee], cell, cell, on_duty[n], now if on_duty[n] else None, now,
                )  # fmt: skip

        _copy(User, users(), user_fields)
        progress(f"COPY {members} memberships")
        _copy(
            Membership,
            (
                (
                    n + 1,
                    n + 1,
                    committee_of[n],
                    MemberStatus.FULL,
                    now,
                    now,
                    cells[committee_of[n]][n % 8],
                )
                for n in range(members)
            ),
            ["id", "user_id", "committee_id", "status", "full_since", "joined_at", "area_cell"],
        )
        progress("COPY skills, shifts, area alerts")
        today = timezone.localdate()

        def skills():  # type: ignore[no-untyped-def]
            pk = 0
            for n in range(members):
                if rng.random() < 0.4:
                    pk += 1
                    yield (pk, n + 1, SkillKind.VERIFIER, today, None)
                if rng.random() < 0.2:
                    pk += 1
                    yield (pk, n + 1, rng.choice(others), today, None)

        n_skills = _copy(Skill, skills(), ["id", "user_id", "kind", "trained_on", "expires_on"])

        def shifts():  # type: ignore[no-untyped-def]
            pk = 0
            for n in range(members):
                if rng.random() < 0.25:
                    start = rng.randrange(0, 20)
                    pk += 1
                    yield (
                        pk, n + 1, rng.randrange(7), dt.time(start), dt.time((start + 4) % 24),
                    )  # fmt: skip

        n_shifts = _copy(Shift, shifts(), ["id", "membership_id", "weekday", "start", "end"])
        n_alerts = _copy(
            AreaAlert,
            ((n + 1, n + 1, cells[committee_of[n]][n % 8], now) for n in range(0, members, 10)),
            ["id", "user_id", "cell", "created_at"],
        )
        _reset_sequences(User, Membership, Skill, Shift, AreaAlert)
    progress(f"members seeded in {time.monotonic() - started:.0f} s")

    subscribers = members // 10
    progress(f"sealing and COPY {subscribers} alert subscribers' numbers")
    started = time.monotonic()
    with transaction.atomic():
        keys = crypto.new_keys("subscribers.subscription", 50)
        digest = digest_key(DIGEST_KEY)
        zip_cell = {
            c.pk: geo.cell_for(*geo.zip_centroid(c.zip_codes[0]))  # type: ignore[misc]
            for c in locals_
        }
        sub_committee = rng.choices([c.pk for c in locals_], weights=weights, k=subscribers)

        def subs():  # type: ignore[no-untyped-def]
            for n in range(subscribers):
                pk = n + 1
                key = keys[n % len(keys)]
                committee = sub_committee[n]
                # A tenth are members' own numbers (sent one alert, not two).
                phone = f"+1{2130000000 + n * 7}" if n % 10 == 0 else f"+1{4240000000 + n}"
                sealed = crypto.encrypt(key, phone, aad=f"subscribers.subscription.phone#{pk}")
                yield (
                    pk, committee, zip_of[committee], zip_cell[committee],
                    "es" if n % 2 else "en", keyed_digest(digest, phone), key.pk, sealed,
                    now, now,
                )  # fmt: skip

        _copy(
            Subscription,
            subs(),
            [
                "id", "committee_id", "zip_code", "cell", "language", "digest", "data_key_id",
                "phone", "created_at", "confirmed_at",
            ],
        )  # fmt: skip
        _reset_sequences(Subscription)
    progress(f"subscribers seeded in {time.monotonic() - started:.0f} s")
    # As a database that has lived a while: statistics, and the visibility map that lets
    # counts be answered from an index alone (COPY leaves it unset until autovacuum runs;
    # counting a city's 75,000 memberships read the table instead: 1.8 s in the first run).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    counts = Counter(committee_of)
    largest = max(locals_, key=lambda c: counts[c.pk])
    return {
        "largest": largest.slug,
        "largest_members": Membership.objects.filter(committee=largest).count(),
        "skills": n_skills,
        "shifts": n_shifts,
        "area_alerts": n_alerts,
        "subscribers": subscribers,
    }


def timed(fn, samples: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    wall, cpu = [], []
    for _ in range(samples):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu


def db_mb() -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return round(cursor.fetchone()[0] / 2**20, 1)


def child(members: int) -> dict:  # noqa: PLR0915
    import random
    import re

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from defensa.broadcasts import actions as broadcasts
    from defensa.broadcasts import progress as broadcast_progress
    from defensa.broadcasts.tasks import enqueue_broadcast
    from defensa.committees.models import Committee
    from defensa.core import geo
    from defensa.core.testing import join, make_user, sign_in
    from defensa.dispatch import matching
    from defensa.dispatch.actions import confirm_and_respond
    from defensa.incidents.models import Incident
    from defensa.notify.models import Delivery

    assert connection.vendor == "postgresql"  # noqa: S101
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    seeded = seed(members)
    progress(
        f"largest committee {seeded['largest']}: {seeded['largest_members']} members; "
        f"{seeded['skills']} skills, {seeded['shifts']} shifts, {seeded['area_alerts']} area "
        f"alerts, {seeded['subscribers']} subscribers; {db_mb()} MB"
    )
    seeded_mb = db_mb()
    rng = random.Random(18)
    now = timezone.now()
    largest = Committee.objects.get(slug=seeded["largest"])
    network = Committee.objects.get(slug="network")
    lat0, lon0 = geo.zip_centroid(largest.zip_codes[0])  # type: ignore[misc]

    def incident(lat: float, lon: float, ref: str) -> Incident:
        return Incident.objects.create(
            reference=ref, category="workplace_raid", lat=lat, lon=lon, radius_m=50,
            weight=1 / 2500, cell=geo.cell_for(lat, lon), first_observed_at=now,
            last_observed_at=now, report_count=1, committee=largest,
        )  # fmt: skip

    progress("responder_match among them: 30 incidents in the largest committee's area")
    incidents = [
        incident(lat0 + rng.uniform(-0.02, 0.02), lon0 + rng.uniform(-0.02, 0.02), f"M{i:05d}")
        for i in range(30)
    ]
    found = [0]

    queue = iter(incidents)

    def match_one() -> None:
        found[0] = len(matching.nearest_responders(next(queue), 50, at=now))

    match_wall, match_cpu = timed(match_one, 30)
    progress(f"responder_match p95 {p95(match_wall):.0f} ms (CPU {p95(match_cpu):.0f} ms)")

    dispatcher = make_user("dispatcher", language="es")
    join(dispatcher, largest, is_dispatcher=True)
    coordinator = make_user("coordinator")
    join(coordinator, largest, is_coordinator=True)
    join(coordinator, network, is_coordinator=True)
    second = make_user("second")
    join(second, network, is_coordinator=True)

    def client_for(user):  # type: ignore[no-untyped-def]
        client = sign_in(Client(HTTP_HOST="localhost"), user)
        client.defaults["wsgi.url_scheme"] = "https"
        return client

    progress("the console and the members page, 20 fetches each")
    console = client_for(dispatcher)
    members_client = client_for(coordinator)
    console_url = f"/dispatch/{largest.slug}/"
    members_url = f"/committees/{largest.slug}/members/"

    def get(client, url: str) -> str:  # type: ignore[no-untyped-def]
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")
        return response.content.decode()

    get(console, console_url)  # unmeasured: templates load once per process
    console_wall, console_cpu = timed(lambda: get(console, console_url), 20)
    # The members page as a coordinator reads it: the first page, then the next ones by the
    # page's own "next" links (keyset), a new walk from the top every fifth fetch.
    first = get(members_client, members_url)
    next_link = re.compile(r'href="(\?after=\d+)"')
    rows_per_page = first.count('<tr id="member-')
    where = [members_url]

    def members_page() -> None:
        html = get(members_client, where[0])
        link = next_link.search(html)
        where[0] = members_url + link.group(1) if link else members_url

    members_wall, members_cpu = timed(members_page, 20)
    progress(
        f"console p95 {p95(console_wall):.0f} ms, members page p95 {p95(members_wall):.0f} ms"
        f" ({rows_per_page} rows a page)"
    )

    progress("area alert: a raid confirmed at the largest area's centre")
    raid = incident(lat0, lon0, "RAID0001")
    t0 = time.monotonic()
    confirm_and_respond(raid, actor=dispatcher, note="seen")
    area_alert_s = time.monotonic() - t0
    alerted = Delivery.objects.filter(template__in=["incident_alert", "subscriber_alert"]).count()
    progress(f"area alert: {alerted} queued in {area_alert_s:.1f} s")

    progress("a broadcast to every member of the network")
    broadcast = broadcasts.create_broadcast(
        network,
        actor=coordinator,
        include_subcommittees=True,
        texts={"en": "General strike Monday. Stay home.", "es": "Huelga general el lunes."},
    )
    broadcasts.send_broadcast(broadcast, actor=coordinator)
    t0 = time.monotonic()
    broadcasts.approve_broadcast(broadcast, actor=second)
    enqueue_broadcast.call(broadcast.pk)
    enqueue_s = time.monotonic() - t0
    deliveries = broadcast_progress.deliveries_of(broadcast).count()
    progress(f"{deliveries} broadcast deliveries queued in {enqueue_s:.0f} s")
    return {
        "members": members,
        "full_million": members == FULL,
        "committees": Committee.objects.count(),
        "largest_committee_members": seeded["largest_members"],
        "subscribers": seeded["subscribers"],
        "match_p95_ms": round(p95(match_wall), 1),
        "match_cpu_p95_ms": round(p95(match_cpu), 1),
        "matched": found[0],
        "area_alert_queued_s": round(area_alert_s, 2),
        "area_alert_recipients": alerted,
        "broadcast_enqueue_s": round(enqueue_s, 1),
        "broadcast_deliveries": deliveries,
        "console_p95_ms": round(p95(console_wall), 1),
        "console_cpu_p95_ms": round(p95(console_cpu), 1),
        "members_page_p95_ms": round(p95(members_wall), 1),
        "members_page_cpu_p95_ms": round(p95(members_cpu), 1),
        "members_page_rows": rows_per_page,
        "db_mb_seeded": seeded_mb,
        "db_mb": db_mb(),
        "db_mb_per_million_members": round(seeded_mb * FULL / members, 0),
        "load_average": round(os.getloadavg()[0], 2),
        "cores": os.cpu_count(),
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defensa.settings")
        print(json.dumps(child(int(sys.argv[2]))), flush=True)
    else:
        raise SystemExit("run it as: python -m bench million [--quick]")
