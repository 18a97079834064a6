"""What a button will do, said next to it before it is pressed ("alerts 140 members...").

The counts come from the code that acts: `response.audience` (the very list
`respond_to_confirmed` alerts) and the committee's dispatch policy (how many verifiers a
request asks), so the words cannot promise what the action does not do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from defensa.committees.models import Committee
from defensa.dispatch.actions import policy_for
from defensa.dispatch.response import audience
from defensa.incidents.areas import where_label
from defensa.incidents.models import Incident


@dataclass(frozen=True)
class Consequence:
    text: str
    warn: bool = False  # said louder: e.g. nobody of the legal team is on call


def of_confirming(incident: Incident, at: dt.datetime | None = None) -> Consequence:
    who = audience(incident, at or timezone.now())
    members = ngettext(
        "%(count)d member who asked for alerts here",
        "%(count)d members who asked for alerts here",
        len(who.community),
    ) % {"count": len(who.community)}
    legal = ngettext(
        "%(count)d legal observer or attorney on call",
        "%(count)d legal observers or attorneys on call",
        len(who.legal),
    ) % {"count": len(who.legal)}
    where = where_label(incident)
    if where:
        text = _("Confirming alerts %(members)s and %(legal)s (%(where)s).") % {
            "members": members,
            "legal": legal,
            "where": where,
        }
    else:
        text = _("Confirming alerts %(members)s and %(legal)s.") % {
            "members": members,
            "legal": legal,
        }
    if who.subscribers:
        text += " " + ngettext(
            "It also texts %(count)d alert subscriber near the place.",
            "It also texts %(count)d alert subscribers near the place.",
            who.subscribers,
        ) % {"count": who.subscribers}
    return Consequence(text, warn=not who.legal)


def of_requesting_verification(committee: Committee | None) -> Consequence:
    size = policy_for(committee).offer_size
    return Consequence(
        ngettext(
            "Sends a one-tap link to the %(count)d nearest verifier on duty not asked yet.",
            "Sends a one-tap link to the %(count)d nearest verifiers on duty not asked yet.",
            size,
        )
        % {"count": size}
    )


def of_finding(outcome: str, incident: Incident) -> Consequence:
    """Next to a verifier's Confirmed / Not found / False alarm."""
    if outcome == "confirmed":
        return of_confirming(incident)
    if outcome == "false_alarm":
        return Consequence(_("Nobody is alerted. The dispatcher sees your finding."))
    return Consequence(_("Nobody is alerted. The dispatcher decides what happens next."))
