"""Which committee's area holds a place: by ZIP code or by h3 cell."""

from __future__ import annotations

import h3

from defensa.committees.models import Committee, Kind
from defensa.core import geo

# A local committee is closer to the street than its city or network.
_KIND_RANK = {Kind.LOCAL: 0, Kind.CITY: 1, Kind.NETWORK: 2}


def committee_for(lat: float | None, lon: float | None, zip_code: str = "") -> Committee | None:
    """The most local committee whose ZIP codes or h3 cells contain the place, or None."""
    committees = [
        cm
        for cm in Committee.objects.only("id", "kind", "zip_codes", "h3_cells", "name", "slug")
        if cm.zip_codes or cm.h3_cells
    ]
    if not committees:
        return None
    located = lat is not None and lon is not None
    if not zip_code and located and any(cm.zip_codes for cm in committees):
        # No ZIP given: the nearest ZIP centre stands in for the ZIP that contains the point.
        zip_code = geo.nearest_zip((lat, lon))  # type: ignore[arg-type]
    matches: list[tuple[int, int, int, Committee]] = []
    for cm in committees:
        finest = -1
        if located:
            for cell in cm.h3_cells:
                try:
                    res = h3.get_resolution(cell)
                except (ValueError, TypeError):
                    continue
                if h3.latlng_to_cell(lat, lon, res) == cell:
                    finest = max(finest, res)
        in_zip = bool(zip_code) and zip_code in cm.zip_codes
        if finest >= 0 or in_zip:
            matches.append((_KIND_RANK.get(cm.kind, 3), -finest, cm.pk, cm))
    if not matches:
        return None
    return min(matches, key=lambda m: m[:3])[3]
