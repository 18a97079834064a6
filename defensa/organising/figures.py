"""What the organising pages show, computed from the rows (reads only, no writes).

- `current_values`: each worker's latest assessment (0 when never assessed), one query.
- `unit_chart`: the workplace's departments x shifts, each cell the workers there with their
  current value; coverage (assessed / estimated headcount); leaders per ten workers.
- `trend`: for each of the last weeks, how many workers stood at each value at the week's end,
  drawn as stacked lines in a server-rendered SVG.
- `predicted_vs_actual`: for a structure test, by current value, how many were expected to
  take part (those assessed 1 or 2) and how many really did.
- `readiness`: a committee's figures at a glance.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from defensa.committees.access import committee_and_below
from defensa.committees.models import Committee
from defensa.committees.roster import coverage
from defensa.organising.models import (
    NOT_ASSESSED,
    SCALE,
    SUPPORTIVE,
    Assessment,
    Participation,
    Policy,
    StructureTest,
    Worker,
    Workplace,
)

# Colours of the scale, from committed to opposed; grey is "not assessed yet". Each value
# also has its number in the cell, so colour is never the only sign.
COLOURS = {0: "#d9d9d9", 1: "#1a7f37", 2: "#7cc47f", 3: "#f2d15c", 4: "#f08c4a", 5: "#c0392b"}
TREND_WEEKS = 12


def with_current(workers: QuerySet[Worker]) -> QuerySet[Worker]:
    """Annotate each worker with `current` (latest assessment value, None if never)."""
    latest = Assessment.objects.filter(worker=OuterRef("pk")).order_by("-assessed_at", "-id")
    return workers.annotate(current=Subquery(latest.values("value")[:1]))


def current_values(workers: QuerySet[Worker]) -> dict[int, int]:
    return {
        pk: value or NOT_ASSESSED
        for pk, value in with_current(workers).values_list("pk", "current")
    }


SQUARE, GAP, PER_ROW = 10, 2, 20
STEP = SQUARE + GAP
# The outline of the square at each place of a cell, made once: a cell's squares are grouped
# into one SVG path per colour, so a 5,000-worker unit is a few paths, not 5,000 elements.
_PLACES: list[str] = []


def _place(i: int) -> str:
    while len(_PLACES) <= i:
        n = len(_PLACES)
        _PLACES.append(f"M{(n % PER_ROW) * STEP},{(n // PER_ROW) * STEP}h10v10h-10z")
    return _PLACES[i]


@dataclass
class Cell:
    department: str
    shift: str
    workers: list[tuple[int, int, bool]] = field(default_factory=list)  # (pk, value, leader)

    @property
    def counts(self) -> list[tuple[int, int]]:
        """(value, how many) in the cell, committed first, unassessed last."""
        found = Counter(v for _pk, v, _l in self.workers)
        return [(v, found[v]) for v in (*SCALE, NOT_ASSESSED) if found[v]]

    def svg(self) -> str:
        """A square per worker, coloured by their current value; a leader's is outlined."""
        rows = max(-(-len(self.workers) // PER_ROW), 1)
        width, height = PER_ROW * STEP, rows * STEP
        by_colour: dict[int, list[str]] = {}
        leaders: list[str] = []
        for i, (_pk, value, leader) in enumerate(self.workers):
            by_colour.setdefault(value, []).append(_place(i))
            if leader:
                leaders.append(_place(i))
        # Only integers and the fixed COLOURS go into this markup, never a name or any other
        # text from a person: it is built with plain strings and marked safe once.
        paths = [
            f'<path fill="{COLOURS.get(value, COLOURS[NOT_ASSESSED])}" d="{"".join(d)}"/>'
            for value, d in sorted(by_colour.items())
        ]
        if leaders:
            paths.append(
                f'<path class="leaders" fill="none" stroke="#000" stroke-width="2" '
                f'd="{"".join(leaders)}"/>'
            )
        return format_html(
            '<svg class="unit-cell" viewBox="0 0 {} {}" width="{}" height="{}" '
            'xmlns="http://www.w3.org/2000/svg" aria-hidden="true">{}</svg>',
            width,
            height,
            width,
            height,
            mark_safe("".join(paths)),  # noqa: S308
        )


@dataclass
class UnitChart:
    departments: list[str]
    shifts: list[str]
    rows: list[list[Cell]]
    by_value: dict[int, int]
    workers: int
    assessed: int
    leaders: int
    headcount: int

    @property
    def coverage_percent(self) -> int:
        return round(100 * self.assessed / self.headcount) if self.headcount else 0

    @property
    def leaders_per_ten(self) -> str:
        return f"{10 * self.leaders / self.workers:.1f}" if self.workers else "0.0"


@dataclass(frozen=True)
class Trend:
    weeks: list[str]  # ISO dates of each week's end
    lines: dict[int, str]  # value -> polyline points ("x,y x,y ...")
    top: int
    last: dict[int, int]
    width: int = 300
    height: int = 120


def week_ends(now: dt.datetime, weeks: int = TREND_WEEKS) -> list[dt.datetime]:
    return [now - dt.timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def _worker_rows(workplace: Workplace, ends: list[dt.datetime]) -> list[tuple[Any, ...]]:
    """One row per worker: pk, department, shift, leader, the week they were added (an index
    into `ends`), and their latest value at each week's end (None before any), each a seek
    in the (worker, newest first) index. The cost grows with workers x weeks, not with the
    length of the history (bench/chart_render.py)."""
    columns = {
        f"w{k}": Subquery(
            Assessment.objects.filter(worker=OuterRef("pk"), assessed_at__lte=end)
            .order_by("-assessed_at", "-id")
            .values("value")[:1]
        )
        for k, end in enumerate(ends)
    }
    joined = Case(
        *(When(**{"added_at__lte": end}, then=Value(k)) for k, end in enumerate(ends)),
        default=Value(len(ends)),
        output_field=IntegerField(),
    )
    rows = (
        Worker.objects.filter(workplace=workplace)
        .annotate(joined=joined, **columns)
        .order_by("pk")
        .values_list("pk", "department", "shift", "is_leader", "joined", *columns)
    )
    # Integers and two short texts, read straight from the cursor: for 5,000 rows of 17
    # columns, Django's per-value converters cost more than the rows themselves.
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(*row[:3], bool(row[3]), *row[4:]) for row in cursor.fetchall()]


def _chart(workplace: Workplace, rows: list[tuple[Any, ...]]) -> UnitChart:
    """Departments down, shifts across, a square per worker (its value: the last column)."""
    departments = list(workplace.departments)
    shifts = list(workplace.shifts)
    for _pk, dep, sh, *_rest in rows:
        if dep not in departments:
            departments.append(dep)
        if sh not in shifts:
            shifts.append(sh)
    departments = departments or [""]
    shifts = shifts or [""]
    grid = {(d, s): Cell(d, s) for d in departments for s in shifts}
    by_value: Counter[int] = Counter()
    leaders = 0
    for pk, dep, sh, leader, _joined, *values in rows:
        value = values[-1] or NOT_ASSESSED
        grid[(dep, sh)].workers.append((pk, value, leader))
        by_value[value] += 1
        leaders += leader
    return UnitChart(
        departments=departments,
        shifts=shifts,
        rows=[[grid[(d, s)] for s in shifts] for d in departments],
        by_value={v: by_value.get(v, 0) for v in (*SCALE, NOT_ASSESSED)},
        workers=len(rows),
        assessed=sum(n for v, n in by_value.items() if v != NOT_ASSESSED),
        leaders=leaders,
        headcount=workplace.headcount,
    )


def _trend(ends: list[dt.datetime], rows: list[tuple[Any, ...]]) -> Trend:
    """How many workers stood at each value at the end of each week."""
    series: dict[int, list[int]] = {v: [0] * len(ends) for v in (*SCALE, NOT_ASSESSED)}
    for _pk, _dep, _sh, _leader, joined, *values in rows:
        for k, value in enumerate(values):
            if value:
                series[value][k] += 1
            elif k >= joined:
                series[NOT_ASSESSED][k] += 1
    top = max([1, *(n for values in series.values() for n in values)])
    span = max(len(ends) - 1, 1)
    width, height, pad = 300, 120, 4

    def point(i: int, n: int) -> str:
        x = round(pad + (width - 2 * pad) * i / span, 1)
        y = round(height - pad - (height - 2 * pad) * n / top, 1)
        return f"{x},{y}"

    lines = {v: " ".join(point(i, n) for i, n in enumerate(values)) for v, values in series.items()}
    return Trend(
        weeks=[e.date().isoformat() for e in ends],
        lines=lines,
        top=top,
        last={v: values[-1] for v, values in series.items()},
    )


def workplace_figures(
    workplace: Workplace, *, now: dt.datetime | None = None
) -> tuple[UnitChart, Trend]:
    """The workplace page's chart of the unit and trend, from one query: the chart's values
    are the trend's last week's end, which is now."""
    ends = week_ends(now or timezone.now())
    rows = _worker_rows(workplace, ends)
    return _chart(workplace, rows), _trend(ends, rows)


def unit_chart(workplace: Workplace) -> UnitChart:
    return workplace_figures(workplace)[0]


def trend(workplace: Workplace, *, now: dt.datetime | None = None) -> Trend:
    return workplace_figures(workplace, now=now)[1]


# Structure tests ----------------------------------------------------------------------


@dataclass
class LevelRow:
    value: int
    workers: int = 0
    took_part: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.took_part / self.workers) if self.workers else 0


@dataclass
class Comparison:
    unit: int
    goal: int  # workers needed for the goal
    predicted: int
    actual: int
    rows: list[LevelRow]
    # Assessed as supportive, yet did not take part: their assessments may be inflated.
    inflated: list[int]
    # Assessed as not supportive, yet took part: a leader may have been missed.
    surprising: list[int]

    @property
    def actual_percent(self) -> int:
        return round(100 * self.actual / self.unit) if self.unit else 0

    @property
    def predicted_percent(self) -> int:
        return round(100 * self.predicted / self.unit) if self.unit else 0


def unit_of(test: StructureTest) -> QuerySet[Worker]:
    workers = Worker.objects.filter(workplace__in=test.workplaces.all())
    if test.departments:
        workers = workers.filter(department__in=test.departments)
    return workers


def predicted_vs_actual(test: StructureTest) -> Comparison:
    values = current_values(unit_of(test))
    took = set(
        Participation.objects.filter(test=test, worker_id__in=list(values)).values_list(
            "worker_id", flat=True
        )
    )
    rows = {v: LevelRow(v) for v in (*SCALE, NOT_ASSESSED)}
    for pk, value in values.items():
        rows[value].workers += 1
        rows[value].took_part += pk in took
    unit = len(values)
    return Comparison(
        unit=unit,
        goal=-(-test.goal_percent * unit // 100),
        predicted=sum(1 for v in values.values() if v in SUPPORTIVE),
        actual=len(took),
        rows=list(rows.values()),
        inflated=sorted(pk for pk, v in values.items() if v in SUPPORTIVE and pk not in took),
        surprising=sorted(
            pk for pk, v in values.items() if v not in SUPPORTIVE and v != 0 and pk in took
        ),
    )


@dataclass(frozen=True)
class Record:
    took_part: int
    of: int


def participation_record(worker: Worker, *, last: int = 4) -> Record:
    """ "Took part in 3 of the last 4 actions": the latest tests the worker was in the unit of."""
    tests = [
        t
        for t in StructureTest.objects.filter(workplaces=worker.workplace_id)
        .filter(created_at__lte=timezone.now())
        .order_by("-created_at")
        if not t.departments or worker.department in t.departments
    ][:last]
    took = Participation.objects.filter(worker=worker, test__in=tests).count()
    return Record(took_part=took, of=len(tests))


# Readiness ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadinessLine:
    """One more line of the readiness page, from an app above organising (a drill's time)."""

    key: str  # the line's id on the page
    label: str
    text: str
    url: str = ""


ReadinessSource = Callable[[Committee], "ReadinessLine | None"]
_SOURCES: list[ReadinessSource] = []


def register_readiness_line(source: ReadinessSource) -> None:
    """Apps above organising add a line to the readiness page (the phone trees' last drill):
    `source(committee)` returns a ReadinessLine, or None to add nothing. Called at start-up."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def shift_coverage_line(committee: Committee) -> ReadinessLine:
    """Rapid response this week: the hours with both a dispatcher and a verifier on shift."""
    week = coverage(committee)
    hours = sum(
        1
        for row in week.rows
        for cell in row
        if cell.count("dispatcher") and cell.count("verifier")
    )
    return ReadinessLine(
        key="shift-coverage",
        label=_("Rapid-response shifts this week"),
        text=ngettext(
            "%(n)d of 168 hours has a dispatcher and a verifier on shift",
            "%(n)d of 168 hours have a dispatcher and a verifier on shift",
            hours,
        )
        % {"n": hours},
    )


@dataclass
class Readiness:
    workplaces: int
    covered: int  # workplaces with at least one assessed worker
    headcount: int
    assessed: int
    workers: int
    leaders: int
    last_test: StructureTest | None
    last_turnout: Comparison | None
    more: list[ReadinessLine] = field(default_factory=list)

    @property
    def assessed_percent(self) -> int:
        return round(100 * self.assessed / self.headcount) if self.headcount else 0

    @property
    def leaders_per_ten(self) -> str:
        return f"{10 * self.leaders / self.workers:.1f}" if self.workers else "0.0"


def readiness(committee: Committee) -> Readiness:
    ids = committee_and_below(committee)
    workplaces = Workplace.objects.filter(committee_id__in=ids, ended_at__isnull=True)
    workers = Worker.objects.filter(workplace__in=workplaces)
    assessed_workers = workers.filter(assessments__isnull=False).distinct()
    totals = workers.aggregate(n=Count("pk"), leaders=Count("pk", filter=Q(is_leader=True)))
    last_test = (
        StructureTest.objects.filter(committee_id__in=ids).order_by("-deadline", "-pk").first()
    )
    return Readiness(
        workplaces=workplaces.count(),
        covered=workplaces.filter(workers__assessments__isnull=False).distinct().count(),
        headcount=sum(workplaces.values_list("headcount", flat=True)),
        assessed=assessed_workers.count(),
        workers=totals["n"],
        leaders=totals["leaders"],
        last_test=last_test,
        last_turnout=predicted_vs_actual(last_test) if last_test else None,
        more=[shift_coverage_line(committee)]
        + [line for source in _SOURCES if (line := source(committee)) is not None],
    )


def scale_labels(policy: Policy, language: str) -> list[tuple[int, str, str]]:
    """(value, label, colour) for the legend, committed first, "not assessed" last."""
    return [(v, policy.label(v, language), COLOURS[v]) for v in SCALE] + [
        (NOT_ASSESSED, "", COLOURS[NOT_ASSESSED])
    ]


def colour(value: Any) -> str:
    return COLOURS.get(value, COLOURS[NOT_ASSESSED])
