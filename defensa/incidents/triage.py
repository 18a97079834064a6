"""Triage: which open incidents a dispatcher should look at first, and why, in words.

Every signal is a count of reports kept on the incident as reports arrive (and rebuilt from
its reports on a merge or split), so the console orders thousands of open incidents with one
indexed query. Nothing is stored about a sender: a report's channel, photos and videos,
whether a hotline operator or a member typed it, how precise its place is, whether the same
words came in other reports, and whether it came in a burst from one source (counted in this
process's memory only, defensa/reports/flood.py).

The rank is never shown as a number: the dispatcher sees the signals as words ("3
independent reports, 1 photo"), and docs/rapid-response.md says how they order the queue.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from defensa.incidents.models import (
    Category,
    FloodMode,
    Incident,
    State,
    TimelineAction,
    TimelineEntry,
)

# Channels as bits of Incident.channels (the values of reports.Channel).
CHANNEL_BITS = {"web": 1, "sms": 2, "operator": 4, "voice": 8}
WEB = CHANNEL_BITS["web"]
# A place this precise (metres) or better counts as a precise place (a phone fix, a pin).
PRECISE_M = 250
# The categories that mean someone is being taken now.
URGENT = frozenset(
    {Category.WORKPLACE_RAID, Category.HOME_ARREST, Category.COURT_ARREST, Category.CHECKPOINT}
)
# Words shorter than this (normalised) are too common to mean a copied text ("raid").
MIN_TEXT = 12

COUNTED = [
    "independent_count",
    "channels",
    "media_count",
    "vouched_count",
    "precise_count",
    "recycled_count",
    "burst_count",
    "held",
    "triage_rank",
]


@dataclass(frozen=True)
class Arrival:
    """What triage counts of one report."""

    channel: str
    media: int = 0
    vouched: bool = False
    precise: bool = False
    recycled: bool = False
    burst: bool = False

    @property
    def suspect(self) -> bool:
        """Part of a pattern typical of a campaign: not counted as independent."""
        return self.recycled or self.burst


def text_digest(text: str) -> str:
    """A digest of the words with case, accents, punctuation and spacing taken out; empty
    for a text too short to tell a copy from a coincidence."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = " ".join(re.findall(r"\w+", "".join(c for c in folded if not unicodedata.combining(c))))
    if len(plain) < MIN_TEXT:
        return ""
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()[:16]


def channel_count(incident: Incident) -> int:
    return bin(incident.channels).count("1")


def single_web(incident: Incident) -> bool:
    """One uncorroborated web report: nobody else, no photo or video, no operator or member,
    no verifier's finding."""
    return (
        incident.state == State.NEW
        and incident.independent_count <= 1
        and incident.channels == WEB
        and not incident.media_count
        and not incident.vouched_count
    )


def single_web_q() -> Q:
    """single_web() as a query condition."""
    return Q(
        state=State.NEW,
        independent_count__lte=1,
        channels=WEB,
        media_count=0,
        vouched_count=0,
    )


def rank(incident: Incident) -> int:
    """Higher first. The same signals the dispatcher reads in words."""
    points = 0
    if incident.state == State.CONFIRMED:
        points += 50
    elif incident.state == State.VERIFYING:
        points += 10
    points += 12 * min(max(incident.independent_count - 1, 0), 3)
    points += 4 * min(max(channel_count(incident) - 1, 0), 2)
    points += 10 if incident.media_count else 0
    points += 10 if incident.vouched_count else 0
    points += 3 * min(incident.precise_count, 2)
    points += 3 if incident.category in URGENT else 0
    if incident.recycled_count and 2 * incident.recycled_count >= incident.report_count:
        points -= 8
    if incident.burst_count and 2 * incident.burst_count >= incident.report_count:
        points -= 8
    if incident.outside_area:
        points -= 8
    return points


def in_flood_mode(committee_id: int | None) -> bool:
    return committee_id is not None and FloodMode.objects.filter(committee=committee_id).exists()


def count_report(incident: Incident, arrival: Arrival, *, flood: bool, opened: bool) -> list[str]:
    """Fold one report's signals into the incident in memory; return the fields changed.

    A new incident is held when its committee is in flood mode and it is a single
    uncorroborated web report; a held incident is released by the first report that
    corroborates it.
    """
    if not arrival.suspect:
        incident.independent_count += 1
    incident.channels |= CHANNEL_BITS.get(arrival.channel, 0)
    incident.media_count += arrival.media
    incident.vouched_count += int(arrival.vouched)
    incident.precise_count += int(arrival.precise)
    incident.recycled_count += int(arrival.recycled)
    incident.burst_count += int(arrival.burst)
    if opened:
        incident.held = flood and single_web(incident)
    elif incident.held and not single_web(incident):
        incident.held = False
    incident.triage_rank = rank(incident)
    return list(COUNTED)


def recount(incident: Incident) -> None:
    """Rebuild the counts from the incident's reports and save them (after a merge or a
    split, or when a report is found to carry a recycled text)."""
    reports = incident.reports.all()  # type: ignore[attr-defined]
    totals = reports.aggregate(
        independent=Count("pk", filter=Q(recycled=False, burst=False)),
        precise=Count("pk", filter=Q(precision_m__lte=PRECISE_M)),
        recycled=Count("pk", filter=Q(recycled=True)),
        burst=Count("pk", filter=Q(burst=True)),
    )
    incident.independent_count = totals["independent"]
    incident.vouched_count = _vouched(list(reports.values_list("pk", flat=True)))
    incident.precise_count = totals["precise"]
    incident.recycled_count = totals["recycled"]
    incident.burst_count = totals["burst"]
    incident.channels = 0
    for channel in set(reports.values_list("channel", flat=True)):
        incident.channels |= CHANNEL_BITS.get(channel, 0)
    incident.media_count = (
        reports.aggregate(n=Count("photos"))["n"] + reports.aggregate(n=Count("media"))["n"]
    )
    if incident.held and not single_web(incident):
        incident.held = False
    incident.triage_rank = rank(incident)
    incident.save(update_fields=COUNTED)


def _vouched(report_ids: list[int]) -> int:
    """How many of these reports a hotline operator or a signed-in member sent: the timeline
    entry each report wrote on arrival names who typed it (on whichever incident it joined
    first, so the count survives a merge or a split)."""
    if not report_ids:
        return 0
    return (
        TimelineEntry.objects.filter(
            action__in=[TimelineAction.OPENED, TimelineAction.REPORT_ADDED],
            actor__isnull=False,
            detail__report__in=report_ids,
        )
        .values("detail__report")
        .distinct()
        .count()
    )


def signals(incident: Incident) -> list[tuple[str, bool]]:
    """The signals in words, each with whether it speaks against the incident being real."""
    said: list[tuple[str, bool]] = []
    if incident.state == State.CONFIRMED:
        said.append((_("confirmed by a verifier or dispatcher"), False))
    n = incident.independent_count
    if n > 1:
        said.append(
            (ngettext("%(n)d independent report", "%(n)d independent reports", n) % {"n": n}, False)
        )
    ways = channel_count(incident)
    if ways > 1:
        said.append((ngettext("%(n)d channel", "%(n)d channels", ways) % {"n": ways}, False))
    if incident.media_count:
        m = incident.media_count
        said.append(
            (ngettext("%(n)d photo or video", "%(n)d photos or videos", m) % {"n": m}, False)
        )
    if incident.vouched_count:
        said.append((_("reported by a hotline operator or a member"), False))
    if incident.precise_count:
        p = incident.precise_count
        said.append((ngettext("%(n)d precise place", "%(n)d precise places", p) % {"n": p}, False))
    if single_web(incident):
        said.append((_("single unverified web report"), True))
    if incident.recycled_count:
        r = incident.recycled_count
        said.append(
            (
                ngettext(
                    "%(n)d report with words sent in other reports too",
                    "%(n)d reports with words sent in other reports too",
                    r,
                )
                % {"n": r},
                True,
            )
        )
    if incident.burst_count:
        b = incident.burst_count
        said.append(
            (
                ngettext(
                    "%(n)d report from a source that sent many at once",
                    "%(n)d reports from a source that sent many at once",
                    b,
                )
                % {"n": b},
                True,
            )
        )
    if incident.outside_area:
        said.append((_("outside every committee's area"), True))
    return said


def words(incident: Incident) -> str:
    return ", ".join(text for text, _against in signals(incident))
