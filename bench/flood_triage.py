"""flood_triage: a flood of false tips must not bury the real raids on the dispatcher's screen.

A child process builds a throwaway one-machine install (SQLite file, as deployed): a city
committee whose area is a ring of h3 cells, and one of its dispatchers. A seeded generator of
its own makes 30 minutes of intake:

- 5,000 false tips from ~1,000 sources (a few sources send many, most send a few): scattered
  places (a tenth of them outside the committee's area), random categories, words mostly
  recycled from a short list of campaign texts (re-cased and re-punctuated), the rest unique;
- 30 real raids, each reported 3 to 15 times by independent people (one report each) within
  100 m of the place over a few minutes, in their own words, a third of them with a photo, one
  in ten by text message; mostly the raid's category, sometimes "agents seen".

Every report goes through `receive_report()` in time order; a source's burst is counted as the
public form counts it (the flood gate's in-memory window, keyed by source). After each minute
of reports the dispatcher's console queue (the real page, through the test client) is read:

- `real_top30_share`: over every minute after a real raid's second report, the share of
  (raid, minute) in which the raid's incident is among the first 30 rows (target >= 0.9);
- `precision`, `recall`: pairwise grouping of the real raids' reports (two raids in one
  incident count against precision, one raid in two against recall), and the same from a run
  without the flood: the flood must not change them. False tips that land in a raid's
  incident are counted apart (`tips_in_raids`, printed): a tip at the raid's place in its
  time is grouped with it, as it should be;
- `console_p95_ms`: the console queue page with every false tip open (~5,000 incidents),
  20 requests (target <= 500);
- `false_tips`, `real_incidents`: what was sent.

The figures are those of the console without flood mode (the harder case: every false tip is
in the queue). The run is repeated with the committee in flood mode and without the flood;
those runs' share, page time, grouping and the load average are printed as progress and must
pass too (the same share target; precision and recall no lower than without the flood).
"""

from __future__ import annotations

import json
import os
import sys

from bench import progress, result
from bench._server import p95, run_child

TARGETS = {"real_top30_share": 0.9, "console_p95_ms": 500.0}
SEED = 15
CENTRE = (34.05, -118.25)
MINUTES = 30


def run(quick: bool = False) -> dict:
    tips = 1000 if quick else 5000
    plain = run_child("flood_triage", str(tips), "off")
    progress(f"without flood mode: {plain}")
    held = run_child("flood_triage", str(tips), "on")
    progress(f"in flood mode: {held}")
    calm = run_child("flood_triage", "0", "off")
    progress(f"without the flood: {calm}")
    figures = {
        name: plain[name]
        for name in (
            "false_tips",
            "real_incidents",
            "real_top30_share",
            "precision",
            "recall",
            "console_p95_ms",
        )
    }
    # Beside the figures (bench/RESULTS.md records them in words): flood mode's share and
    # page time, the flood-free grouping, and the machine's load.
    progress(
        f"flood mode: real_top30_share {held['real_top30_share']}, console_p95_ms "
        f"{held['console_p95_ms']}; console CPU p95 {plain['console_cpu_p95_ms']} ms; "
        f"flood-free precision {calm['precision']}, recall {calm['recall']}; false tips in "
        f"raids' incidents {plain['tips_in_raids']}; open incidents "
        f"{plain['open_incidents']}; load average {plain['load_average']}, "
        f"{held['load_average']} on {os.cpu_count()} cores"
    )
    ok = (
        plain["real_top30_share"] >= TARGETS["real_top30_share"]
        and held["real_top30_share"] >= TARGETS["real_top30_share"]
        and plain["console_p95_ms"] <= TARGETS["console_p95_ms"]
        and plain["precision"] >= calm["precision"]
        and plain["recall"] >= calm["recall"]
    )
    return result("flood_triage", figures, TARGETS, ok)


CAMPAIGN_TEXTS = [
    "ICE agents are raiding the Walmart on this street right now, tell everyone",
    "la migra esta en la escuela primaria, no manden a los niños",
    "Checkpoint set up by ICE at the freeway exit, avoid the area",
    "They are taking people from the laundromat, dozens of agents",
    "ICE vans outside the church, they are arresting people leaving mass",
    "agentes de inmigracion en el mercado, estan pidiendo papeles a todos",
    "Raid at the car wash, agents in vests everywhere",
    "Border patrol at the bus stop checking everyone's papers",
]
WORDS = [
    "agents",
    "vans",
    "unmarked",
    "vests",
    "door",
    "factory",
    "street",
    "corner",
    "workers",
    "taken",
    "two",
    "three",
    "four",
    "running",
    "blocked",
    "entrance",
    "back",
    "parking",
    "lot",
    "officers",
    "detained",
    "woman",
    "man",
    "kids",
    "school",
    "store",
    "gate",
    "truck",
    "lights",
    "helicopter",
    "masks",
    "guns",
    "shouting",
    "neighbours",
    "filming",
    "waiting",
]
CATEGORIES = [
    "workplace_raid",
    "home_arrest",
    "vehicle_stop",
    "checkpoint",
    "court_arrest",
    "sighting",
    "other",
]


def generate(seed: int, tips: int) -> list[dict]:
    """Reports in time order: {at (s), lat, lon, category, text, channel, source, raid, photo}."""
    import math
    import random

    rng = random.Random(seed)
    reports: list[dict] = []
    # ~1,000 sources, heavy-tailed: a few send dozens, most one to three.
    sources = [f"s{i}" for i in range(max(1, tips // 5))]
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(sources))]

    def scatter(km: float) -> tuple[float, float]:
        dy, dx = rng.uniform(-km, km), rng.uniform(-km, km)
        return CENTRE[0] + dy / 111.32, CENTRE[1] + dx / (111.32 * math.cos(math.radians(34)))

    def recase(text: str) -> str:
        text = rng.choice([text, text.upper(), text.lower(), text.capitalize()])
        return text + rng.choice(["", "!", "!!!", ".", " !!"])

    for n in range(tips):
        lat, lon = scatter(20.0 if rng.random() < 0.1 else 12.0)
        text = (
            recase(rng.choice(CAMPAIGN_TEXTS))
            if rng.random() < 0.8
            else " ".join(rng.choices(WORDS, k=rng.randint(5, 12)))
        )
        reports.append(
            {
                "at": rng.uniform(0, MINUTES * 60),
                "lat": lat,
                "lon": lon,
                "accuracy_m": rng.choice([15, 30, 50, 80]),
                "category": rng.choice(CATEGORIES),
                "text": text,
                "channel": "web",
                "source": rng.choices(sources, weights)[0],
                "raid": None,
                "photo": False,
                "n": n,
            }
        )
    for raid in range(30):
        lat, lon = scatter(11.0)
        category = rng.choice(CATEGORIES[:5])
        start = rng.uniform(0, (MINUTES - 8) * 60)
        for k in range(rng.randint(3, 15)):
            dy, dx = rng.gauss(0, 40), rng.gauss(0, 40)
            reports.append(
                {
                    "at": start + (0 if k == 0 else rng.uniform(20, 480)),
                    "lat": lat + dy / 111_320,
                    "lon": lon + dx / (111_320 * math.cos(math.radians(lat))),
                    "accuracy_m": rng.choice([10, 20, 30, 65]),
                    "category": category if rng.random() < 0.85 else "sighting",
                    "text": " ".join(rng.choices(WORDS, k=rng.randint(6, 14))),
                    "channel": "sms" if rng.random() < 0.1 else "web",
                    "source": f"raid{raid}-{k}",
                    "raid": raid,
                    "photo": rng.random() < 0.33,
                    "n": tips + raid * 100 + k,
                }
            )
    reports.sort(key=lambda r: (r["at"], r["n"]))
    return reports


def child(tips: int, flood: str) -> dict:
    import datetime as dt
    import io
    import re
    import time

    import django

    django.setup()
    import h3
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from PIL import Image

    from bench.surge import pairwise
    from defensa.committees.models import Committee, Kind
    from defensa.core.testing import join, make_user, sign_in
    from defensa.evidence.photos import clean_photo
    from defensa.incidents import actions
    from defensa.incidents.models import Incident
    from defensa.reports.actions import receive_report
    from defensa.reports.flood import BURST_FROM, FloodGate
    from defensa.reports.models import Report

    call_command("migrate", verbosity=0, interactive=False)
    assert connection.vendor == "sqlite" and "defensa-bench-" in str(
        connection.settings_dict["NAME"]
    )
    area = sorted(h3.grid_disk(h3.latlng_to_cell(*CENTRE, 6), 6))
    city = Committee.objects.create(name="City", slug="city", kind=Kind.CITY, h3_cells=area)
    dispatcher = make_user("dispatcher")
    join(dispatcher, city, is_dispatcher=True)
    client = sign_in(Client(HTTP_HOST="localhost"), dispatcher)
    client.defaults["wsgi.url_scheme"] = "https"
    if flood == "on":
        actions.switch_flood_mode(city, on=True, actor=dispatcher)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 90, 90)).save(out, format="JPEG")

    def photo():  # type: ignore[no-untyped-def]
        return clean_photo(io.BytesIO(out.getvalue()), too_big="big", not_image="no")

    reports = generate(SEED, tips)
    gate = FloodGate(limit=10**6, window_s=10 * 60)
    began = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=MINUTES)
    ids: dict[int, int] = {}
    second_at: dict[int, int] = {}
    seen: dict[int, int] = {}
    hits = total = 0
    refs_of = re.compile(r'\?incident=\d+">([A-Z0-9]+) ·')

    def top30() -> list[str]:
        html = client.get("/dispatch/city/queue/").content.decode()
        return refs_of.findall(html.split('<section class="held"')[0])[:30]

    def check(minute: int) -> None:
        nonlocal hits, total
        top = set(top30())
        for raid, since in second_at.items():
            if since <= minute:
                first = next(r for r in reports if r["raid"] == raid and r["n"] in ids)
                ref = Report.objects.select_related("incident").get(pk=ids[first["n"]])
                total += 1
                hits += ref.incident.reference in top

    progress(f"sending {len(reports)} reports ({tips} false tips), flood mode {flood}")
    started = time.monotonic()
    minute = 0
    for r in reports:
        while r["at"] >= (minute + 1) * 60:
            minute += 1
            check(minute)
        gate.allow(r["source"], now=r["at"])
        report = receive_report(
            {
                "category": r["category"],
                "lat": r["lat"],
                "lon": r["lon"],
                "precision_m": r["accuracy_m"],
                "location_kind": "gps",
                "observed_at": began + dt.timedelta(seconds=r["at"]),
                "description": r["text"],
            },
            channel=r["channel"],
            idempotency_key=f"flood-triage-{r['n']}",
            photos=[photo()] if r["photo"] else [],
            burst=r["channel"] == "web" and gate.recent(r["source"], now=r["at"]) >= BURST_FROM,
        ).report
        ids[r["n"]] = report.pk
        if r["raid"] is not None:
            seen[r["raid"]] = seen.get(r["raid"], 0) + 1
            if seen[r["raid"]] == 2:
                second_at[r["raid"]] = minute + 1
    while minute < MINUTES:
        minute += 1
        check(minute)
    progress(f"sent in {time.monotonic() - started:.1f} s")

    real = [r for r in reports if r["raid"] is not None]
    incident_of = dict(
        Report.objects.filter(pk__in=[ids[r["n"]] for r in real]).values_list("pk", "incident_id")
    )
    truth = [str(r["raid"]) for r in real]
    predicted = [str(incident_of[ids[r["n"]]]) for r in real]
    precision, recall, *_ = pairwise(truth, predicted)
    # False tips that landed in a real raid's incident (they add to its count, not its
    # independent reports when their words are a campaign's).
    tips_in_raids = Report.objects.filter(
        incident_id__in={int(x) for x in predicted}
    ).count() - len(real)

    load_before = os.getloadavg()[0]
    timings, cpu = [], []
    for _ in range(20):
        t, c = time.perf_counter(), time.process_time()
        assert client.get("/dispatch/city/queue/").status_code == 200
        timings.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return {
        "false_tips": tips,
        "real_incidents": 30,
        "real_top30_share": round(hits / total, 4) if total else 1.0,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "console_p95_ms": round(p95(timings), 1),
        # CPU time of this process (SQLite runs in it): what an idle machine would show.
        "console_cpu_p95_ms": round(p95(cpu), 1),
        "tips_in_raids": tips_in_raids,
        "open_incidents": Incident.objects.filter(state="new").count(),
        "load_average": round((load_before + os.getloadavg()[0]) / 2, 2),
    }


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defensa.settings")
        print(json.dumps(child(int(sys.argv[2]), sys.argv[3])), flush=True)
    else:
        raise SystemExit("run it as: python -m bench flood_triage [--quick]")
