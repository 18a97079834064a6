"""SIGKILL the delivery worker mid-broadcast, restart it: nothing lost, duplicates only in the
documented at-least-once window (sends in flight at the kill), counted by the Twilio peer."""

from __future__ import annotations

import signal
import time

from defensa.notify.tests.procs import stop, wait_until
from defensa.testing.peers.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

PEOPLE = 60
THREADS = 3

SETUP = """
import sys, django
django.setup()
from defensa.accounts.models import User
from defensa.committees.models import Committee, Membership
from defensa.broadcasts import actions
from defensa.broadcasts.tasks import enqueue_broadcast
count = int(sys.argv[1])
committee = Committee.objects.create(name="Boyle Heights", slug="boyle-heights")
people = [User(email=f"p{n}@example.org", display_name=f"P{n}", phone=f"+1213555{n:04d}",
               notify_sms=True, notify_email=False, language="es" if n % 2 else "en")
          for n in range(count)]
User.objects.bulk_create(people)
Membership.objects.bulk_create(
    [Membership(user=u, committee=committee, status="full") for u in User.objects.all()])
author = User.objects.first()
texts = {"en": "Strike Monday", "es": "Huelga el lunes"}
b = actions.create_broadcast(committee, actor=author, texts=texts)
actions.send_broadcast(b, actor=author)
enqueue_broadcast.call(b.pk)
print(b.pk)
"""

REPORT = """
import json, django
django.setup()
from defensa.notify.models import Delivery
print(json.dumps({
    d.idempotency_key: [d.status, list(d.attempt_log.values_list("status", flat=True))]
    for d in Delivery.objects.all()
}))
"""


def test_sigkill_mid_broadcast_loses_nothing(workers, twilio_peer, settings):
    import json

    twilio_peer.latency = 0.3  # a slow provider: the kill lands while sends are in flight
    env = {
        "TWILIO_API_BASE": twilio_peer.base_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_RATE": "20/s",
        "NOTIFY_LEASE_SECONDS": "2",
        "BROADCAST_APPROVAL_THRESHOLD": "1000",
        "BROADCAST_BATCH_SIZE": "25",
    }
    workers.env.update(env)
    workers.python(SETUP, str(PEOPLE))
    proc = workers.start("--threads", str(THREADS))
    try:
        wait_until(lambda: len(twilio_peer.messages) >= 15, timeout=60)
        stop(proc, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
    at_kill = len(twilio_peer.messages)
    assert at_kill < PEOPLE  # killed mid-broadcast
    time.sleep(2.2)  # the dead worker's leases run out
    twilio_peer.latency = 0.0
    restarted = workers.start("--once", "--threads", str(THREADS))
    out, err = restarted.communicate(timeout=120)
    assert restarted.returncode == 0, err

    rows = json.loads(workers.python(REPORT))
    assert len(rows) == PEOPLE
    # Nothing lost: every delivery is sent, and the peer holds one message per key.
    assert {status for status, _log in rows.values()} == {"sent"}
    assert set(twilio_peer.requests_by_key) == set(rows)
    assert len(twilio_peer.messages) == PEOPLE
    # At-least-once window: only deliveries in a worker's hands at the kill were tried again
    # (their attempt log says "abandoned": claimed in a batch, some not yet sent). Of those,
    # only sends whose outcome was not yet committed reached the provider twice: the ones in
    # flight (one per thread) and those finished in the last flush interval (0.1 s at 20/s:
    # two), with slack for a loaded machine's slower dispatcher.
    resent = {key for key, n in twilio_peer.requests_by_key.items() if n > 1}
    abandoned = {key for key, (_s, log) in rows.items() if "abandoned" in log}
    assert resent <= abandoned
    assert len(abandoned) >= 1  # the kill did land mid-batch
    assert len(resent) <= THREADS + 2 + 5, sorted(resent)
