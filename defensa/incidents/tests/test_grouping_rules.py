"""The grouping rule and its spatial index, without a database."""

from __future__ import annotations

import datetime as dt
import math
import random

import h3

from defensa.incidents import grouping
from defensa.incidents.grouping import Candidate, Rules, Sighting

RULES = Rules(base_m=150, factor=2, gap=dt.timedelta(minutes=45), max_span=dt.timedelta(hours=4))
T0 = dt.datetime(2026, 6, 10, 15, 0, tzinfo=dt.UTC)
# A warehouse in Boyle Heights.
LAT, LON = 34.0430, -118.2100


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (
        lat + north_m / 111_320,
        lon + east_m / (111_320 * math.cos(math.radians(lat))),
    )


def cand(pk: int = 1, *, lat: float = LAT, lon: float = LON, r: float = 30, **kw) -> Candidate:  # type: ignore[no-untyped-def]
    return Candidate(
        pk=pk,
        lat=lat,
        lon=lon,
        radius_m=r,
        first=kw.get("first", T0),
        last=kw.get("last", T0 + dt.timedelta(minutes=10)),
        category=kw.get("category", "workplace_raid"),
    )


def sight(
    north: float = 0, east: float = 0, *, r: float = 30, minutes: float = 5, **kw
) -> Sighting:  # type: ignore[no-untyped-def]
    lat, lon = offset(LAT, LON, north, east)
    return Sighting(
        lat=lat,
        lon=lon,
        radius_m=r,
        observed_at=T0 + dt.timedelta(minutes=minutes),
        category=kw.get("category", "workplace_raid"),
    )


def test_gps_reports_tens_of_metres_apart_join() -> None:
    assert grouping.choose(sight(60, -40), [cand()], RULES) is not None


def test_a_raid_a_few_hundred_metres_away_stays_separate() -> None:
    assert grouping.choose(sight(400, 0), [cand()], RULES) is None


def test_zip_only_report_joins_from_kilometres_away_but_gps_does_not() -> None:
    assert grouping.choose(sight(1500, 1000, r=2500), [cand()], RULES) is not None
    assert grouping.choose(sight(1500, 1000, r=30), [cand()], RULES) is None


def test_the_same_place_hours_later_is_a_new_incident() -> None:
    assert grouping.choose(sight(minutes=10 + 46), [cand()], RULES) is None
    assert grouping.choose(sight(minutes=10 + 44), [cand()], RULES) is not None
    assert grouping.choose(sight(minutes=-44), [cand()], RULES) is not None


def test_an_incident_cannot_be_chained_across_the_day() -> None:
    long = cand(first=T0 - dt.timedelta(hours=3, minutes=50), last=T0)
    assert grouping.choose(sight(minutes=20), [long], RULES) is None


def test_different_specific_categories_must_be_closer() -> None:
    assert grouping.choose(sight(180, category="vehicle_stop"), [cand()], RULES) is None
    assert grouping.choose(sight(180, category="workplace_raid"), [cand()], RULES) is not None
    # "Agents seen" goes with anything at the full distance.
    assert grouping.choose(sight(180, category="sighting"), [cand()], RULES) is not None


def test_same_category_wins_over_a_nearer_other_category() -> None:
    raid = cand(1, category="workplace_raid")
    lat, lon = offset(LAT, LON, 500, 0)
    stop = cand(2, lat=lat, lon=lon, category="vehicle_stop")
    zip_report = sight(250, 0, r=2500, category="vehicle_stop")
    assert grouping.choose(zip_report, [raid, stop], RULES) == stop


def test_choice_does_not_depend_on_candidate_order_or_ids() -> None:
    rng = random.Random(7)
    cands = [cand(i, lat=offset(LAT, LON, rng.uniform(-300, 300), 0)[0]) for i in range(30)]
    s = sight(0, 0, r=2500)
    first = grouping.choose(s, cands, RULES)
    for _ in range(10):
        rng.shuffle(cands)
        assert grouping.choose(s, cands, RULES) == first
    # The same values under other ids give the same incident (by value).
    renumbered = [Candidate(1000 - c.pk, *list(c.__dict__.values())[1:]) for c in cands]
    again = grouping.choose(s, renumbered, RULES)
    assert again is not None and first is not None
    assert (again.lat, again.lon) == (first.lat, first.lon)


def test_search_cells_hold_every_incident_that_could_match() -> None:
    """The index must never miss a match: compare with brute force over random places."""
    rng = random.Random(11)
    checked = 0
    # Los Angeles mostly, and a few other latitudes where h3 cells have other shapes.
    regions = [(34.0, -118.25)] * 4 + [(0.5, 30.0), (61.2, -149.9), (-33.9, 151.2), (19.4, -99.1)]
    for _ in range(400):
        base_lat, base_lon = rng.choice(regions)
        lat, lon = base_lat + rng.uniform(-0.2, 0.2), base_lon + rng.uniform(-0.2, 0.2)
        r_report = rng.choice([5.0, 30.0, 100.0, 400.0, 2500.0, 3000.0])
        s = Sighting(lat, lon, r_report, T0, "other")
        cells = set(grouping.search_cells(s, RULES))
        for _ in range(20):
            r_inc = rng.choice([5.0, 30.0, 250.0, 251.0, 1200.0, 3000.0])
            reach = grouping.threshold_m(r_report, r_inc, RULES)
            bearing = rng.uniform(0, 2 * math.pi)
            dist = reach * rng.choice([rng.uniform(0.0, 0.999), rng.uniform(0.95, 0.999)])
            clat, clon = offset(lat, lon, dist * math.cos(bearing), dist * math.sin(bearing))
            assert grouping.distance_m(lat, lon, clat, clon) <= reach * 1.001
            assert grouping.grid_cell(clat, clon, r_inc) in cells
            checked += 1
    assert checked == 8000


def test_grid_cell_resolution_follows_precision() -> None:
    assert h3.get_resolution(grouping.grid_cell(LAT, LON, 30)) == grouping.PRECISE_RES
    assert h3.get_resolution(grouping.grid_cell(LAT, LON, 2500)) == grouping.COARSE_RES


def test_precision_is_clamped_for_grouping() -> None:
    assert grouping.clamp_precision(None) == grouping.MAX_PRECISION_M
    assert grouping.clamp_precision(0) == grouping.MIN_PRECISION_M
    assert grouping.clamp_precision(50_000) == grouping.MAX_PRECISION_M
    assert grouping.clamp_precision(float("nan")) == grouping.MAX_PRECISION_M
