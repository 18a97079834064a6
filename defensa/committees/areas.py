"""Coarse home areas as people read them: "Around ZIP 90033 · Los Angeles"."""

from __future__ import annotations

from django.utils.translation import gettext as _

from defensa.accounts.models import User
from defensa.committees import access
from defensa.core import geo


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
    labels = geo.cell_labels(cells)
    choices: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for cell in cells:
        text = geo.cell_text(*labels[cell])
        seen[text] = seen.get(text, 0) + 1
        if seen[text] > 1:
            text = f"{text} ({seen[text]})"
        choices.append((cell, text))
    return sorted(choices, key=lambda c: c[1])


def area_label(user: User) -> str:
    if user.home_zip:
        return _("ZIP %(zip)s") % {"zip": user.home_zip}
    if user.home_cell and geo.is_area_cell(user.home_cell):
        zip_code, direction = geo.cell_labels([user.home_cell])[user.home_cell]
        return geo.cell_text(zip_code, direction)
    return ""
