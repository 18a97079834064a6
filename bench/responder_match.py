"""responder_match: the nearest 50 on-duty, qualified responders among 50k.

A child process builds a throwaway one-machine install (SQLite file, as deployed) with one
committee of 50k full members spread over Los Angeles: most with a current verifier skill,
about half on duty, mixed languages, each with a coarse home cell. For random incidents in
the committee it times `dispatch.matching.nearest_responders(incident, 50)` — the code that
`offer_to_nearest` uses — and, as the baseline, a brute-force scan over the same responders
already in memory (h3 distance to every one, sort). Both must choose the same people.

Figures: `p95_ms` (`cpu_p95_ms`: this process's CPU time only), `responders` (eligible
on-duty verifiers), `scan_p95_ms`, `speedup_vs_scan`, `same_choice`. Target: p95_ms <= 20 ms.
"""

from __future__ import annotations

import json
import os
import sys

from bench import progress, result
from bench._server import p95, run_child

TARGETS = {"p95_ms": 20.0}
BOX = (33.95, 34.10, -118.30, -118.10)


def run(quick: bool = False) -> dict:
    members = 5_000 if quick else 50_000
    figures = run_child("responder_match", str(members))
    ok = figures["p95_ms"] <= TARGETS["p95_ms"] and figures["same_choice"]
    return result("responder_match", figures, TARGETS, ok)


def child(members: int) -> dict:
    import datetime as dt
    import random
    import time

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from defensa.accounts.models import Skill, SkillKind, User
    from defensa.committees.models import Committee, Membership, MemberStatus
    from defensa.core import geo
    from defensa.dispatch import matching
    from defensa.incidents.areas import incident_cell
    from defensa.incidents.models import Incident

    call_command("migrate", verbosity=0, interactive=False)
    assert connection.vendor == "sqlite" and "defensa-bench-" in str(
        connection.settings_dict["NAME"]
    )
    rng = random.Random(50)
    now = dt.datetime.now(dt.UTC)
    committee = Committee.objects.create(name="Bench", slug="bench", zip_codes=["90033"])

    progress(f"loading {members} members")
    started = time.monotonic()
    users = []
    for i in range(members):
        lat, lon = rng.uniform(BOX[0], BOX[1]), rng.uniform(BOX[2], BOX[3])
        users.append(
            User(
                email=f"r{i}@bench.invalid",
                display_name=f"R{i}",
                password="!",  # noqa: S106 (unusable: nobody signs in)
                language=rng.choice(["es", "es", "en"]),
                home_cell=geo.cell_for(lat, lon),
                on_duty=rng.random() < 0.5,
            )
        )
    User.objects.bulk_create(users, batch_size=5000)
    saved = list(User.objects.order_by("pk").only("pk"))
    Membership.objects.bulk_create(
        [
            Membership(user=u, committee=committee, status=MemberStatus.FULL, full_since=now)
            for u in saved
        ],
        batch_size=5000,
    )
    Skill.objects.bulk_create(
        [Skill(user=u, kind=SkillKind.VERIFIER) for u in saved if rng.random() < 0.8],
        batch_size=5000,
    )
    progress(f"loaded in {time.monotonic() - started:.1f} s")

    incidents = []
    for i in range(30):
        lat, lon = rng.uniform(BOX[0], BOX[1]), rng.uniform(BOX[2], BOX[3])
        incidents.append(
            Incident.objects.create(
                reference=f"B{i:05d}",
                category="workplace_raid",
                lat=lat,
                lon=lon,
                radius_m=50,
                weight=1 / 2500,
                cell=geo.cell_for(lat, lon),
                first_observed_at=now,
                last_observed_at=now,
                report_count=1,
                committee=committee,
            )
        )

    # Baseline: the same responders already in memory, h3 distance to every one, sort.
    pool = [
        (u.pk, u.home_cell, u.language)
        for u in User.objects.filter(
            on_duty=True, skills__kind=SkillKind.VERIFIER, is_active=True
        ).only("pk", "home_cell", "language")
    ]
    timed, cpu, scanned, same = [], [], [], True
    for incident in incidents:
        t0, c0 = time.perf_counter(), time.process_time()
        chosen = matching.nearest_responders(incident, 50, at=now)
        timed.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        target = incident_cell(incident)
        t0 = time.perf_counter()
        ranked = sorted(
            (
                (
                    matching.rings_between(cell, target)
                    # the incidents have no reports yet, so no language bonus applies
                    - 0,
                    matching.rings_between(cell, target),
                    pk,
                )
                for pk, cell, _lang in pool
            )
        )[:50]
        scanned.append((time.perf_counter() - t0) * 1000)
        same = same and [c.user.pk for c in chosen] == [pk for *_, pk in ranked]
        progress(f"{incident.reference}: {timed[-1]:.0f} ms (scan {scanned[-1]:.0f} ms)")
    chosen_p95, scan_p95 = p95(timed), p95(scanned)
    return {
        "p95_ms": round(chosen_p95, 2),
        # This process's own CPU time: the part of p95_ms a shared machine cannot inflate.
        "cpu_p95_ms": round(p95(cpu), 2),
        "load_average": round(os.getloadavg()[0], 2),
        "scan_p95_ms": round(scan_p95, 2),
        "speedup_vs_scan": round(scan_p95 / chosen_p95, 2) if chosen_p95 else None,
        "responders": len(pool),
        "members": members,
        "samples": len(timed),
        "same_choice": same,
        "cores": os.cpu_count(),
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defensa.settings")
        print(json.dumps(child(int(sys.argv[2]))), flush=True)
    else:
        raise SystemExit("run it as: python -m bench responder_match [--quick]")
