"""alert_fanout: from "verification requested" to every offer accepted by the SMS provider.

A child process builds a throwaway one-machine install (SQLite file, as deployed) with one
committee and 50 on-duty verifiers who chose text messages, starts the local Twilio peer
(`defensa/testing/peers/twilio.py`: 100 ms latency per request, at most 100 accepted per
second, 429 above that) and the real delivery worker (`manage.py deliver`, with the
rate x latency = 10 threads docs/channels.md asks for) pointed at it, with `TWILIO_RATE=100/s`
as provisioned. Each repetition reports a
new raid through `receive_report()` and calls `offer_to_nearest(incident, 50)` (what the
dispatcher's "request verification" button does); the clock starts just before that call and
stops when the peer has accepted the 50th offer of that incident. One alert before them
warms the worker up and is not timed.

Figures: `p95_s` (over the repetitions, of the time until every offer was accepted),
`per_message_p95_s` (each offer's own time), `action_s_max` (the offer_to_nearest call
alone), `responders`, `repetitions`. Target: p95_s <= 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import ROOT, progress, result
from bench._server import free_port, p95, scratch_env

TARGETS = {"p95_s": 2.0}
RESPONDERS = 50
PEER_LATENCY_S = 0.1
PEER_RATE = 100


def run(quick: bool = False) -> dict:
    repetitions = 3 if quick else 8
    with tempfile.TemporaryDirectory(prefix="defensa-bench-") as tmp:
        port = free_port()
        env = scratch_env(
            Path(tmp) / "data",
            TWILIO_API_BASE=f"http://127.0.0.1:{port}",
            TWILIO_ACCOUNT_SID="AC" + "0" * 32,
            TWILIO_AUTH_TOKEN="peer-auth-token-not-secret",  # noqa: S106 (the local peer's)
            TWILIO_FROM_NUMBER="+15005550006",
            TWILIO_WEBHOOK_BASE_URL="https://defensa.example.org",
            TWILIO_RATE=f"{PEER_RATE}/s",
            NOTIFY_CONSOLE="0",
            # docs/channels.md: rate x latency threads keep the pipe full (100/s x 0.1 s).
            NOTIFY_WORKER_THREADS=str(int(PEER_RATE * PEER_LATENCY_S)),
            DEFENSA_SITE_URL="https://defensa.example.org",
        )
        done = subprocess.run(
            [sys.executable, "-m", "bench.alert_fanout", "--child", str(port), str(repetitions)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    ok = figures["p95_s"] <= TARGETS["p95_s"] and figures["all_accepted"]
    return result("alert_fanout", figures, TARGETS, ok)


def child(port: int, repetitions: int) -> dict:
    import datetime as dt
    import time
    import uuid

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from defensa.accounts.models import Skill, SkillKind, User
    from defensa.committees.models import Committee, Membership, MemberStatus
    from defensa.dispatch.actions import offer_to_nearest
    from defensa.reports.actions import receive_report
    from defensa.testing.peers.twilio import TwilioPeer

    call_command("migrate", verbosity=0, interactive=False)
    assert connection.vendor == "sqlite" and "defensa-bench-" in str(
        connection.settings_dict["NAME"]
    )
    peer = TwilioPeer(latency=PEER_LATENCY_S, rate_per_second=PEER_RATE)
    server = peer.serve(port)

    now = timezone.now()
    committee = Committee.objects.create(name="Bench", slug="bench", zip_codes=["90033"])
    dispatcher = User.objects.create(email="d@bench.invalid", display_name="D", password="!")  # noqa: S106
    Membership.objects.create(
        user=dispatcher,
        committee=committee,
        status=MemberStatus.FULL,
        full_since=now,
        is_dispatcher=True,
    )
    for i in range(RESPONDERS):
        user = User.objects.create(
            email=f"v{i}@bench.invalid",
            display_name=f"V{i}",
            password="!",  # noqa: S106 (unusable: nobody signs in)
            phone=f"+1213555{i:04d}",
            notify_sms=True,
            notify_email=False,
            home_zip="90033",
            on_duty=True,
            language="es" if i % 3 else "en",
        )
        Membership.objects.create(
            user=user, committee=committee, status=MemberStatus.FULL, full_since=now
        )
        Skill.objects.create(user=user, kind=SkillKind.VERIFIER)

    worker = subprocess.Popen(
        [sys.executable, "manage.py", "deliver", "--verbosity", "0"],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    totals, per_message, actions = [], [], []
    all_accepted = True
    try:
        time.sleep(2)  # the worker's start-up (Django, its first poll) is not the alert's time
        # One alert first that is not timed: a worker that has run for a while has its
        # templates, translations and provider connection warm; a fresh process has not.
        for rep in range(-1, repetitions):
            report = receive_report(
                {
                    "category": "workplace_raid",
                    # A raid ~2 km from the last one: a new incident each time, not a report
                    # joining the previous one.
                    "lat": 34.0505 + ((rep + 1) % 4) * 0.018,
                    "lon": -118.2095 + ((rep + 1) // 4) * 0.02,
                    "precision_m": 50,
                    "zip_code": "90033",
                    "location_text": f"Warehouse {rep}",
                    "observed_at": dt.datetime.now(dt.UTC),
                    "language": "es",
                    "description": "agents at the door",
                },
                channel="web",
                idempotency_key=uuid.uuid4().hex,
            ).report
            incident = report.incident
            before = len(peer.messages)
            started = time.time()
            offers = offer_to_nearest(incident, RESPONDERS, actor=dispatcher)
            actions.append(time.time() - started)
            assert len(offers) == RESPONDERS, len(offers)
            deadline = time.monotonic() + 30
            while len(peer.messages) < before + RESPONDERS and time.monotonic() < deadline:
                time.sleep(0.005)
            mine = peer.messages[before:]
            if rep < 0:
                progress(f"warm-up alert: {len(mine)} accepted")
                time.sleep(0.5)
                continue
            all_accepted = all_accepted and len(mine) >= RESPONDERS
            if not mine:
                totals.append(30.0)
                continue
            totals.append(max(m.at for m in mine) - started)
            per_message += [m.at - started for m in mine]
            progress(f"repetition {rep + 1}: {len(mine)} accepted in {totals[-1]:.2f} s")
            time.sleep(0.5)  # let the worker settle: each repetition is one alert on its own
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        server.shutdown()
    return {
        "p95_s": round(p95(totals), 3),
        "max_s": round(max(totals), 3),
        "per_message_p95_s": round(p95(per_message), 3) if per_message else None,
        "action_s_max": round(max(actions), 3),
        "responders": RESPONDERS,
        "repetitions": repetitions,
        "all_accepted": all_accepted,
        "peer_latency_s": PEER_LATENCY_S,
        "peer_rate_per_s": PEER_RATE,
        "worker_threads": int(os.environ["NOTIFY_WORKER_THREADS"]),
        "rejected_429": peer.requests - len(peer.messages),
        "cores": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defensa.settings")
        print(json.dumps(child(int(sys.argv[2]), int(sys.argv[3]))), flush=True)
    else:
        raise SystemExit("run it as: python -m bench alert_fanout [--quick]")
