"""tree_drill: a drill of a 10,000-person phone tree (docs/performance.md).

1. A scratch SQLite install gets one committee of N members (SMS chosen, English and Spanish,
   a few areas) and a coordinator; every tenth member is a captain, and `create_tree` places
   the other nine in ten by language and area.
2. A real `manage.py deliver` process runs against the Twilio-compatible peer on loopback,
   provisioned at 100 messages a second (TWILIO_RATE), before the drill starts, as it would
   in production. The coordinator starts a drill with "also text everyone now"
   (`start_cascade`): one urgent text to each captain and each person, queued in batches.
   The peer stamps each message with the kernel's receive time; the worker is stopped once
   every message has arrived.
3. Human delays, seeded: each person confirms 0.5-10 minutes (uniform) after their text
   reached the provider; 3% never answer (phone off). Each captain reads their text after
   such a delay and confirms their group on their page; 2% of captains never do. Those
   delays are simulated, not waited for: a replay process walks the events in time order
   with a fast clock (Django's `timezone.now` set to each event's moment) and hands each
   "OK" to the real inbound path (`notify.inbound.dispatch`, the trees matcher,
   `confirm_reach`), each captain's confirmation to `report_group`, and runs the escalation
   pass (`escalate_overdue`) every 30 simulated seconds, as trees_tick does.
4. Figures: t90_s, the seconds from the start until 90% of everyone in the tree confirmed
   (the cascade's own figure); bound_s, the same with no overhead at all, each message
   reaching the provider at exactly k/100 s in the order sent, with the same people, delays
   and silences; ratio = t90_s / bound_s (target <= 1.2); escalations, captains escalated.
"""

from __future__ import annotations

import json
import math
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import ROOT, progress, result
from bench._server import manage, scratch_env
from bench.broadcast import python, start_peer

SEED_NUMBER = 2026
RATE = 100
GROUP = 10
SILENT_PEOPLE = 0.03
SILENT_CAPTAINS = 0.02
DELAY_S = (30.0, 600.0)
TICK_S = 30

SEED = """
import sys, json, django
django.setup()
from defensa.accounts.models import User
from defensa.committees.models import Committee, Membership
from defensa.trees import actions
count, group = int(sys.argv[1]), int(sys.argv[2])
committee = Committee.objects.create(name="Strike city", slug="strike")
areas = ["8829a1", "8829a3", "8829b7", "8829c5", ""]
batch = 5000
for start in range(0, count + 1, batch):
    User.objects.bulk_create([
        User(email=f"m{n}@example.org", display_name=f"M{n}", phone=f"+1213{2000000 + n}",
             notify_sms=True, notify_email=False, language="es" if n % 3 else "en",
             home_cell=areas[n % 5], password="!")
        for n in range(start, min(count + 1, start + batch))])
users = list(User.objects.order_by("pk"))
coordinator, people = users[0], users[1:]
Membership.objects.create(user=coordinator, committee=committee, status="full",
                          is_coordinator=True)
for start in range(0, len(people), batch):
    Membership.objects.bulk_create([Membership(user=u, committee=committee, status="full")
                                    for u in people[start:start + batch]])
# The coordinator is in the committee, so in the tree: count them among the people.
captains = people[::group]
tree = actions.create_tree(committee, name="Drill", captains=captains, actor=coordinator)
print(json.dumps({"tree": tree.pk, "coordinator": coordinator.pk,
                  "people": tree.leaves.count() + tree.branches.count()}))
"""

START = """
import sys, json, time, django
django.setup()
from defensa.accounts.models import User
from defensa.trees import actions
from defensa.trees.models import Tree
tree = Tree.objects.get(pk=int(sys.argv[1]))
actor = User.objects.get(pk=int(sys.argv[2]))
t0 = time.monotonic()
cascade = actions.start_cascade(tree, message="Drill: meet at the union hall at 7.",
                                is_drill=True, text_all=True, actor=actor)
captains = {d.captain.phone: d.pk for d in cascade.duties.select_related("captain")}
print(json.dumps({"cascade": cascade.pk, "started": cascade.started_at.timestamp(),
                  "enqueue_s": time.monotonic() - t0, "captains": captains,
                  "deliveries": cascade.reaches.count()}))
"""

REPLAY = """
import sys, json, datetime as dt, django
django.setup()
from unittest import mock
from django.utils import timezone
from defensa.notify.inbound import InboundText, dispatch
from defensa.trees import actions
from defensa.trees.models import Cascade, Duty
plan = json.load(open(sys.argv[1]))
cascade = Cascade.objects.get(pk=plan["cascade"])
start = cascade.started_at
clock = [start]
escalations = 0
with mock.patch.object(timezone, "now", lambda: clock[0]):
    next_tick = plan["tick"]
    for at, kind, who in sorted(plan["events"]) + [[plan["end"], "end", ""]]:
        while next_tick <= at:
            clock[0] = start + dt.timedelta(seconds=next_tick)
            escalations += actions.escalate_overdue(clock[0])
            next_tick += plan["tick"]
        clock[0] = start + dt.timedelta(seconds=at)
        if kind == "ok":
            dispatch(InboundText(number=who, body="OK", sid=f"SM{abs(hash((who, at))):032d}"))
        elif kind == "captain":
            duty = Duty.objects.select_related("captain").get(pk=who)
            try:
                actions.report_group(duty, actor=duty.captain)
            except actions.TreeError:
                pass
    figures = actions.live_figures(cascade)
print(json.dumps({"figures": figures, "escalations": escalations}))
"""


def t90(moments: list[float | None], people: int) -> float | None:
    done = sorted(m for m in moments if m is not None)
    need = math.ceil(0.9 * people)
    return done[need - 1] if len(done) >= need else None


def deliver(env: dict[str, str], peer, expected: int, start_args: list[str]) -> dict:  # type: ignore[no-untyped-def]
    from defensa.testing.peers.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

    worker_env = {
        **env,
        "TWILIO_API_BASE": peer.base_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_RATE": f"{RATE}/s",
        "NOTIFY_CONSOLE": "0",
    }
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "deliver"],
        cwd=ROOT,
        env=worker_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(3.0)  # the worker is up and idle before the drill starts
        started = python(env, START, *start_args)
        progress(
            f"drill started: {started['deliveries']} people, queued in "
            f"{started['enqueue_s']:.1f} s; sending at {RATE}/s"
        )
        deadline = time.monotonic() + expected / RATE * 4 + 120
        while len(peer.messages) < expected and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(err)
    return started


def run(quick: bool = False) -> dict:
    members = 1_000 if quick else 10_000
    rng = random.Random(SEED_NUMBER)
    with tempfile.TemporaryDirectory(prefix="defensa-bench-") as tmp:
        env = scratch_env(Path(tmp) / "data", DEFENSA_TREE_ESCALATE_MINUTES="15")
        manage(env, "migrate", "--noinput")
        progress(f"seeding {members} members and building the tree")
        seeded = python(env, SEED, str(members - 1), str(GROUP))
        people = seeded["people"]
        peer, server = start_peer()
        try:
            started = deliver(env, peer, people, [str(seeded["tree"]), str(seeded["coordinator"])])
        finally:
            server.shutdown()
        t0 = started["started"]
        captains: dict[str, int] = started["captains"]
        arrivals = {m.to: m.at - t0 for m in peer.messages}
        progress(f"{len(arrivals)} of {people} texts reached the provider")
        events: list[list] = []  # type: ignore[type-arg]
        ideal: list[float | None] = []
        # The order the engine sent them in: the ideal schedule keeps it, at k/RATE each.
        for k, (number, arrived) in enumerate(sorted(arrivals.items(), key=lambda x: x[1])):
            delay = rng.uniform(*DELAY_S)
            is_captain = number in captains
            silent = rng.random() < (SILENT_CAPTAINS if is_captain else SILENT_PEOPLE)
            if silent:
                ideal.append(None)
                continue
            ideal.append(k / RATE + delay)
            if is_captain:
                events.append([round(arrived + delay, 3), "captain", captains[number]])
            else:
                events.append([round(arrived + delay, 3), "ok", number])
        ideal += [None] * (people - len(arrivals))
        last = max((e[0] for e in events), default=0.0)
        plan = {
            "cascade": started["cascade"],
            "events": events,
            "tick": TICK_S,
            "end": last + 20 * 60,
        }
        plan_file = Path(tmp) / "plan.json"
        plan_file.write_text(json.dumps(plan))
        progress(f"replaying {len(events)} confirmations on a fast clock")
        replayed = python(env, REPLAY, str(plan_file))
    measured = replayed["figures"]["t90_s"]
    bound = t90(ideal, people)
    ratio = round(measured / bound, 3) if measured and bound else None
    figures = {
        "people": people,
        "t90_s": measured,
        "bound_s": round(bound, 1) if bound else None,
        "ratio": ratio,
        "escalations": replayed["escalations"],
    }
    targets = {"ratio": "<= 1.2"}
    ok = ratio is not None and ratio <= 1.2 and len(arrivals) == people
    return result("tree_drill", figures, targets, ok)
