"""Group a new report into an open incident, or open a new one.

The rule (docs/rapid-response.md has it in plain words):

- **Space.** A report and an incident are near when the distance between the report's point
  and the incident's centroid is at most `base + sqrt(reach_report² + reach_incident²)`, where
  a GPS accuracy reaches `factor` times itself and a vague radius (a ZIP) reaches itself: each
  side's uncertainty widens the threshold, so a GPS fix (tens of metres) must be close, while
  a ZIP-only report (kilometres) matches what is in or near its ZIP.
- **Category.** Different specific categories (a workplace raid and a vehicle stop) must be
  twice as close; "agents seen" and "something else" go with anything. Among several matches
  the same category wins, then the nearest relative to its threshold.
- **Time.** The report's time must fall within `gap` of the incident's observed span, and the
  span may not grow beyond `max_span`: the same place raided again hours later is a new
  incident, and a stream of reports cannot chain one incident across a whole day.
- Only open incidents (new, verifying, confirmed) take reports; a false alarm stays alone.

Determinism: the result depends only on the reports and their order, never on database ids,
the time of processing or dict order. Ties are broken by the incidents' own values (first
observed time, centroid), and an id only if two incidents are identical in all of them.

Speed: incidents are indexed by an h3 cell of their centroid — resolution 8 (~0.7 km²) for a
precise centroid, resolution 7 (~5 km²) for a coarse one — and the query asks only for the
cells that can hold a match, within the rolling time window, so the work per report does not
grow with the number of reports in the window.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import h3
from django.conf import settings
from django.db import connection
from django.utils import timezone

from defensa.incidents.models import OPEN_STATES, Category, Incident

EARTH_RADIUS_M = 6_371_008.8
PRECISE_RES = 8
COARSE_RES = 7
# An incident whose best report is vaguer than this is indexed in the coarse grid.
COARSE_FROM_M = 250.0
MIN_PRECISION_M = 5.0
# Uncertainty is capped for grouping at a large ZIP's radius: a "20 km" fix says nothing
# useful about which raid it is, and the cap bounds how far the index must look.
MAX_PRECISION_M = 3000.0
# Generous margin on an h3 cell's circumradius: edge lengths vary across the globe.
_CELL_MARGIN = 1.5
WILDCARD_CATEGORIES = frozenset({Category.SIGHTING, Category.OTHER})
CROSS_CATEGORY_FACTOR = 0.5


@dataclass(frozen=True)
class Rules:
    base_m: float
    factor: float
    gap: dt.timedelta
    max_span: dt.timedelta

    @classmethod
    def from_settings(cls) -> Rules:
        return cls(
            base_m=float(settings.GROUPING_BASE_M),
            factor=float(settings.GROUPING_UNCERTAINTY_FACTOR),
            gap=dt.timedelta(minutes=settings.GROUPING_GAP_MINUTES),
            max_span=dt.timedelta(minutes=settings.GROUPING_MAX_SPAN_MINUTES),
        )


@dataclass(frozen=True)
class Sighting:
    """What grouping needs to know about one report."""

    lat: float | None
    lon: float | None
    radius_m: float | None
    observed_at: dt.datetime
    category: str

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None and self.radius_m is not None


@dataclass(frozen=True)
class Candidate:
    """What grouping needs to know about one open incident."""

    pk: int
    lat: float
    lon: float
    radius_m: float
    first: dt.datetime
    last: dt.datetime
    category: str

    @classmethod
    def of(cls, incident: Incident) -> Candidate:
        return cls(
            incident.pk,
            incident.lat,  # type: ignore[arg-type]
            incident.lon,  # type: ignore[arg-type]
            incident.radius_m or MAX_PRECISION_M,
            incident.first_observed_at,
            incident.last_observed_at,
            incident.category,
        )


def clamp_precision(value: float | None) -> float:
    if value is None or not math.isfinite(value):
        return MAX_PRECISION_M
    return min(max(float(value), MIN_PRECISION_M), MAX_PRECISION_M)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance on a local flat map (equirectangular at the mean latitude).

    Within the ~15 km grouping ever compares, it differs from the great-circle distance by
    far less than a GPS fix's error, and it is several times cheaper: a ZIP-only report in a
    dense surge is compared with hundreds of incidents.
    """
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return EARTH_RADIUS_M * math.hypot(x, y)


def _reach(r: float, rules: Rules) -> float:
    # A phone's accuracy is a typical error (about one standard deviation): allow `factor`
    # times it. A vague report's radius (a ZIP) is already a bound: allow it once, or a
    # ZIP-only report would reach raids in the next ZIP over.
    return rules.factor * r if r <= COARSE_FROM_M else max(r, rules.factor * COARSE_FROM_M)


def threshold_m(r1: float, r2: float, rules: Rules) -> float:
    return rules.base_m + math.hypot(_reach(r1, rules), _reach(r2, rules))


def category_rank(a: str, b: str) -> int:
    """0: same category; 1: one is a wildcard; 2: two different specific categories."""
    if a == b:
        return 0
    if a in WILDCARD_CATEGORIES or b in WILDCARD_CATEGORIES:
        return 1
    return 2


def within_time(at: dt.datetime, cand: Candidate, rules: Rules) -> bool:
    if at < cand.first - rules.gap or at > cand.last + rules.gap:
        return False
    return max(cand.last, at) - min(cand.first, at) <= rules.max_span


def place_score(
    s: Sighting, lat: float, lon: float, radius_m: float, category: str, rules: Rules
) -> tuple[int, float] | None:
    """(category rank, distance / threshold) when the places are near enough, else None."""
    rank = category_rank(s.category, category)
    limit = threshold_m(s.radius_m, radius_m, rules)  # type: ignore[arg-type]
    if rank == 2:
        limit *= CROSS_CATEGORY_FACTOR
    ratio = distance_m(s.lat, s.lon, lat, lon) / limit  # type: ignore[arg-type]
    return (rank, ratio) if ratio <= 1.0 else None


def score(s: Sighting, cand: Candidate, rules: Rules) -> tuple[int, float] | None:
    """(category rank, distance / threshold) when the report may join, else None."""
    if not s.located or not within_time(s.observed_at, cand, rules):
        return None
    return place_score(s, cand.lat, cand.lon, cand.radius_m, cand.category, rules)


def choose(s: Sighting, candidates: Iterable[Candidate], rules: Rules) -> Candidate | None:
    """The best incident for a report, or None. Depends on values, not on candidate order."""
    best: tuple | None = None
    chosen: Candidate | None = None
    for cand in candidates:
        found = score(s, cand, rules)
        if found is None:
            continue
        key = (*found, cand.first, cand.last, cand.lat, cand.lon, cand.category, cand.pk)
        if best is None or key < best:
            best, chosen = key, cand
    return chosen


# --- The spatial index -------------------------------------------------------------------


def grid_cell(lat: float, lon: float, radius_m: float) -> str:
    res = COARSE_RES if radius_m > COARSE_FROM_M else PRECISE_RES
    return h3.latlng_to_cell(lat, lon, res)


def cells_within(lat: float, lon: float, reach_m: float, res: int) -> list[str]:
    """Cells at `res` that may hold a centroid within `reach_m` of the point.

    Answers are cached per small neighbourhood (the point's cell two resolutions finer) and
    per 50 m of reach, computed for the whole neighbourhood: a superset, so still exact
    after the distance check, and a surge's many reports of one place cost one computation.
    """
    home = h3.latlng_to_cell(lat, lon, min(res + 2, 15))
    return list(_cells_near(home, math.ceil(reach_m / 50) * 50, res))


@functools.lru_cache(maxsize=20_000)
def _cells_near(home: str, reach_m: float, res: int) -> tuple[str, ...]:
    lat, lon = h3.cell_to_latlng(home)
    home_edge = h3.average_hexagon_edge_length(h3.get_resolution(home), unit="m")
    edge = h3.average_hexagon_edge_length(res, unit="m")
    # A centroid sits at most one circumradius (one edge, with margin) from its cell's
    # centre; the point as far from its neighbourhood's centre. Centres k steps apart are
    # about 1.5 * edge * k apart; 1.2 * edge * k leaves room for cells smaller than average.
    # test_search_cells_hold_every_incident_that_could_match checks this against brute force.
    slack = reach_m + _CELL_MARGIN * (edge + home_edge)
    k = math.ceil((slack + _CELL_MARGIN * edge) / (1.2 * edge))
    origin = h3.latlng_to_cell(lat, lon, res)
    # Planar distances are fine at these ranges; 2% margin covers the approximation.
    limit_sq = (slack * 1.02) ** 2
    per_deg = 111_320.0
    cos_lat = math.cos(math.radians(lat))
    keep = []
    for cell in h3.grid_disk(origin, k):
        clat, clon = h3.cell_to_latlng(cell)
        dy = (clat - lat) * per_deg
        dx = (clon - lon) * per_deg * cos_lat
        if dx * dx + dy * dy <= limit_sq:
            keep.append(cell)
    return tuple(sorted(keep))


def search_cells(s: Sighting, rules: Rules) -> list[str]:
    """Every index cell that may hold an incident this report could join."""
    if not s.located:
        return []
    r = s.radius_m
    near_precise = threshold_m(r, COARSE_FROM_M, rules)  # type: ignore[arg-type]
    near_coarse = threshold_m(r, MAX_PRECISION_M, rules)  # type: ignore[arg-type]
    return sorted(
        {
            *cells_within(s.lat, s.lon, near_precise, PRECISE_RES),  # type: ignore[arg-type]
            *cells_within(s.lat, s.lon, near_coarse, COARSE_RES),  # type: ignore[arg-type]
        }
    )


def find_incident(s: Sighting, rules: Rules | None = None) -> int | None:
    """The id of the open incident a report belongs to, or None for a new incident.

    One indexed query over the cells that can hold a match, within the rolling time window.
    The query's time conditions are exactly `within_time()` (an incident's span never
    exceeds max_span, because absorb() only takes reports within it), so the rows are
    ranked as plain numbers with the key `choose()` uses. A ZIP-only report in a dense surge
    may have hundreds of rows within reach, so times are read only for an exact tie.
    """
    rules = rules or Rules.from_settings()
    cells = search_cells(s, rules)
    if not cells:
        return None
    t = s.observed_at
    ops = connection.ops
    table = Incident._meta.db_table
    marks = ", ".join(["%s"] * len(cells))
    states = ", ".join(["%s"] * len(OPEN_STATES))
    # Only placeholders and our own table name are interpolated; values go as parameters.
    sql = (
        "SELECT id, lat, lon, radius_m, category "  # noqa: S608
        f"FROM {table} WHERE cell IN ({marks}) AND state IN ({states}) "
        "AND last_observed_at >= %s AND last_observed_at <= %s "
        "AND first_observed_at <= %s AND first_observed_at >= %s"
    )
    params = [
        *cells,
        *OPEN_STATES,
        ops.adapt_datetimefield_value(t - rules.gap),
        ops.adapt_datetimefield_value(t + rules.max_span),
        ops.adapt_datetimefield_value(t + rules.gap),
        ops.adapt_datetimefield_value(t - rules.max_span),
    ]
    best: tuple[int, float] | None = None
    tied: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for pk, lat, lon, radius, category in cursor.fetchall():
            if lat is None or lon is None or radius is None:
                continue
            found = place_score(s, lat, lon, radius, category, rules)
            if found is None:
                continue
            if best is None or found < best:
                best, tied = found, [pk]
            elif found == best:
                tied.append(pk)
    if best is None:
        return None
    if len(tied) == 1:
        return tied[0]
    # An exact tie (say two ZIP-only incidents at one ZIP centre): choose() breaks it by the
    # incidents' own values, as it would have with every candidate.
    rows = Incident.objects.filter(pk__in=tied).values_list(
        "pk", "lat", "lon", "radius_m", "first_observed_at", "last_observed_at", "category"
    )
    found_cand = choose(s, [Candidate(*row) for row in rows], rules)
    return found_cand.pk if found_cand else None


# --- Near misses: "maybe the same as ..." -------------------------------------------------
# Grouping keeps apart what it cannot be sure of; a dispatcher's glance settles the rest.
# Two open incidents are suggested as maybe one when their times overlap (within `gap`) and
# either their places would have matched but for two different categories, or one is only a
# ZIP code a little beyond the reach of the other, or they are up to twice the reach apart (a
# reporter a few hundred metres off). Each incident gets at most its one best suggestion.

NEAR_OTHER_CATEGORY = "category"
NEAR_ZIP_ONLY = "zip"
NEAR_PLACE = "place"
NEAR_FACTOR = 2.0
NEAR_ZIP_FACTOR = 1.5


def near_miss(a: Candidate, b: Candidate, rules: Rules) -> tuple[float, str] | None:
    """(distance / threshold, reason) when `a` and `b` may be one incident, else None."""
    if a.first > b.last + rules.gap or b.first > a.last + rules.gap:
        return None
    limit = threshold_m(a.radius_m, b.radius_m, rules)
    ratio = distance_m(a.lat, a.lon, b.lat, b.lon) / limit
    rank = category_rank(a.category, b.category)
    if rank == 2 and ratio <= 1.0:
        return ratio, NEAR_OTHER_CATEGORY
    zip_only = (a.radius_m > COARSE_FROM_M) != (b.radius_m > COARSE_FROM_M)
    if zip_only and ratio <= NEAR_ZIP_FACTOR:
        return ratio, NEAR_ZIP_ONLY
    if rank < 2 and ratio <= NEAR_FACTOR:
        return ratio, NEAR_PLACE
    return None


def near_misses(
    shown: list[Candidate],
    others: list[Candidate],
    rules: Rules,
    same_group: dict[int, object] | None = None,
) -> dict[int, tuple[int, str]]:
    """For each of `shown`, its best near miss among `others` (and `shown`): {pk: (pk,
    reason)}. With `same_group`, only pairs whose values there are equal (a merge keeps to
    one committee). Precise incidents are bucketed in squares as wide as the farthest a
    precise pair can be suggested, so each is compared only with its neighbours; the few
    vague ones (a ZIP) are compared with every shown one."""
    pool = {c.pk: c for c in [*others, *shown]}
    precise = [c for c in pool.values() if c.radius_m <= COARSE_FROM_M]
    vague = [c for c in pool.values() if c.radius_m > COARSE_FROM_M]
    widest = max((c.radius_m for c in precise), default=MIN_PRECISION_M)
    side = NEAR_FACTOR * threshold_m(widest, widest, rules)
    lat0 = math.radians(shown[0].lat) if shown else 0.0
    per_deg = math.pi * EARTH_RADIUS_M / 180

    def square(c: Candidate) -> tuple[int, int]:
        return (int(c.lat * per_deg // side), int(c.lon * per_deg * math.cos(lat0) // side))

    grid: dict[tuple[int, int], list[Candidate]] = {}
    for cand in precise:
        grid.setdefault(square(cand), []).append(cand)
    found: dict[int, tuple[int, str]] = {}
    for a in shown:
        # How far a precise incident may be from this one and still be suggested.
        reach = max(NEAR_FACTOR, NEAR_ZIP_FACTOR) * threshold_m(a.radius_m, widest, rules)
        # 10% to spare: squares use one latitude's scale for longitude.
        span = math.ceil(reach / (0.9 * side))
        y, x = square(a)
        near = [
            b
            for dy in range(-span, span + 1)
            for dx in range(-span, span + 1)
            for b in grid.get((y + dy, x + dx), ())
        ]
        best: tuple | None = None
        for b in [*near, *vague]:
            if b.pk == a.pk:
                continue
            if same_group is not None and same_group.get(a.pk) != same_group.get(b.pk):
                continue
            miss = near_miss(a, b, rules)
            if miss is None:
                continue
            key = (miss[0], b.first, b.lat, b.lon, b.pk)
            if best is None or key < best[0]:
                best = (key, b.pk, miss[1])
        if best is not None:
            found[a.pk] = (best[1], best[2])
    return found


# --- Updating an incident with a report ----------------------------------------------------


def absorb(incident: Incident, s: Sighting) -> list[str]:
    """Fold a report into an incident in memory; return the fields that changed."""
    changed = ["report_count", "first_observed_at", "last_observed_at", "updated_at"]
    incident.report_count += 1
    incident.first_observed_at = min(incident.first_observed_at, s.observed_at)
    incident.last_observed_at = max(incident.last_observed_at, s.observed_at)
    incident.updated_at = timezone.now()
    if incident.category in WILDCARD_CATEGORIES and s.category not in WILDCARD_CATEGORIES:
        # "Agents seen" becomes what a later reporter saw them doing.
        incident.category = s.category
        changed.append("category")
    if s.located:
        r = s.radius_m
        w = 1.0 / (r * r)  # type: ignore[operator]
        if incident.lat is None or incident.lon is None or not incident.weight:
            incident.lat, incident.lon, incident.weight, incident.radius_m = s.lat, s.lon, w, r
        else:
            # Inverse-variance weighting: a GPS fix moves the centroid, a ZIP barely does.
            total = incident.weight + w
            incident.lat = (incident.lat * incident.weight + s.lat * w) / total  # type: ignore[operator]
            incident.lon = (incident.lon * incident.weight + s.lon * w) / total  # type: ignore[operator]
            incident.weight = total
            # The incident is as precise as its best report (many ZIP-only reports of one ZIP
            # are no more precise than one).
            incident.radius_m = min(incident.radius_m or r, r)  # type: ignore[type-var]
        incident.cell = grid_cell(incident.lat, incident.lon, incident.radius_m)  # type: ignore[arg-type]
        changed += ["lat", "lon", "weight", "radius_m", "cell"]
    return changed


def new_incident_for(s: Sighting) -> Incident:
    """An unsaved incident holding just this report."""
    incident = Incident(
        category=s.category,
        first_observed_at=s.observed_at,
        last_observed_at=s.observed_at,
        report_count=0,
    )
    absorb(incident, s)
    return incident
