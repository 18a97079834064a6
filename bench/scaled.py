"""scaled: PostgreSQL, 2 gunicorn workers + 2 delivery workers, intake and a broadcast at once.

A scratch PostgreSQL database of its own (BENCH_SCALED_DB, default `defensa_bench_scaled`,
dropped and created on the server of BENCH_PG, default postgres://postgres@127.0.0.1:5432)
holds the members of a broadcast. gunicorn runs 2 worker processes; two `manage.py deliver`
processes send through the Twilio-compatible peer on loopback at a provisioned rate
(BENCH_SCALED_RATE, 100/s). While the broadcast is queued and sent, threads post public
reports through the form (each form page posted once), for a fixed window.

Figures: `accepted_per_s` (reports answered 200 per second of the window), `lost` (answered
reports missing from the database, plus deliveries marked sent that the peer never got or
the other way round), `duplicate_sends` (requests beyond one per idempotency key at the peer:
a message sent twice), `over_rate` (busiest second above the rate). Target: 0 lost, 0 duplicate
sends.
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from bench import progress, result
from bench._server import running_server, start_worker, stop_worker, twilio_env
from bench.broadcast import busiest_second, python, start_peer
from bench.intake_idempotency import _open_form, _post

SETUP = """
import sys, json, django
django.setup()
from defensa.accounts.models import User
from defensa.committees.models import Committee, Membership
from defensa.broadcasts import actions
count = int(sys.argv[1])
committee = Committee.objects.create(name="Strike city", slug="strike")
for start in range(0, count, 5000):
    User.objects.bulk_create([
        User(email=f"m{n}@example.org", display_name=f"M{n}", phone=f"+1{2130000000 + n}",
             notify_sms=True, notify_email=False, language="es" if n % 2 else "en",
             password="!")
        for n in range(start, min(count, start + 5000))])
ids = list(User.objects.values_list("pk", flat=True))
for start in range(0, len(ids), 5000):
    Membership.objects.bulk_create([Membership(user_id=i, committee=committee, status="full")
                                    for i in ids[start:start + 5000]])
author, approver = User.objects.order_by("pk")[:2]
b = actions.create_broadcast(committee, actor=author,
    texts={"en": "General strike Monday.", "es": "Huelga general el lunes."})
actions.send_broadcast(b, actor=author)
if b.status == "pending":
    actions.approve_broadcast(b, actor=approver)
print(json.dumps({"broadcast": b.pk}))
"""

ENQUEUE = """
import sys, json, django
django.setup()
from defensa.broadcasts.tasks import enqueue_broadcast
enqueue_broadcast.call(int(sys.argv[1]))
print(json.dumps({}))
"""

REPORT = """
import sys, json, django
django.setup()
from defensa.notify.models import Delivery
from defensa.reports.actions import key_digest
from defensa.reports.models import Report
tokens = json.loads(sys.stdin.read())
keys = {key_digest(f"web:{t}") for t in tokens}
stored = set(Report.objects.values_list("idempotency_key", flat=True))
rows = Delivery.objects.filter(channel="sms").values_list("idempotency_key", "status")
print(json.dumps({"reports_missing": len(keys - stored),
                  "sent": [k for k, s in rows if s == "sent"],
                  "sending": sum(1 for _k, s in rows if s == "sending")}))
"""


def _database(url: str, name: str) -> str:
    """Drop and create the benchmark's own database; return its URL."""
    import psycopg

    with psycopg.connect(f"{url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{url}/{name}"


def _drop(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _python_stdin(env: dict[str, str], code: str, data: str) -> dict:
    import subprocess
    import sys

    from bench import ROOT

    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        input=data,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(quick: bool = False) -> dict:
    members = 3_000 if quick else 30_000
    window = 15.0 if quick else 60.0
    rate = int(os.environ.get("BENCH_SCALED_RATE", "100"))
    server_url = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    name = os.environ.get("BENCH_SCALED_DB", "defensa_bench_scaled")
    db_url = _database(server_url, name)
    progress(f"PostgreSQL database {urlsplit(db_url).path.lstrip('/')}")
    peer, peer_server = start_peer()
    extra = {
        "DATABASE_URL": db_url,
        "DEFENSA_REPORT_FLOOD_LIMIT": "1000000",  # every post comes from loopback
        "BROADCAST_APPROVAL_THRESHOLD": "1000000000",
        **twilio_env(peer, f"{rate}/s"),
    }
    answers: list[tuple[int, str]] = []
    tokens: list[str] = []
    try:
        with running_server(workers=2, threads=4, extra_env=extra) as server:
            progress(f"seeding {members} broadcast members")
            seeded = python(server.env, SETUP, str(members))
            workers = [start_worker(server.env) for _ in range(2)]
            import subprocess
            import sys

            from bench import ROOT

            enqueuer = subprocess.Popen(
                [sys.executable, "-c", ENQUEUE, str(seeded["broadcast"])],
                cwd=ROOT,
                env=server.env,
                stdout=subprocess.DEVNULL,
            )
            lock = threading.Lock()
            stop_at = time.monotonic() + window
            counter = iter(range(10**9))

            def poster() -> None:
                while time.monotonic() < stop_at:
                    i = next(counter)
                    form = _open_form(server.url)
                    status = _post(server.url, form, i)
                    with lock:
                        tokens.append(form[2])
                        answers.append(status)

            progress(f"posting reports for {window:.0f} s while the broadcast is queued and sent")
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=6) as pool:
                for future in [pool.submit(poster) for _ in range(6)]:
                    future.result()
            elapsed = time.monotonic() - started
            for proc in workers:
                stop_worker(proc)
            if enqueuer.poll() is None:
                enqueuer.terminate()
            enqueuer.wait()
            report = _python_stdin(server.env, REPORT, json.dumps(tokens))
    finally:
        peer_server.shutdown()
        _drop(server_url, name)
    accepted = sum(1 for status, _ref in answers if status == 200)
    at_peer = set(peer.requests_by_key)
    in_db = set(report["sent"])
    lost_sends = len(in_db - at_peer) + len(at_peer - in_db) + report["sending"]
    times = [m.at for m in peer.messages]
    figures = {
        "members": members,
        "window_s": window,
        "reports_posted": len(answers),
        "accepted_per_s": round(accepted / elapsed, 1),
        "errors": len(answers) - accepted,
        "lost": report["reports_missing"] + lost_sends,
        "duplicate_sends": sum(n - 1 for n in peer.requests_by_key.values()),
        "sent": len(peer.messages),
        "sent_per_s": round(len(peer.messages) / elapsed, 1),
        "provisioned_per_s": rate,
        "over_rate": max(0, busiest_second(times) - rate),
        "load_average": round(os.getloadavg()[0], 2),
    }
    targets = {"lost": 0, "duplicate_sends": 0}
    ok = figures["lost"] == 0 and figures["duplicate_sends"] == 0 and figures["over_rate"] == 0
    return result("scaled", figures, targets, ok)
