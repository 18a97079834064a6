"""Coarse home areas as people read them: "Around ZIP 90033 · Los Angeles"."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext as _

from defensa.accounts.models import User
from defensa.committees import access
from defensa.committees.models import Committee, Kind, PlaceName
from defensa.core import geo

# The network's neighbourhood names, read whole (a few thousand at most) and kept for a short
# while in each process: a console or an alert batch names many places, each a lookup here,
# not a query. A process sees an administrator's change within NAMES_FRESH_SECONDS (at once
# in the process that saved it).
NAMES_FRESH_SECONDS = 30.0
_names: dict[str, str] = {}
_names_read_at = float("-inf")


def forget_place_names(*_args: object, **_kwargs: object) -> None:
    """Read the names again at the next lookup (connected to PlaceName's saves and deletes)."""
    global _names_read_at
    _names_read_at = float("-inf")


post_save.connect(forget_place_names, sender=PlaceName, dispatch_uid="place_names_saved")
post_delete.connect(forget_place_names, sender=PlaceName, dispatch_uid="place_names_deleted")


def place_names(zip_codes: list[str]) -> dict[str, str]:
    """The neighbourhood names the network gave these ZIP codes (those it named)."""
    global _names, _names_read_at
    if time.monotonic() - _names_read_at > NAMES_FRESH_SECONDS:
        _names = dict(PlaceName.objects.values_list("zip_code", "name"))
        _names_read_at = time.monotonic()
    return {z: _names[z] for z in zip_codes if z in _names}


def labelled_cells(cells: list[str]) -> dict[str, str]:
    """Each neighbourhood cell in the words people read: the neighbourhood's name where the
    network gave one, then the ZIP codes and side ("Boyle Heights · Just east of ZIP 90033")."""
    labels = geo.cell_labels(cells)
    zips = {
        cell: [z.strip() for z in label[0].split(",") if z.strip()]
        for cell, label in labels.items()
    }
    names = place_names([z for found in zips.values() for z in found])
    out: dict[str, str] = {}
    for cell, (zip_code, direction) in labels.items():
        name = next((names[z] for z in zips[cell] if z in names), "")
        out[cell] = geo.cell_text(zip_code, direction, name)
    return out


def cell_words(cell: str) -> str:
    """One cell in words (see labelled_cells)."""
    return labelled_cells([cell])[cell]


def area_choices(user: User) -> list[tuple[str, str]]:
    """Neighbourhood cells around the ZIP codes of the person's committees, labelled."""
    zip_codes: list[str] = []
    committee_cells: list[str] = []
    for membership in access.memberships_for(user):
        for zip_code in membership.committee.zip_codes or []:
            if isinstance(zip_code, str) and zip_code not in zip_codes:
                zip_codes.append(zip_code)
        committee_cells.extend(c for c in membership.committee.h3_cells or [] if isinstance(c, str))
    cells = geo.area_cells_near(zip_codes)
    cells += [c for c in geo.area_cells_from(committee_cells) if c not in cells]
    if user.home_cell and geo.is_area_cell(user.home_cell) and user.home_cell not in cells:
        cells.append(user.home_cell)  # keep a choice made while in another committee
    labels = labelled_cells(cells)
    choices: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for cell in cells:
        text = labels[cell]
        seen[text] = seen.get(text, 0) + 1
        if seen[text] > 1:
            text = f"{text} ({seen[text]})"
        choices.append((cell, text))
    return sorted(choices, key=lambda c: c[1])


def area_label(user: User) -> str:
    if user.home_zip:
        label = _("ZIP %(zip)s") % {"zip": user.home_zip}
        name = place_names([user.home_zip]).get(user.home_zip)
        return f"{name} · {label}" if name else label
    if user.home_cell and geo.is_area_cell(user.home_cell):
        return cell_words(user.home_cell)
    return ""


@dataclass(frozen=True)
class Overlap:
    place: str  # a ZIP code or an h3 cell
    kind: str  # the tier both committees are at
    committees: list[Committee]


@dataclass(frozen=True)
class AreaOverview:
    overlaps: list[Overlap]
    # ZIP codes of the network's region (the areas of the network and city committees)
    # that no active local committee holds: reports there reach only a city or the network.
    unclaimed: list[str]
    region_known: bool  # False while no network or city committee has ZIP codes


def area_overview(committees: list[Committee]) -> AreaOverview:
    """Which places two active committees of one tier both hold, and which ZIP codes of the
    region no local committee holds, among the given committees (archived ones are ignored)."""
    active = [c for c in committees if not c.is_archived]
    holders: dict[tuple[str, str], list[Committee]] = {}
    for committee in active:
        cells = geo.area_cells_from([c for c in committee.h3_cells or [] if isinstance(c, str)])
        for place in dict.fromkeys([*(committee.zip_codes or []), *cells]):
            holders.setdefault((committee.kind, place), []).append(committee)
    overlaps = [
        Overlap(place, kind, found)
        for (kind, place), found in sorted(holders.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        if len(found) > 1
    ]
    region = {z for c in active if c.kind in (Kind.NETWORK, Kind.CITY) for z in c.zip_codes or []}
    local = {z for c in active if c.kind == Kind.LOCAL for z in c.zip_codes or []}
    return AreaOverview(overlaps, sorted(region - local), bool(region))
