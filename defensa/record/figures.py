"""Figures over time for a committee and the committees under it, or for the whole network:
reports and incidents per day, how many incidents were verified, false alarms or never
confirmed, how long from the first report to the first verifier accepting and to the
verdict (median and 90th percentile, per week), and alerts sent per channel per day.

Counts are grouped and counted in the database (one statement per table, whatever the number
of incidents). The times need percentiles, which SQLite cannot compute: the database hands
over two durations per incident that has them (in whole seconds, computed in SQL), nothing
else, and the percentiles are taken here (nearest rank).

Only counts and durations leave this module: never a reference, a place or a person.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.committees.access import committee_and_below
from defensa.committees.models import Committee
from defensa.dispatch.models import GOING, Offer
from defensa.dispatch.response import COMMUNITY_MESSAGE, LEGAL_MESSAGE
from defensa.incidents.models import Incident, State, TimelineAction, TimelineEntry
from defensa.notify.models import Channel, Delivery, Status
from defensa.reports.models import Report

DEFAULT_DAYS = 30
MAX_DAYS = 366
VERDICTS = (State.CONFIRMED, State.FALSE_ALARM)
ALERT_MESSAGES = (COMMUNITY_MESSAGE, LEGAL_MESSAGE)
TABLES = ("daily", "times", "alerts")


@dataclass(frozen=True)
class Scope:
    """Whose figures: a committee and those under it (`committee`), or the whole network
    (`committee` None), in the time zone days are counted in."""

    committee: Committee | None
    tz: zoneinfo.ZoneInfo
    # The committees to choose from in the filter (the subtree, or every committee).
    choices: Sequence[Committee] = field(default_factory=tuple)


class FiguresFilter(forms.Form):
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput({"type": "date"})
    )
    committee = forms.TypedChoiceField(
        label=_("Committee"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, data: Any, *, scope: Scope) -> None:
        super().__init__(data)
        self.scope = scope
        every = _("This committee and those under it") if scope.committee else _("Every committee")
        self.fields["committee"].choices = [("", every)] + [(c.pk, c.name) for c in scope.choices]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.now().astimezone(self.scope.tz).date()
        until = data.get("until") or today
        since = data.get("since") or until - dt.timedelta(days=DEFAULT_DAYS - 1)
        if since > until:
            raise forms.ValidationError(_("The start date is after the end date."), code="order")
        if (until - since).days + 1 > MAX_DAYS:
            raise forms.ValidationError(
                _("Choose at most %(days)s days.") % {"days": MAX_DAYS}, code="long"
            )
        data["since"], data["until"] = since, until
        return data

    def committee_ids(self) -> list[int] | None:
        """The committees counted (None: all of them, for the network's figures)."""
        chosen = self.cleaned_data.get("committee")
        if chosen:
            return committee_and_below(next(c for c in self.scope.choices if c.pk == chosen))
        if self.scope.committee is None:
            return None
        return committee_and_below(self.scope.committee)

    def audit_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "since": data["since"].isoformat(),
            "until": data["until"].isoformat(),
            "filter_committee": data.get("committee"),
        }


@dataclass
class Day:
    day: dt.date
    reports: int = 0
    incidents: int = 0
    verified: int = 0
    false_alarms: int = 0

    @property
    def unconfirmed(self) -> int:
        return self.incidents - self.verified - self.false_alarms

    def share(self, n: int) -> int | None:
        """A whole percentage of the day's incidents (None on a day without any)."""
        return round(100 * n / self.incidents) if self.incidents else None

    @property
    def verified_share(self) -> int | None:
        return self.share(self.verified)

    @property
    def false_alarm_share(self) -> int | None:
        return self.share(self.false_alarms)

    @property
    def unconfirmed_share(self) -> int | None:
        return self.share(self.unconfirmed)


@dataclass
class Times:
    """One week (or, with `week` None, the whole period): minutes at the median and 90th
    percentile, and of how many incidents."""

    week: dt.date | None
    accepted: int = 0
    accept_p50: int | None = None
    accept_p90: int | None = None
    decided: int = 0
    verdict_p50: int | None = None
    verdict_p90: int | None = None


@dataclass
class AlertDay:
    day: dt.date
    per_channel: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.per_channel.values())


@dataclass
class Figures:
    since: dt.date
    until: dt.date
    days: list[Day]
    weeks: list[Times]
    overall: Times
    alerts: list[AlertDay]
    channels: list[tuple[str, str]]  # (code, label) of every channel, in a fixed order

    @property
    def totals(self) -> Day:
        total = Day(self.until)
        for day in self.days:
            total.reports += day.reports
            total.incidents += day.incidents
            total.verified += day.verified
            total.false_alarms += day.false_alarms
        return total


def _window(since: dt.date, until: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, ...]:
    start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def _incidents(ids: list[int] | None) -> QuerySet[Incident]:
    """The incidents counted: each event once (an incident merged into another is part of
    that one, not an incident of its own)."""
    found = Incident.objects.filter(merged_into__isnull=True)
    return found if ids is None else found.filter(committee_id__in=ids)


def compute(form: FiguresFilter) -> Figures:
    """Every table for a valid filter: four statements, none per incident or per day."""
    tz = form.scope.tz
    since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    ids = form.committee_ids()
    start, end = _window(since, until, tz)
    days = {
        since + dt.timedelta(days=i): Day(since + dt.timedelta(days=i))
        for i in range((until - since).days + 1)
    }

    reports = Report.objects.filter(created_at__gte=start, created_at__lt=end)
    if ids is not None:
        reports = reports.filter(incident__committee_id__in=ids)
    for row in (
        reports.annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    ):
        days[row["day"]].reports = row["n"]

    verdict = TimelineEntry.objects.filter(
        incident=OuterRef("pk"), action=TimelineAction.STATE_CHANGED
    )
    incidents = _incidents(ids).filter(created_at__gte=start, created_at__lt=end)
    for row in (
        incidents.annotate(
            day=TruncDate("created_at", tzinfo=tz),
            confirmed=Exists(verdict.filter(detail__to=State.CONFIRMED)),
            false_alarm=Exists(verdict.filter(detail__to=State.FALSE_ALARM)),
        )
        .values("day")
        .annotate(
            n=Count("id"),
            verified=Count("id", filter=Q(confirmed=True)),
            # Confirmed counts first: an incident confirmed once is a verified one.
            false_alarms=Count("id", filter=Q(false_alarm=True, confirmed=False)),
        )
        .order_by()
    ):
        day = days[row["day"]]
        day.incidents, day.verified, day.false_alarms = (
            row["n"],
            row["verified"],
            row["false_alarms"],
        )

    weeks, overall = _times(incidents, verdict, tz)
    return Figures(
        since=since,
        until=until,
        days=list(days.values()),
        weeks=weeks,
        overall=overall,
        alerts=_alerts(ids, start, end, tz, list(days)),
        channels=[(c.value, str(c.label)) for c in Channel],
    )


def _times(
    incidents: QuerySet[Incident], verdict: QuerySet[TimelineEntry], tz: zoneinfo.ZoneInfo
) -> tuple[list[Times], Times]:
    first_accept = (
        Offer.objects.filter(incident=OuterRef("pk"), status__in=GOING, responded_at__isnull=False)
        .order_by("responded_at")
        .values("responded_at")[:1]
    )
    first_verdict = verdict.filter(detail__to__in=list(VERDICTS)).order_by("at").values("at")[:1]
    rows = (
        incidents.annotate(
            accepted_at=Subquery(first_accept, output_field=DateTimeField()),
            verdict_at=Subquery(first_verdict, output_field=DateTimeField()),
        )
        .filter(Q(accepted_at__isnull=False) | Q(verdict_at__isnull=False))
        .values_list("created_at", "accepted_at", "verdict_at")
    )
    by_week: dict[dt.date, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    every: tuple[list[float], list[float]] = ([], [])
    for opened, accepted, decided in rows.iterator(chunk_size=2000):
        local = opened.astimezone(tz).date()
        week = local - dt.timedelta(days=local.weekday())
        for i, at in enumerate((accepted, decided)):
            if at is not None:
                minutes = max((at - opened).total_seconds(), 0) / 60
                by_week[week][i].append(minutes)
                every[i].append(minutes)
    weeks = [_summary(week, *by_week[week]) for week in sorted(by_week)]
    return weeks, _summary(None, *every)


def percentile(values: Sequence[float], p: float) -> int | None:
    """Nearest rank percentile (the smallest value with at least p% at or below it), in
    whole minutes rounded up; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(p / 100 * len(ordered)), 1)
    return math.ceil(ordered[rank - 1])


def _summary(week: dt.date | None, accepts: list[float], verdicts: list[float]) -> Times:
    return Times(
        week=week,
        accepted=len(accepts),
        accept_p50=percentile(accepts, 50),
        accept_p90=percentile(accepts, 90),
        decided=len(verdicts),
        verdict_p50=percentile(verdicts, 50),
        verdict_p90=percentile(verdicts, 90),
    )


def _alerts(
    ids: list[int] | None,
    start: dt.datetime,
    end: dt.datetime,
    tz: zoneinfo.ZoneInfo,
    days: Iterable[dt.date],
) -> list[AlertDay]:
    """Alerts of confirmed incidents (to members of the area and to the legal team) sent,
    per day and channel: counted from the deliveries, whose context names the incident."""
    sent = Delivery.objects.filter(
        template__in=ALERT_MESSAGES, status=Status.SENT, sent_at__gte=start, sent_at__lt=end
    )
    if ids is not None:
        sent = sent.annotate(
            about=Cast(KeyTextTransform("incident", "context"), IntegerField())
        ).filter(about__in=Incident.objects.filter(committee_id__in=ids).values("pk"))
    table = {day: AlertDay(day, {c.value: 0 for c in Channel}) for day in days}
    for row in (
        sent.annotate(day=TruncDate("sent_at", tzinfo=tz))
        .values("day", "channel")
        .annotate(n=Count("id"))
        .order_by()
    ):
        if row["day"] in table and row["channel"] in table[row["day"]].per_channel:
            table[row["day"]].per_channel[row["channel"]] = row["n"]
    return list(table.values())


# CSV: one table at a time, machine values (ISO dates, whole numbers, empty for none).


def csv_table(figures: Figures, table: str) -> list[list[Any]]:
    if table == "daily":
        header: list[Any] = [
            "day",
            "reports",
            "incidents",
            "verified",
            "false_alarm",
            "unconfirmed",
            "verified_pct",
            "false_alarm_pct",
            "unconfirmed_pct",
        ]
        return [header] + [
            [
                d.day.isoformat(),
                d.reports,
                d.incidents,
                d.verified,
                d.false_alarms,
                d.unconfirmed,
                _blank(d.verified_share),
                _blank(d.false_alarm_share),
                _blank(d.unconfirmed_share),
            ]
            for d in figures.days
        ]
    if table == "times":
        header = [
            "week_from",
            "accepted",
            "to_accept_p50_min",
            "to_accept_p90_min",
            "decided",
            "to_verdict_p50_min",
            "to_verdict_p90_min",
        ]
        return [header] + [
            [
                t.week.isoformat() if t.week else "all",
                t.accepted,
                _blank(t.accept_p50),
                _blank(t.accept_p90),
                t.decided,
                _blank(t.verdict_p50),
                _blank(t.verdict_p90),
            ]
            for t in [*figures.weeks, figures.overall]
        ]
    codes = [code for code, _label in figures.channels]
    return [["day", *codes, "total"]] + [
        [a.day.isoformat(), *(a.per_channel[c] for c in codes), a.total] for a in figures.alerts
    ]


def _blank(value: int | None) -> Any:
    return "" if value is None else value
