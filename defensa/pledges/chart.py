"""The trend chart: counted pledges over time as a small SVG, drawn on the server (no script)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 300, 100, 4


@dataclass(frozen=True)
class Chart:
    # Text, not numbers: a template would write 4,5 for 4.5 in Spanish.
    points: str  # the polyline's "x,y x,y ..."
    threshold_y: str
    top: int  # the count at the top of the chart
    width: int = WIDTH
    height: int = HEIGHT


def draw(trend: list[tuple[str, int]], needed: int) -> Chart:
    top = max([needed, *(n for _t, n in trend), 1])
    span = max(len(trend) - 1, 1)

    def y(n: int) -> float:
        return round(HEIGHT - PAD - (HEIGHT - 2 * PAD) * n / top, 1)

    points = " ".join(
        f"{round(PAD + (WIDTH - 2 * PAD) * i / span, 1)},{y(n)}" for i, (_t, n) in enumerate(trend)
    )
    return Chart(points=points, threshold_y=f"{y(needed)}", top=top)
