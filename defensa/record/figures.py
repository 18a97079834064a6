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
import functools
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
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


class _QuarterHour(Func):
    """SQLite: a stored UTC datetime's quarter hour as text, "YYYY-MM-DD HH:q" (q 0-3), cut
    from the column's text in C: grouping by it and turning the few thousand quarter hours
    into local days here is far cheaper than converting every row to a local date in Python,
    which is how Django's SQLite backend computes TruncDate. (Every time zone's offset is a
    whole number of quarter hours.)"""

    template = (
        "substr(%(expressions)s, 1, 14) || (CAST(substr(%(expressions)s, 15, 2) AS INTEGER) / 15)"
    )
    output_field = CharField()


@functools.lru_cache(maxsize=65536)
def _local_day(bucket: str, tz: zoneinfo.ZoneInfo) -> dt.date:
    """The local day of a "YYYY-MM-DD HH:q" UTC quarter hour (a year holds ~35,000)."""
    b = bucket
    utc = dt.datetime(int(b[:4]), int(b[5:7]), int(b[8:10]), int(b[11:13]), tzinfo=dt.UTC)
    return (utc + dt.timedelta(minutes=15 * int(b[14:] or 0))).astimezone(tz).date()


def _per_day(
    rows: QuerySet[Any], column: str, tz: zoneinfo.ZoneInfo, by: tuple[str, ...], **counts: Any
) -> dict[tuple[Any, ...], dict[str, int]]:
    """`counts` (aggregates) per local day in `tz` of `column` (and the `by` fields): keys are
    (day, *by values). One statement; on PostgreSQL the database converts to local days."""
    found: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(counts, 0))
    if connection.vendor == "sqlite":
        grouped = rows.annotate(bucket=_QuarterHour(F(column))).values("bucket", *by)
        for row in grouped.annotate(**counts).order_by():
            day = _local_day(row["bucket"], tz)
            total = found[(day, *(row[f] for f in by))]
            for name in counts:
                total[name] += row[name]
        return dict(found)
    grouped = rows.annotate(day=TruncDate(column, tzinfo=tz)).values("day", *by)
    for row in grouped.annotate(**counts).order_by():
        found[(row["day"], *(row[f] for f in by))] = {name: row[name] for name in counts}
    return dict(found)


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
    """Every table for a valid filter: five statements, none per incident or per day."""
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
    for (day,), row in _per_day(reports, "created_at", tz, (), n=Count("id")).items():
        if day in days:
            days[day].reports = row["n"]

    verdict = TimelineEntry.objects.filter(
        incident=OuterRef("pk"), action=TimelineAction.STATE_CHANGED
    )
    incidents = _incidents(ids).filter(created_at__gte=start, created_at__lt=end)
    judged = incidents.annotate(
        confirmed=Exists(verdict.filter(detail__to=State.CONFIRMED)),
        false_alarm=Exists(verdict.filter(detail__to=State.FALSE_ALARM)),
    )
    per_day = _per_day(
        judged,
        "created_at",
        tz,
        (),
        n=Count("id"),
        verified=Count("id", filter=Q(confirmed=True)),
        # Confirmed counts first: an incident confirmed once is a verified one.
        false_alarms=Count("id", filter=Q(false_alarm=True, confirmed=False)),
    )
    for (key,), row in per_day.items():
        if key in days:
            day = days[key]
            day.incidents, day.verified = row["n"], row["verified"]
            day.false_alarms = row["false_alarms"]

    weeks, overall = _times(incidents, verdict, tz, since, until)
    return Figures(
        since=since,
        until=until,
        days=list(days.values()),
        weeks=weeks,
        overall=overall,
        alerts=_alerts(ids, start, end, tz, list(days)),
        channels=[(c.value, str(c.label)) for c in Channel],
    )


class _WholeMinutes(Func):
    """Whole minutes from the second datetime to the first, rounded up, computed by the
    database (the unit every figure of time is shown in); NULL when either is."""

    arity = 2
    output_field = IntegerField()

    def _parts(self, compiler: Any) -> tuple[str, str, tuple[Any, ...]]:
        (later, later_params), (earlier, earlier_params) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )
        return later, earlier, (*later_params, *earlier_params)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        later, earlier, params = self._parts(compiler)
        # SQLite may lack ceil(); each side is written once (a subquery is run once per row).
        x = f"((julianday({later}) - julianday({earlier})) * 1440)"
        return f"CAST({x} + 0.999999 AS INTEGER)", params

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        later, earlier, params = self._parts(compiler)
        sql = f"CEIL(EXTRACT(EPOCH FROM ({later} - {earlier})) / 60)::integer"
        return sql, params


def _times(
    incidents: QuerySet[Incident],
    verdict: QuerySet[TimelineEntry],
    tz: zoneinfo.ZoneInfo,
    since: dt.date,
    until: dt.date,
) -> tuple[list[Times], Times]:
    """Minutes from each incident's opening to its first acceptance and to its verdict, per
    week of its opening (weeks start on Monday, in `tz`). Grouped by the database into
    (week, minutes) counts, two statements: what comes back is a histogram, not incidents,
    and the percentiles are read off it exactly."""
    monday = since - dt.timedelta(days=since.weekday())
    weeks = [monday + dt.timedelta(weeks=k) for k in range((until - monday).days // 7 + 1)]
    starts = [dt.datetime.combine(w, dt.time.min, tzinfo=tz) for w in weeks]
    week_of = Case(
        *(When(created_at__lt=start, then=Value(k - 1)) for k, start in enumerate(starts[1:], 1)),
        default=Value(len(weeks) - 1),
        output_field=IntegerField(),
    )
    first_accept = (
        Offer.objects.filter(incident=OuterRef("pk"), status__in=GOING, responded_at__isnull=False)
        .order_by("responded_at")
        .values("responded_at")[:1]
    )
    first_verdict = verdict.filter(detail__to__in=list(VERDICTS)).order_by("at").values("at")[:1]
    histograms: list[dict[int, dict[int, int]]] = []
    for first in (first_accept, first_verdict):
        counts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        rows = (
            # Incidents without one come back as (week, None) and are skipped below: a filter
            # on the subquery would run it a second time per incident.
            incidents.annotate(
                week=week_of,
                minutes=_WholeMinutes(
                    Subquery(first, output_field=DateTimeField()), F("created_at")
                ),
            )
            .values("week", "minutes")
            .annotate(n=Count("id"))
            .values_list("week", "minutes", "n")
            .order_by()
        )
        for week, minutes, n in rows:
            if minutes is not None:
                counts[week][max(minutes, 0)] += n  # a clock set wrong is not negative time
        histograms.append(counts)
    accepts, verdicts = histograms
    found = sorted(set(accepts) | set(verdicts))
    overall = [_merged(h.values()) for h in histograms]
    return (
        [_summary(weeks[k], accepts.get(k, {}), verdicts.get(k, {})) for k in found],
        _summary(None, *overall),
    )


def _merged(parts: Iterable[dict[int, int]]) -> dict[int, int]:
    total: dict[int, int] = defaultdict(int)
    for part in parts:
        for minutes, n in part.items():
            total[minutes] += n
    return total


def percentile(histogram: dict[int, int], p: float) -> int | None:
    """Nearest rank percentile of whole minutes counted in a histogram {minutes: how many}:
    the smallest value with at least p% of all at or below it; None for no values."""
    size = sum(histogram.values())
    if not size:
        return None
    rank = max(math.ceil(p / 100 * size), 1)
    seen = 0
    for minutes in sorted(histogram):
        seen += histogram[minutes]
        if seen >= rank:
            return minutes
    return max(histogram)  # not reached: the counts add up to size


def _summary(week: dt.date | None, accepts: dict[int, int], verdicts: dict[int, int]) -> Times:
    return Times(
        week=week,
        accepted=sum(accepts.values()),
        accept_p50=percentile(accepts, 50),
        accept_p90=percentile(accepts, 90),
        decided=sum(verdicts.values()),
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
    for (day, channel), row in _per_day(sent, "sent_at", tz, ("channel",), n=Count("id")).items():
        if day in table and channel in table[day].per_channel:
            table[day].per_channel[channel] = row["n"]
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
