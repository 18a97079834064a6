"""pledge_trigger: 50,000 pledgers told at once when the last pledge reaches the threshold
(docs/performance.md).

1. A scratch SQLite install; a campaign whose threshold is N pledges has N - 1 of them: a
   third numbers without an account (told by SMS), a third members who chose email, a third
   members who chose device notifications (each with a subscription at the loopback push
   service). Identities are sealed under the campaign's key, as the real pledges are.
2. queued_s: the last pledge, by text, through the real action (`pledge_by_phone`): from its
   call until it returns, with the campaign flipped and every pledger's message queued in the
   same transaction (target <= 15 s).
3. Send phase, for a bounded window: a real `manage.py deliver` sends to the Twilio-speaking
   peer, an SMTP peer and the Web Push peer on loopback, each channel at its provisioned rate.
   rate_ratio = the lowest, over the channels, of achieved / provisioned (target >= 0.95);
   over_rate = the most messages any channel's peer saw in a second above its rate (target 0).
   Every peer times a message by the kernel's receive time of its first bytes, so the busy
   bench process's own threads (three peers, crypto included) can't bunch or spread them.
4. The worker stops with SIGTERM; lost = messages marked sent that their peer never got plus
   messages a peer got that are not marked sent (target 0); duplicates = messages a peer got
   twice (target 0).
"""

from __future__ import annotations

import json
import os
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import ROOT, progress, result
from bench._server import manage, scratch_env
from bench.broadcast import busiest_second, start_peer
from defensa.testing.peers import arrival, stamp_arrivals

SEED = r"""
import json, sys, time, django
django.setup()
from django.db import connection, transaction
from django.utils import timezone
from defensa.accounts.models import User
from defensa.committees.models import Committee, Membership
from defensa.core import crypto
from defensa.core.crypto.digests import digest_key, keyed_digest
from defensa.notify.models import Delivery
from defensa.notify.transports.webpush.models import PushSubscription, endpoint_digest
from defensa.pledges import actions
from defensa.pledges.models import Pledge

count = int(sys.argv[1])
devices = json.loads(open(sys.argv[2]).read())
committee = Committee.objects.create(name="Strike city", slug="strike")
coordinator = User.objects.create(email="coord@example.org", display_name="Coord", password="!")
Membership.objects.create(user=coordinator, committee=committee, status="full", is_coordinator=True)
campaign = actions.open_campaign(committee, actions.CampaignData(
    scope="committee", title_en="Walk out Monday", title_es="Paro el lunes",
    text_en="I walk out if all of us pledge.", text_es="Paro si todos lo prometemos.",
    threshold_kind="count", threshold=count, eligible_count=None, eligible_source="",
    deadline=timezone.now() + timezone.timedelta(days=3), require_confirmation=False),
    actor=coordinator)
members = [n for n in range(count - 1) if n % 3]
users = User.objects.bulk_create([
    User(email=f"m{n}@example.org", display_name=f"M{n}", language="es" if n % 2 else "en",
         notify_email=n % 3 == 1, notify_push=n % 3 == 2, password="!") for n in members],
    batch_size=5000)
Membership.objects.bulk_create([Membership(user=u, committee=committee, status="full")
                                for u in users], batch_size=5000)
by_n = dict(zip(members, users))
pushers = [u for n, u in by_n.items() if n % 3 == 2]
PushSubscription.objects.bulk_create([
    PushSubscription(user=u, endpoint=d["endpoint"], endpoint_digest=endpoint_digest(d["endpoint"]),
                     p256dh=d["p256dh"], auth=d["auth"]) for u, d in zip(pushers, devices)],
    batch_size=5000)
key = digest_key(actions.DIGEST_KEY)
hour = timezone.now().replace(minute=0, second=0, microsecond=0)
pledges = []
for n in range(count - 1):
    phone = f"+1213{5550000 + n:07d}" if n % 3 == 0 else ""
    user = by_n.get(n)
    who = phone if phone else f"member:{user.pk}"
    digest = keyed_digest(key, f"{campaign.pk}:{who}")
    pledges.append(Pledge(campaign=campaign, digest=digest, origin="sms" if phone else "member",
                          standing="confirmed" if phone else "member",
                          language="es" if n % 2 else "en", pledged_at=hour,
                          data_key=campaign.data_key))
with transaction.atomic():
    made = Pledge.objects.bulk_create(pledges, batch_size=2000)
    field = Pledge._meta.get_field("phone")
    rows = []
    for n, pledge in enumerate(made):
        user = by_n.get(n)
        crypto.seal(pledge, "phone", f"+1213{5550000 + n:07d}" if n % 3 == 0 else None)
        crypto.seal(pledge, "member", str(user.pk) if user else None)
        rows.append((field.get_db_prep_save(pledge.phone, connection),
                     field.get_db_prep_save(pledge.member, connection), pledge.pk))
    with connection.cursor() as cursor:
        cursor.executemany("UPDATE pledges_pledge SET phone = %s, member = %s WHERE id = %s", rows)
print(f"seeded {len(made)} pledges", file=sys.stderr, flush=True)
t0 = time.monotonic()
outcome = actions.pledge_by_phone(campaign, "+13105550199", origin="sms", language="es")
queued_s = time.monotonic() - t0
told = Delivery.objects.filter(template="pledge_reached")
state = type(campaign).objects.get(pk=campaign.pk).state
print(json.dumps({"queued_s": queued_s, "state": state, "told": told.count(),
                  "by_channel": {c: told.filter(channel=c).count()
                                 for c in ("sms", "email", "push")}}))
"""

# Every message of the flip: the pledgers' and the coordinator's ("it reached its threshold").
REPORT = r"""
import json, django
django.setup()
from defensa.notify.models import Delivery
rows = Delivery.objects.filter(template__startswith="pledge_reached").values_list(
    "idempotency_key", "channel", "status")
print(json.dumps({"sent": [[k, c] for k, c, s in rows if s == "sent"],
                  "sending": sum(1 for _k, _c, s in rows if s == "sending"),
                  "failed": sum(1 for _k, _c, s in rows if s == "failed")}))
"""


def python(env: dict[str, str], code: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


class SMTPCounter:
    """A small SMTP server on loopback that notes each message's recipients and when its
    content reached this machine: the kernel's receive time (Linux SO_TIMESTAMPNS), as the
    Twilio and push peers', not when a thread of this busy process got round to parsing it.
    It speaks what smtplib says: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], float]] = []
        self._lock = threading.Lock()
        counter = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                stamp_arrivals(self.request)
                self.say(b"220 defensa-bench ESMTP")
                rcpts: list[str] = []
                while line := self.rfile.readline(4096):
                    verb = line[:4].upper()
                    if verb in (b"EHLO", b"HELO", b"MAIL", b"NOOP"):
                        self.say(b"250 OK")
                    elif verb == b"RSET":
                        rcpts = []
                        self.say(b"250 OK")
                    elif verb == b"RCPT":
                        rcpts.append(line.decode().partition("<")[2].partition(">")[0])
                        self.say(b"250 OK")
                    elif verb == b"DATA":
                        self.say(b"354 End data with <CR><LF>.<CR><LF>")
                        arrived = arrival(self.request)  # waits for the message's first bytes
                        while self.rfile.readline() not in (b".\r\n", b""):
                            pass
                        with counter._lock:
                            counter.messages.append((rcpts, arrived))
                        rcpts = []
                        self.say(b"250 Message accepted for delivery")
                    elif verb == b"QUIT":
                        self.say(b"221 Bye")
                        return
                    else:
                        self.say(b"502 Not implemented")

            def say(self, reply: bytes) -> None:
                self.wfile.write(reply + b"\r\n")
                self.wfile.flush()

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def stamped_push(peer):  # type: ignore[no-untyped-def]
    """The push peer's handler, noting when each device's request reached this machine (the
    kernel's receive time, as the Twilio peer's), not when a busy handler thread had checked
    its signature and decrypted it. Returns (handler, {device token: arrival})."""
    arrivals: dict[str, float] = {}

    class Stamped(peer.handler()):  # type: ignore[misc, valid-type]
        def do_POST(self) -> None:  # noqa: N802
            super().do_POST()
            arrivals[self.path.removeprefix("/push/")] = self.arrived

    return Stamped, arrivals


def rate_of(times: list[float]) -> float:
    times = sorted(times)
    steady = [t for t in times if t >= times[0] + 1.0] if times else []
    return (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 else 0.0


def run(quick: bool = False) -> dict:  # noqa: PLR0915 (one scenario, read top to bottom)
    from defensa.notify.transports.webpush import keys
    from defensa.testing.peers.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER
    from defensa.testing.peers.webpush import PushPeer

    pledgers = 6_000 if quick else 50_000
    rate = int(os.environ.get("BENCH_PLEDGE_RATE", "20"))
    window = 8.0 if quick else 30.0
    vapid_private, vapid_public = keys.generate()
    push = PushPeer(vapid_public_key=vapid_public)
    smtp = SMTPCounter()
    push_handler, push_arrivals = stamped_push(push)
    push_server = push.serve(handler=push_handler)
    with tempfile.TemporaryDirectory(prefix="defensa-bench-") as tmp:
        env = scratch_env(Path(tmp) / "data")
        manage(env, "migrate", "--noinput")
        manage(env, "compile_translations")
        pushers = sum(1 for n in range(pledgers - 1) if n % 3 == 2)
        progress(f"making {pushers} devices at the push peer")
        devices = [push.new_device() for _n in range(pushers)]
        device_file = Path(tmp) / "devices.json"
        device_file.write_text(
            json.dumps(
                [{"endpoint": d.endpoint, "p256dh": d.p256dh, "auth": d.auth} for d in devices]
            )
        )
        peer, server = start_peer()
        smtp.start()
        worker_env = {
            **env,
            "TWILIO_API_BASE": peer.base_url,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_RATE": f"{rate}/s",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "EMAIL_USE_TLS": "0",
            "EMAIL_RATE": f"{rate}/s",
            "WEBPUSH_VAPID_PRIVATE_KEY": vapid_private,
            "WEBPUSH_VAPID_SUBJECT": "mailto:alerts@defensa.test",
            "WEBPUSH_ALLOWED_HOSTS": "http://127.0.0.1",
            "WEBPUSH_RATE": f"{rate}/s",
            "NOTIFY_CONSOLE": "0",
        }
        progress(f"seeding {pledgers - 1} pledges; the last one by text")
        seeded = python(worker_env, SEED, str(pledgers), str(device_file))
        progress(
            f"flipped ({seeded['state']}): {seeded['told']} queued in {seeded['queued_s']:.2f} s"
            f" {seeded['by_channel']}"
        )
        try:
            progress(f"sending for {window:.0f} s at a provisioned {rate}/s on each channel")
            proc = subprocess.Popen(
                [sys.executable, "manage.py", "deliver"],
                cwd=ROOT,
                env=worker_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(window)
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=120)
            if proc.returncode != 0:
                raise RuntimeError(err[-3000:])
        finally:
            server.shutdown()
            push_server.shutdown()
            smtp.stop()
        report = python(env, REPORT)
    arrivals = {
        "sms": [m.at for m in peer.messages],
        "email": [at for _rcpt, at in smtp.messages],
        "push": [push_arrivals.get(r.device, r.at) for r in push.received],
    }
    sent = {"sms": set(), "email": 0, "push": 0}
    for key, channel in report["sent"]:
        if channel == "sms":
            sent["sms"].add(key)
        else:
            sent[channel] += 1
    at_peer_sms = set(peer.requests_by_key)
    lost = (
        len(sent["sms"] ^ at_peer_sms)
        + abs(sent["email"] - len(smtp.messages))
        + abs(sent["push"] - len(push.received))
        + report["sending"]
        + report["failed"]
    )
    progress(
        f"sms sent {len(sent['sms'])} / at peer {len(at_peer_sms)}; email sent {sent['email']} /"
        f" at peer {len(smtp.messages)}; push sent {sent['push']} / at peer {len(push.received)};"
        f" still sending {report['sending']}, failed {report['failed']}"
    )
    rcpts = [r for rcpt, _at in smtp.messages for r in rcpt]
    devices_told = [r.device for r in push.received]
    duplicates = (
        sum(n - 1 for n in peer.requests_by_key.values())
        + len(rcpts)
        - len(set(rcpts))
        + len(devices_told)
        - len(set(devices_told))
    )
    ratios = {ch: rate_of(times) / rate for ch, times in arrivals.items()}
    over = {ch: max(0, busiest_second(times) - rate) for ch, times in arrivals.items()}
    progress(
        "per channel: "
        + ", ".join(
            f"{ch} {len(arrivals[ch])} sent, ratio {ratios[ch]:.3f}, over {over[ch]}"
            for ch in arrivals
        )
    )
    figures = {
        "pledgers": pledgers,
        "queued_s": round(seeded["queued_s"], 2),
        "rate_ratio": round(min(ratios.values()), 3),
        "over_rate": max(over.values()),
        "lost": lost,
        "duplicates": duplicates,
    }
    targets = {
        "queued_s": "<= 15",
        "rate_ratio": ">= 0.95",
        "over_rate": 0,
        "lost": 0,
        "duplicates": 0,
    }
    ok = (
        seeded["state"] == "reached"
        and seeded["told"] >= pledgers
        and figures["queued_s"] <= 15
        and figures["rate_ratio"] >= 0.95
        and figures["over_rate"] == 0
        and lost == 0
        and duplicates == 0
    )
    return result("pledge_trigger", figures, targets, ok)
