"""What keeps a committee from being archived, as the apps above committees know it.

Committees sits below incidents (and every other app that gives a committee open work), so
those apps register a check here at start-up, as reports' number owners are registered:
`register_archive_check(check)`, where `check(committee)` answers a sentence for people
saying what is still open (translated in the person's language), or "" when nothing is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from defensa.committees.models import Committee

ArchiveCheck = Callable[["Committee"], str]

_CHECKS: list[ArchiveCheck] = []


def register_archive_check(check: ArchiveCheck) -> None:
    if check not in _CHECKS:
        _CHECKS.append(check)


def archive_blockers(committee: Committee) -> list[str]:
    """Why the committee cannot be archived now: one sentence per open kind of work."""
    return [reason for check in _CHECKS if (reason := check(committee))]
