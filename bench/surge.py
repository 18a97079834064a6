"""A labelled synthetic surge of raid reports in Los Angeles, for the grouping benchmarks.

Seeded and deterministic: the same seed gives the same lines in the same order. Each report
carries the event it truly belongs to, so grouping can be scored pair by pair.

What a surge day looks like here (docs/performance.md, grouping_quality):
- raids at real Los Angeles places (car washes, Home Depot lots, swap meets, courts, bus
  stops), each reported by a few to a dozen people over the following half hour;
- GPS jitter of tens of metres, reporters' clocks and memories off by minutes;
- some reports only ZIP-precise (a caller who gave a ZIP code), placed at the ZIP's centre;
- simultaneous raids a few hundred metres apart (a sweep down one boulevard);
- the same place raided again hours later;
- lone false alarms anywhere in the city.

`python -m bench.surge --seed 1 --out surge.jsonl --truth truth.jsonl` writes a file for
`manage.py group_reports` and the true event of each line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

# Real places in Los Angeles County where raids and arrests were reported in 2025, or where
# day labourers, vendors and car-wash workers gather (name, lat, lon, usual category).
ANCHORS: tuple[tuple[str, float, float, str], ...] = (
    ("Home Depot, Cypress Park", 34.0921, -118.2266, "workplace_raid"),
    ("Home Depot, Westlake", 34.0569, -118.2787, "workplace_raid"),
    ("Home Depot, Huntington Park", 33.9895, -118.2262, "workplace_raid"),
    ("Home Depot, Paramount", 33.8966, -118.1712, "workplace_raid"),
    ("Home Depot, Hollywood", 34.0982, -118.3295, "workplace_raid"),
    ("Car wash, Westchester", 33.9591, -118.3966, "workplace_raid"),
    ("Car wash, Culver City", 34.0067, -118.4010, "workplace_raid"),
    ("Car wash, Boyle Heights", 34.0401, -118.2113, "workplace_raid"),
    ("Santee Alley, Fashion District", 34.0367, -118.2567, "workplace_raid"),
    ("Swap meet, Santa Fe Springs", 33.9428, -118.0830, "workplace_raid"),
    ("Ambiance Apparel, Downtown", 34.0303, -118.2459, "workplace_raid"),
    ("MacArthur Park", 34.0597, -118.2770, "sighting"),
    ("Mariachi Plaza, Boyle Heights", 34.0474, -118.2195, "sighting"),
    ("Pacific Blvd, Huntington Park", 33.9818, -118.2256, "vehicle_stop"),
    ("Whittier Blvd, East LA", 34.0238, -118.1718, "vehicle_stop"),
    ("Cesar Chavez Ave, East LA", 34.0447, -118.1817, "vehicle_stop"),
    ("Slauson Ave, South LA", 33.9890, -118.2740, "checkpoint"),
    ("Florence Ave, Bell", 33.9747, -118.1878, "checkpoint"),
    ("Immigration court, 606 S Olive St", 34.0487, -118.2553, "court_arrest"),
    ("Roybal Federal Building, 300 N Los Angeles St", 34.0537, -118.2395, "court_arrest"),
    ("Van Nuys, Sherman Way", 34.2011, -118.4487, "workplace_raid"),
    ("Pacoima, Van Nuys Blvd", 34.2620, -118.4260, "home_arrest"),
    ("South Gate, Tweedy Blvd", 33.9449, -118.2065, "home_arrest"),
    ("Compton, Long Beach Blvd", 33.8958, -118.2201, "home_arrest"),
    ("Pico-Union, Pico Blvd", 34.0476, -118.2859, "sighting"),
    ("Koreatown, Western Ave", 34.0617, -118.3090, "vehicle_stop"),
    ("El Monte, Valley Blvd", 34.0686, -118.0276, "workplace_raid"),
    ("Pomona, Holt Ave", 34.0584, -117.7516, "workplace_raid"),
    ("Wilmington, Avalon Blvd", 33.7800, -118.2626, "workplace_raid"),
    ("Lynwood, Long Beach Blvd", 33.9256, -118.2110, "vehicle_stop"),
)
CATEGORIES = (
    "workplace_raid",
    "home_arrest",
    "vehicle_stop",
    "checkpoint",
    "court_arrest",
    "sighting",
    "other",
)
CHANNELS = ("web", "web", "web", "sms", "sms", "operator", "voice")
# A rough box around the populated county for lone false alarms.
CITY_BOX = (33.85, 34.20, -118.45, -118.05)
DAY = dt.datetime(2026, 6, 10, 5, 0, tzinfo=dt.timezone(dt.timedelta(hours=-7)))


@dataclass
class Surge:
    lines: list[dict] = field(default_factory=list)
    truth: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    event_kind: dict[str, str] = field(default_factory=dict)


def _offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (
        lat + north_m / 111_320,
        lon + east_m / (111_320 * math.cos(math.radians(lat))),
    )


def _zip_centre(lat: float, lon: float) -> tuple[float, float]:
    from defensa.core import geo  # offline ZIP table; no Django setup needed

    zip_code = geo.nearest_zip((lat, lon))
    centre = geo.zip_centroid(zip_code)
    return centre if centre else (lat, lon)


class _Builder:
    def __init__(self, seed: int, zip_share: float) -> None:
        self.rng = random.Random(seed)
        self.zip_share = zip_share
        self.pending: list[tuple[dt.datetime, int, dict, str]] = []
        self.events = 0
        self.kinds: dict[str, int] = {}
        self.event_kind: dict[str, str] = {}

    def event(self, kind: str) -> str:
        self.events += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.event_kind[f"E{self.events}"] = kind
        return f"E{self.events}"

    def report(self, label: str, lat: float, lon: float, at: dt.datetime, category: str) -> None:
        rng = self.rng
        if rng.random() < self.zip_share:
            # A caller who gave only a ZIP code: the ZIP's centre, kilometres of uncertainty.
            rlat, rlon = _zip_centre(lat, lon)
            accuracy = rng.choice([2000, 2500, 3000])
        else:
            # A phone's GPS fix: the reporter stands somewhere around the scene.
            accuracy = round(rng.uniform(8, 60))
            spread = rng.gauss(0, 25) + rng.gauss(0, accuracy / 2)
            bearing = rng.uniform(0, 2 * math.pi)
            rlat, rlon = _offset(lat, lon, spread * math.cos(bearing), spread * math.sin(bearing))
        # Reporters' times are off by minutes; they send a few minutes after seeing it.
        told = at + dt.timedelta(minutes=rng.gauss(0, 3))
        sent = at + dt.timedelta(minutes=rng.uniform(0, 8))
        # Now and then someone calls it "agents seen" or "something else".
        said = category if rng.random() > 0.15 else rng.choice(["sighting", "other"])
        line = {
            "lat": round(rlat, 6),
            "lon": round(rlon, 6),
            "accuracy_m": accuracy,
            "observed_at": told.replace(second=0, microsecond=0).isoformat(),
            "category": said,
            "text": f"{said.replace('_', ' ')} near {label}",
            "channel": rng.choice(CHANNELS),
        }
        self.pending.append((sent, len(self.pending), line, label))

    def raid(self, lat: float, lon: float, start: dt.datetime, category: str, kind: str) -> None:
        label = self.event(kind)
        count = max(2, min(14, int(self.rng.expovariate(1 / 5)) + 2))
        for _ in range(count):
            at = start + dt.timedelta(minutes=self.rng.uniform(0, 35))
            self.report(label, lat, lon, at, category)

    def finish(self) -> Surge:
        surge = Surge(kinds=dict(self.kinds), event_kind=dict(self.event_kind))
        for n, (_, _, line, label) in enumerate(sorted(self.pending, key=lambda p: p[:2])):
            surge.lines.append({"id": f"r{n + 1:05d}", **line})
            surge.truth.append(label)
        return surge


def generate(seed: int = 1, raids: int = 120, zip_share: float = 0.08) -> Surge:
    """A surge day with about `raids` raids; roughly 6 reports per raid, plus false alarms."""
    b = _Builder(seed, zip_share)
    rng = b.rng
    span_min = 14 * 60  # 05:00 to 19:00 local

    def site() -> tuple[float, float, str]:
        _, lat, lon, category = rng.choice(ANCHORS)
        # Somewhere within a couple of kilometres of a real anchor, so sites differ.
        north, east = rng.uniform(-2000, 2000), rng.uniform(-2000, 2000)
        lat, lon = _offset(lat, lon, north, east)
        return lat, lon, category if rng.random() < 0.7 else rng.choice(CATEGORIES[:5])

    plain = int(raids * 0.6)
    for _ in range(plain):
        lat, lon, category = site()
        b.raid(lat, lon, DAY + dt.timedelta(minutes=rng.uniform(0, span_min)), category, "raid")

    for _ in range(int(raids * 0.15)):
        # A sweep: two raids at the same time, 300-700 m apart.
        lat, lon, category = site()
        start = DAY + dt.timedelta(minutes=rng.uniform(0, span_min))
        distance = rng.uniform(300, 700)
        bearing = rng.uniform(0, 2 * math.pi)
        lat2, lon2 = _offset(lat, lon, distance * math.cos(bearing), distance * math.sin(bearing))
        other = category if rng.random() < 0.5 else rng.choice(CATEGORIES[:5])
        b.raid(lat, lon, start, category, "simultaneous")
        b.raid(lat2, lon2, start + dt.timedelta(minutes=rng.uniform(-5, 5)), other, "simultaneous")

    for _ in range(int(raids * 0.1)):
        # The same place again, three to eight hours later.
        lat, lon, category = site()
        start = DAY + dt.timedelta(minutes=rng.uniform(0, span_min - 8 * 60))
        b.raid(lat, lon, start, category, "raided_again")
        later = start + dt.timedelta(hours=rng.uniform(3, 8))
        b.raid(lat, lon, later, category, "raided_again")

    for _ in range(int(raids * 0.5)):
        # A lone false alarm: one report, anywhere, any time.
        lat = rng.uniform(CITY_BOX[0], CITY_BOX[1])
        lon = rng.uniform(CITY_BOX[2], CITY_BOX[3])
        at = DAY + dt.timedelta(minutes=rng.uniform(0, span_min))
        b.report(b.event("false_alarm"), lat, lon, at, rng.choice(CATEGORIES))

    return b.finish()


def pairwise(truth: list[str], predicted: list[str]) -> tuple[float, float, int, int, int]:
    """Pairwise (precision, recall, true pairs found, predicted pairs, true pairs)."""

    def pairs(labels: list[str]) -> set[tuple[int, int]]:
        groups: dict[str, list[int]] = {}
        for i, label in enumerate(labels):
            groups.setdefault(label, []).append(i)
        return {(a, b) for members in groups.values() for a in members for b in members if a < b}

    true_pairs, predicted_pairs = pairs(truth), pairs(predicted)
    hits = len(true_pairs & predicted_pairs)
    precision = hits / len(predicted_pairs) if predicted_pairs else 1.0
    recall = hits / len(true_pairs) if true_pairs else 1.0
    return precision, recall, hits, len(predicted_pairs), len(true_pairs)


def write(surge: Surge, out: Path, truth: Path | None = None) -> None:
    out.write_text("".join(json.dumps(line) + "\n" for line in surge.lines), encoding="utf-8")
    if truth is not None:
        truth.write_text(
            "".join(
                json.dumps({"id": line["id"], "event": label}) + "\n"
                for line, label in zip(surge.lines, surge.truth, strict=True)
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--raids", type=int, default=120)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--truth", type=Path)
    args = parser.parse_args()
    write(generate(args.seed, args.raids), args.out, args.truth)
