"""priority_isolation: verification offers while a full-rate broadcast runs (docs/performance.md).

A scratch SQLite install holds the demo network, 50 on-duty verifiers of Boyle Heights who
chose text messages, and the members of a large broadcast (approved, not yet queued). One
`manage.py deliver` process sends through the Twilio-compatible peer on loopback (100 ms
latency) at a provisioned rate (BENCH_ISOLATION_RATE, 100/s).

A round: a new incident is offered to the 50 nearest verifiers (`dispatch.actions.
offer_to_nearest`, the "verification requested" step: 50 offers queued URGENT in its
transaction); its time is from that commit until the peer has accepted all 50 offers.
After one unmeasured warm-up round, rounds run idle, then again while the broadcast is
being queued and sent at the full rate.
p95_ratio = p95 while broadcasting / p95 idle (target <= 1.5).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import ROOT, progress, result
from bench._server import manage, p95, scratch_env, start_worker, stop_worker, twilio_env
from bench.broadcast import python, start_peer

RESPONDERS = 50

SETUP = """
import sys, json, django
django.setup()
from defensa.accounts.models import Skill, SkillKind, User
from defensa.committees.models import Committee, Membership
from defensa.core.testing import build_network, join, make_user
from defensa.broadcasts import actions
members = int(sys.argv[1])
net = build_network()
for n in range(int(sys.argv[2])):
    user = make_user(f"verifier{n}", home_zip="90033", on_duty=True,
                     phone=f"+1323555{n:04d}")
    User.objects.filter(pk=user.pk).update(notify_sms=True, notify_email=False)
    join(user, net.boyle)
    Skill.objects.create(user=user, kind=SkillKind.VERIFIER)
strike = Committee.objects.create(name="Strike city", slug="strike")
for start in range(0, members, 5000):
    User.objects.bulk_create([
        User(email=f"m{n}@example.org", display_name=f"M{n}", phone=f"+1{2130000000 + n}",
             notify_sms=True, notify_email=False, language="es" if n % 2 else "en",
             password="!")
        for n in range(start, min(members, start + 5000))])
ids = list(User.objects.filter(email__startswith="m", email__endswith="@example.org")
           .exclude(memberships__isnull=False).values_list("pk", flat=True))
for start in range(0, len(ids), 5000):
    Membership.objects.bulk_create([Membership(user_id=i, committee=strike, status="full")
                                    for i in ids[start:start + 5000]])
b = actions.create_broadcast(strike, actor=net.ana,
    texts={"en": "General strike Monday.", "es": "Huelga general el lunes."})
actions.send_broadcast(b, actor=net.ana)
if b.status == "pending":
    actions.approve_broadcast(b, actor=net.omar)
print(json.dumps({"broadcast": b.pk, "members": len(ids)}))
"""

ROUND = """
import sys, json, time, uuid, django
django.setup()
from django.utils import timezone
from defensa.committees.models import Committee
from defensa.accounts.models import User
from defensa.core import geo
from defensa.dispatch.actions import offer_to_nearest
from defensa.incidents.models import Incident
boyle = Committee.objects.get(slug="boyle-heights")
ana = User.objects.get(email__startswith="ana")
now = timezone.now()
lat, lon = 34.0505, -118.2095
incident = Incident.objects.create(
    reference=uuid.uuid4().hex[:8].upper(), category="workplace_raid", lat=lat, lon=lon,
    cell=geo.cell_for(lat, lon), first_observed_at=now, last_observed_at=now,
    report_count=1, committee=boyle)
offers = offer_to_nearest(incident, int(sys.argv[1]), actor=ana)
keys = [f"dispatch_offer:{o.incident_id}:{o.responder_id}:sms" for o in offers]
print(json.dumps({"t": time.time(), "keys": keys}))
"""

ENQUEUE = """
import sys, django
django.setup()
from defensa.broadcasts.tasks import enqueue_broadcast
enqueue_broadcast.call(int(sys.argv[1]))
"""


def arrival_times(peer) -> dict[str, float]:  # type: ignore[no-untyped-def]
    with peer._lock:
        by_sid = {m.sid: m.at for m in peer.messages}
        return {key: by_sid[sid] for key, sid in peer._seen_keys.items() if sid in by_sid}


def one_round(env: dict[str, str], peer, timeout: float = 120) -> float:  # type: ignore[no-untyped-def]
    started = python(env, ROUND, str(RESPONDERS))
    keys = started["keys"]
    if len(keys) != RESPONDERS:
        raise RuntimeError(f"{len(keys)} offers made, not {RESPONDERS}")
    deadline = time.monotonic() + timeout
    while True:
        seen = arrival_times(peer)
        if all(k in seen for k in keys):
            return max(seen[k] for k in keys) - started["t"]
        if time.monotonic() > deadline:
            raise RuntimeError("offers did not all reach the peer")
        time.sleep(0.01)


def run(quick: bool = False) -> dict:
    members = 4_000 if quick else 40_000
    rounds = 3 if quick else 8
    rate = int(os.environ.get("BENCH_ISOLATION_RATE", "100"))
    with tempfile.TemporaryDirectory(prefix="defensa-bench-") as tmp:
        env = scratch_env(Path(tmp) / "data", BROADCAST_APPROVAL_THRESHOLD="1000000000")
        manage(env, "migrate", "--noinput")
        progress(f"seeding {RESPONDERS} verifiers and {members} broadcast members")
        seeded = python(env, SETUP, str(members), str(RESPONDERS))
        peer, server = start_peer()
        peer.latency = 0.1
        env = {**env, **twilio_env(peer, f"{rate}/s")}
        worker = start_worker(env)
        enqueuer = None
        try:
            # One unmeasured round first: the worker's first render loads templates and code.
            one_round(env, peer)
            progress(f"{rounds} rounds idle")
            idle = [one_round(env, peer) for _ in range(rounds)]
            before = len(peer.messages)
            enqueuer = subprocess.Popen(
                [sys.executable, "-c", ENQUEUE, str(seeded["broadcast"])], cwd=ROOT, env=env
            )
            # Wait until the broadcast is going out at the full rate before measuring.
            while len(peer.messages) - before < rate:
                time.sleep(0.1)
            progress(f"{rounds} rounds while the broadcast runs")
            t0, n0 = time.time(), len(peer.messages)
            loaded = [one_round(env, peer) for _ in range(rounds)]
            t1, n1 = time.time(), len(peer.messages)
        finally:
            stop_worker(worker)
            if enqueuer is not None and enqueuer.poll() is None:
                enqueuer.terminate()
                enqueuer.wait()
            server.shutdown()
    idle_p95, loaded_p95 = p95(idle), p95(loaded)
    figures = {
        "responders": RESPONDERS,
        "rounds": rounds,
        "provisioned_per_s": rate,
        "idle_p95_s": round(idle_p95, 3),
        "loaded_p95_s": round(loaded_p95, 3),
        "p95_ratio": round(loaded_p95 / idle_p95, 3),
        # Sends per second at the peer while the loaded rounds ran (offers and broadcast).
        "sent_per_s_while_loaded": round((n1 - n0) / (t1 - t0), 1),
        "duplicates_at_peer": sum(n - 1 for n in peer.requests_by_key.values()),
        "load_average": round(os.getloadavg()[0], 2),
    }
    targets = {"p95_ratio": "<= 1.5"}
    return result("priority_isolation", figures, targets, figures["p95_ratio"] <= 1.5)
