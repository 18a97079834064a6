"""Coarse geography: offline ZIP centroids and neighbourhood-size h3 cells.

Nothing here asks a server anything: ZIP centroids come from the `zipcodes` package's own
data file, and h3 is arithmetic. Areas are deliberately coarse (product brief: "a coarse home
area, never an exact home address").
"""

from __future__ import annotations

import functools
import math
import re

import h3
import zipcodes
from django.utils.translation import gettext as _

# Resolution 7 cells average about 5 km² (edges of about 1.4 km): the size of a
# neighbourhood, smaller than most Los Angeles ZIP codes. That is fine enough to find the
# responders a short drive away and coarse enough that one cell holds thousands of
# households, so it does not point at a home. Resolution 8 (~0.7 km², a few blocks) would.
AREA_RESOLUTION = 7

# ASCII digits only: other scripts' digits match \d and would reach the ZIP table.
_ZIP_RE = re.compile(r"[0-9]{5}")

# What h3 raises for a string that is not a cell: ValueError (its own errors), TypeError, and
# OverflowError for hexadecimal longer than 64 bits ("10000000000000000").
H3_ERRORS = (ValueError, TypeError, OverflowError)


def is_zip_format(value: str) -> bool:
    return isinstance(value, str) and bool(_ZIP_RE.fullmatch(value))


@functools.lru_cache(maxsize=4096)
def _zip_record(zip_code: str) -> dict | None:
    if not is_zip_format(zip_code):
        return None
    try:
        found = zipcodes.matching(zip_code)
    except (ValueError, TypeError):
        return None
    return found[0] if found else None


def load_zip_table() -> None:
    """Read the ZIP table now (the web server calls this as each worker starts): the first
    lookup reads the whole offline table, ~0.6 s of CPU holding the interpreter lock, which
    would otherwise fall on the first public report of each worker, and on its three other
    threads waiting behind it, at the start of a surge."""
    zipcodes.matching("90033")


def is_real_zip(zip_code: str) -> bool:
    """True for a 5-digit US ZIP code that exists in the offline table."""
    return _zip_record(zip_code) is not None


def zip_centroid(zip_code: str) -> tuple[float, float] | None:
    """The (lat, lon) centre of a 5-digit ZIP code, or None if unknown."""
    record = _zip_record(zip_code)
    if record is None:
        return None
    try:
        return float(record["lat"]), float(record["long"])
    except (KeyError, TypeError, ValueError):
        return None


def zip_city(zip_code: str) -> str:
    record = _zip_record(zip_code)
    return str(record.get("city", "")) if record else ""


def cell_for(lat: float, lon: float, resolution: int = AREA_RESOLUTION) -> str:
    """The h3 cell (neighbourhood size by default) that holds a point."""
    return h3.latlng_to_cell(lat, lon, resolution)


def is_area_cell(cell: str) -> bool:
    """True for a valid h3 cell at the neighbourhood resolution."""
    try:
        return h3.is_valid_cell(cell) and h3.get_resolution(cell) == AREA_RESOLUTION
    except H3_ERRORS:
        return False


def cell_outline(cell: str) -> str:
    """The cell's corners as "lat,lon;lat,lon;..." for a map script to draw (5 decimals)."""
    return ";".join(f"{lat:.5f},{lon:.5f}" for lat, lon in h3.cell_to_boundary(cell))


def cell_resolution(cell: str) -> int | None:
    """The resolution of a valid h3 cell, or None for anything else."""
    try:
        return h3.get_resolution(cell) if h3.is_valid_cell(cell) else None
    except H3_ERRORS:
        return None


def home_area_cell(home_cell: str, home_zip: str) -> str:
    """A person's coarse home cell: the one they chose, else their ZIP's centre, else ""."""
    if home_cell and is_area_cell(home_cell):
        return home_cell
    centre = zip_centroid(home_zip) if home_zip else None
    return cell_for(*centre) if centre else ""


def cell_center(cell: str) -> tuple[float, float]:
    return h3.cell_to_latlng(cell)


@functools.lru_cache(maxsize=8)
def _state_zip_centroids(state: str) -> tuple[tuple[str, float, float], ...]:
    # Loading a state's ZIPs scans the whole table once (~0.5 s); cache it per process.
    rows = []
    for rec in zipcodes.filter_by(state=state):
        # PO-box and unique (one-building) ZIPs would make odd labels for an area.
        if rec.get("zip_code_type") != "STANDARD" or not rec.get("active", True):
            continue
        try:
            rows.append((rec["zip_code"], float(rec["lat"]), float(rec["long"])))
        except (KeyError, TypeError, ValueError):
            continue
    return tuple(rows)


def _distance_sq(a: tuple[float, float], b: tuple[float, float]) -> float:
    # Equirectangular approximation: plenty for choosing the nearest of nearby ZIP centres.
    mean_lat = math.radians((a[0] + b[0]) / 2)
    dx = (b[1] - a[1]) * math.cos(mean_lat)
    dy = b[0] - a[0]
    return dx * dx + dy * dy


_COMPASS = ("north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest")


def compass(origin: tuple[float, float], point: tuple[float, float]) -> str:
    """One of eight compass words for the direction from origin to point."""
    mean_lat = math.radians((origin[0] + point[0]) / 2)
    dx = (point[1] - origin[1]) * math.cos(mean_lat)
    dy = point[0] - origin[0]
    bearing = (math.degrees(math.atan2(dx, dy)) + 360) % 360
    return _COMPASS[int((bearing + 22.5) // 45) % 8]


def nearest_zip(point: tuple[float, float], state: str = "CA") -> str:
    rows = _state_zip_centroids(state)
    if not rows:
        return ""
    return min(rows, key=lambda r: _distance_sq(point, (r[1], r[2])))[0]


def area_cells_near(zip_codes: list[str], rings: int = 1) -> list[str]:
    """Neighbourhood cells around some ZIP codes: each ZIP's own cell and its neighbours.

    This is how a member picks an area without a map and without JavaScript: a short list
    of cells around their committee's ZIP codes.
    """
    cells: list[str] = []
    for zip_code in zip_codes:
        centre = zip_centroid(zip_code)
        if centre is None:
            continue
        for cell in sorted(h3.grid_disk(cell_for(*centre), rings)):
            if cell not in cells:
                cells.append(cell)
    return cells


MAX_CHILD_CELLS = 49  # a coarser committee cell is split only while the list stays short


def area_cells_from(cells: list[str]) -> list[str]:
    """Neighbourhood-size cells for a committee's own h3 cells, of any resolution.

    Finer cells become their neighbourhood parent; a coarser cell becomes its children,
    unless there would be too many to list (then the ZIP codes must do).
    """
    found: list[str] = []
    for cell in cells:
        try:
            if not h3.is_valid_cell(cell):
                continue
            res = h3.get_resolution(cell)
            if res == AREA_RESOLUTION:
                candidates = [cell]
            elif res > AREA_RESOLUTION:
                candidates = [h3.cell_to_parent(cell, AREA_RESOLUTION)]
            elif 7 ** (AREA_RESOLUTION - res) <= MAX_CHILD_CELLS:
                candidates = sorted(h3.cell_to_children(cell, AREA_RESOLUTION))
            else:
                candidates = []
        except H3_ERRORS:
            continue
        found.extend(c for c in candidates if c not in found)
    return found


@functools.lru_cache(maxsize=8)
def _zips_by_cell(state: str) -> dict[str, tuple[str, ...]]:
    by_cell: dict[str, list[str]] = {}
    for zip_code, lat, lon in _state_zip_centroids(state):
        by_cell.setdefault(cell_for(lat, lon), []).append(zip_code)
    return {cell: tuple(sorted(zips)) for cell, zips in by_cell.items()}


@functools.lru_cache(maxsize=4096)
def cell_label(cell: str, state: str = "CA") -> tuple[str, str]:
    """(ZIP codes, compass word or "") naming a cell so people recognise it.

    A cell holding ZIP centres is named by those ZIPs ("90033" or "90033, 90063"); any
    other says on which side of the nearest ZIP centre it lies.
    """
    inside = _zips_by_cell(state)
    if cell in inside:
        return ", ".join(inside[cell]), ""
    centre = cell_center(cell)
    zip_code = nearest_zip(centre, state)
    zc = zip_centroid(zip_code) if zip_code else None
    return zip_code, compass(zc, centre) if zc else ""


def cell_labels(cells: list[str], state: str = "CA") -> dict[str, tuple[str, str]]:
    return {cell: cell_label(cell, state) for cell in cells}


def cell_text(zip_code: str, direction: str, name: str = "") -> str:
    """A cell's label (from `cell_label`) in words: "Just east of ZIP 90033 · Los Angeles",
    or, where the network named the neighbourhood, "Boyle Heights · Just east of ZIP 90033".

    The words members choose their home area from, and the words alerts and the public page
    use for where an incident is: never finer than a neighbourhood.
    """
    # A cell may hold several ZIP centres ("90033, 90063"); they share a city name.
    city = zip_city(zip_code.split(",")[0].strip())
    if not direction:
        text = _("Around ZIP %(zip)s") % {"zip": zip_code}
    else:
        text = {
            "north": _("Just north of ZIP %(zip)s"),
            "northeast": _("Just northeast of ZIP %(zip)s"),
            "east": _("Just east of ZIP %(zip)s"),
            "southeast": _("Just southeast of ZIP %(zip)s"),
            "south": _("Just south of ZIP %(zip)s"),
            "southwest": _("Just southwest of ZIP %(zip)s"),
            "west": _("Just west of ZIP %(zip)s"),
            "northwest": _("Just northwest of ZIP %(zip)s"),
        }.get(direction, _("Around ZIP %(zip)s")) % {"zip": zip_code}
    if name:
        return f"{name} · {text}"
    return f"{text} · {city}" if city else text
