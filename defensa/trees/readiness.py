"""The phone trees' line on organising's readiness page: the last drill's time to 90%."""

from __future__ import annotations

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from defensa.committees.access import committee_and_below
from defensa.committees.models import Committee
from defensa.organising.figures import ReadinessLine
from defensa.trees.models import Cascade


def last_drill_line(committee: Committee) -> ReadinessLine:
    """How fast the committee (and those under it) reached 90% in its last ended drill."""
    drill = (
        Cascade.objects.filter(
            tree__committee_id__in=committee_and_below(committee),
            is_drill=True,
            ended_at__isnull=False,
        )
        .order_by("-ended_at", "-pk")
        .first()
    )
    label = _("Last phone-tree drill")
    if drill is None:
        return ReadinessLine(key="last-drill", label=label, text=_("No drill yet"))
    when = formats.date_format(drill.started_at, "DATE_FORMAT")
    t90 = (drill.figures or {}).get("t90_s")
    if t90 is None:
        text = _("%(when)s: 90%% of the tree was never reached") % {"when": when}
    else:
        minutes = max(1, round(t90 / 60))
        text = ngettext(
            "%(when)s: 90%% reached in %(n)d minute",
            "%(when)s: 90%% reached in %(n)d minutes",
            minutes,
        ) % {"when": when, "n": minutes}
    return ReadinessLine(key="last-drill", label=label, text=text)
