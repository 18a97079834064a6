"""The committee's drills over time: minutes to 50% and 90% confirmed, drill after drill, as a
small SVG drawn on the server (no script). A drill that never reached 90% is a mark at the
top of the chart, so a bad drill shows instead of vanishing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT, PAD = 300, 100, 6


@dataclass(frozen=True)
class Chart:
    # Text, not numbers: a template would write 4,5 for 4.5 in Spanish.
    t50: str  # the polylines' "x,y x,y ..."
    t90: str
    missed: list[str]  # "x" of the drills that never reached 90%
    top_minutes: int
    drills: int
    width: int = WIDTH
    height: int = HEIGHT


def draw(figures: Sequence[dict[str, Any]]) -> Chart:
    """`figures`: each drill's kept figures, oldest first."""
    minutes = [(f.get("t50_s") or 0) / 60 for f in figures if f.get("t50_s") is not None] + [
        (f.get("t90_s") or 0) / 60 for f in figures if f.get("t90_s") is not None
    ]
    top = max([15, *minutes])
    top = int(top) + (0 if top == int(top) else 1)
    span = max(len(figures) - 1, 1)

    def x(i: int) -> float:
        return round(PAD + (WIDTH - 2 * PAD) * i / span, 1)

    def y(seconds: float) -> float:
        return round(HEIGHT - PAD - (HEIGHT - 2 * PAD) * (seconds / 60) / top, 1)

    def line(key: str) -> str:
        return " ".join(
            f"{x(i)},{y(f[key])}" for i, f in enumerate(figures) if f.get(key) is not None
        )

    missed = [f"{x(i)}" for i, f in enumerate(figures) if f.get("t90_s") is None]
    return Chart(
        t50=line("t50_s"), t90=line("t90_s"), missed=missed, top_minutes=top, drills=len(figures)
    )
