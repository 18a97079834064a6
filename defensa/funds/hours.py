"""Picket hours toward a fund's eligibility: the seam for the events that record them.

An app that records picket hours registers a source, `register_hours_source(fn)` where
`fn(user, committee)` returns the hours that person has on record; the reviewers' page shows
the sum next to each application. With no source registered there is nothing to show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HoursSource = Callable[[Any, Any], float]
_SOURCES: list[HoursSource] = []


def register_hours_source(source: HoursSource) -> None:
    if source not in _SOURCES:
        _SOURCES.append(source)


def picket_hours(user: Any, committee: Any) -> float | None:
    """The person's picket hours from every source, or None when no source is registered."""
    if not _SOURCES or user is None:
        return None
    return float(sum(source(user, committee) for source in _SOURCES))
