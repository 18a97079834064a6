"""Which committee's area holds a place (by ZIP code or h3 cell), and where an incident is
in words coarse enough to send to a responder or show the public."""

from __future__ import annotations

import h3
from django.utils.translation import ngettext

from defensa.committees.areas import cell_words
from defensa.committees.models import Committee, Kind
from defensa.core import geo
from defensa.incidents.models import OPEN_STATES, Incident

# A local committee is closer to the street than its city or network.
_KIND_RANK = {Kind.LOCAL: 0, Kind.CITY: 1, Kind.NETWORK: 2}


def committee_for(lat: float | None, lon: float | None, zip_code: str = "") -> Committee | None:
    """The most local committee whose ZIP codes or h3 cells contain the place, or None."""
    committees = [
        cm
        for cm in Committee.objects.filter(archived_at__isnull=True).only(
            "id", "kind", "zip_codes", "h3_cells", "name", "slug"
        )
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
                except geo.H3_ERRORS:
                    continue
                if h3.latlng_to_cell(lat, lon, res) == cell:
                    finest = max(finest, res)
        in_zip = bool(zip_code) and zip_code in cm.zip_codes
        if finest >= 0 or in_zip:
            matches.append((_KIND_RANK.get(cm.kind, 3), -finest, cm.pk, cm))
    if not matches:
        return None
    return min(matches, key=lambda m: m[:3])[3]


def top_committee() -> Committee | None:
    """The network's top committee: where a report nobody's area holds is seen."""
    return Committee.objects.filter(parent__isnull=True).order_by("pk").first()


def open_incidents_reason(committee: Committee) -> str:
    """Why the committee cannot be archived yet, if it has open incidents ("" if none)."""
    count = Incident.objects.filter(
        committee=committee, state__in=OPEN_STATES, merged_into__isnull=True
    ).count()
    if not count:
        return ""
    return ngettext(
        "It has %(count)d open incident. Close it first.",
        "It has %(count)d open incidents. Close them first.",
        count,
    ) % {"count": count}


def queue_for(
    lat: float | None, lon: float | None, zip_code: str = "", *, fallback: Committee | None = None
) -> Committee | None:
    """Whose dispatchers see a new incident: the committee whose area holds the place; for a
    report without a usable place (or outside every area), `fallback` (the committee that owns
    the number it came in on), else the network's top committee. None only before any
    committee exists."""
    return committee_for(lat, lon, zip_code) or fallback or top_committee()


def incident_cell(incident: Incident) -> str:
    """The neighbourhood cell of the incident: its centroid, else its reports' first ZIP."""
    if incident.lat is not None and incident.lon is not None:
        return geo.cell_for(incident.lat, incident.lon)
    for zip_code in incident.reports.exclude(zip_code="").values_list("zip_code", flat=True)[:5]:  # type: ignore[attr-defined]
        centre = geo.zip_centroid(zip_code)
        if centre is not None:
            return geo.cell_for(*centre)
    return ""


def where_label(incident: Incident) -> str:
    """Neighbourhood-size words for where an incident is: ZIP codes and a compass side (the
    same words members choose their home area from)."""
    cell = incident_cell(incident)
    if not cell:
        return ""
    return cell_words(cell)
