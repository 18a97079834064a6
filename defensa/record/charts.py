"""Small SVG charts drawn on the server (no script), for the figures page: lines over time,
and a day-by-day split of a whole into parts. Each chart stands beside a table holding the
same numbers, which is what screen readers and people without pictures read.

Coordinates are text, not numbers: a template would write 4,5 for 4.5 in Spanish.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 320, 120, 4
# Colour and pattern both tell the lines apart (never colour alone).
STYLES = (
    ("#036", ""),
    ("#b00", "6 3"),
    ("#070", "2 2"),
    ("#850", "8 3 2 3"),
)
PART_COLOURS = ("#070", "#b00", "#888")


@dataclass(frozen=True)
class Line:
    name: str
    points: str
    colour: str
    dash: str


@dataclass(frozen=True)
class LineChart:
    lines: list[Line]
    top: int  # the value at the top of the chart
    width: int = WIDTH
    height: int = HEIGHT


def _x(i: int, count: int) -> float:
    return round(PAD + (WIDTH - 2 * PAD) * i / max(count - 1, 1), 1)


def lines(series: Sequence[tuple[str, Sequence[int | None]]]) -> LineChart:
    """One polyline per named series over the same steps; a missing value breaks nothing
    (the line joins the values there are)."""
    top = max([1, *(v for _name, values in series for v in values if v is not None)])
    drawn = []
    for k, (name, values) in enumerate(series):
        colour, dash = STYLES[k % len(STYLES)]
        points = " ".join(
            f"{_x(i, len(values))},{round(HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / top, 1)}"
            for i, v in enumerate(values)
            if v is not None
        )
        drawn.append(Line(name=name, points=points, colour=colour, dash=dash))
    return LineChart(lines=drawn, top=top)


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    height: str
    colour: str


@dataclass(frozen=True)
class PartsChart:
    bars: list[Bar]
    bar_width: str
    legend: list[tuple[str, str]]  # (name, colour)
    width: int = WIDTH
    height: int = HEIGHT


def parts(names: Sequence[str], rows: Sequence[Sequence[int]]) -> PartsChart:
    """For each step, a bar of full height split into its parts (shares of the step's
    total); a step whose total is 0 has no bar."""
    count = max(len(rows), 1)
    step = (WIDTH - 2 * PAD) / count
    width = max(step - 1, 1)
    bars = []
    for i, row in enumerate(rows):
        total = sum(row)
        if not total:
            continue
        y = float(HEIGHT - PAD)
        for k, value in enumerate(row):
            h = (HEIGHT - 2 * PAD) * value / total
            y -= h
            if value:
                bars.append(
                    Bar(
                        x=f"{PAD + step * i:.1f}",
                        y=f"{y:.1f}",
                        height=f"{h:.1f}",
                        colour=PART_COLOURS[k % len(PART_COLOURS)],
                    )
                )
    legend = [(name, PART_COLOURS[k % len(PART_COLOURS)]) for k, name in enumerate(names)]
    return PartsChart(bars=bars, bar_width=f"{width:.1f}", legend=legend)
