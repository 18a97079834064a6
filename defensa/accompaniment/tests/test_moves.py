"""Appointments and sign-ups change status only as their tables allow (one place each)."""

from __future__ import annotations

import pytest

from defensa.accompaniment.models import (
    APPOINTMENT_MOVES,
    COMPANION_MOVES,
    Appointment,
    Companion,
    CompanionStatus,
    Status,
)
from defensa.core.transitions import IllegalTransition


def test_every_status_has_a_row_and_the_ends_are_final() -> None:
    assert set(APPOINTMENT_MOVES) == set(Status.values)
    assert set(COMPANION_MOVES) == set(CompanionStatus.values)
    assert APPOINTMENT_MOVES[Status.DETAINED] == frozenset()
    assert COMPANION_MOVES[CompanionStatus.DECLINED] == frozenset()
    assert COMPANION_MOVES[CompanionStatus.WITHDRAWN] == frozenset()


@pytest.mark.parametrize("before", list(Status.values))
@pytest.mark.parametrize("after", list(Status.values))
def test_an_appointment_moves_only_as_the_table_says(before: str, after: str) -> None:
    appointment = Appointment(status=before)
    allowed = {
        (Status.SCHEDULED, s)
        for s in (Status.OUT_SAFE, Status.DETAINED, Status.RESCHEDULED, Status.CANCELLED)
    } | {(s, Status.DETAINED) for s in (Status.OUT_SAFE, Status.RESCHEDULED, Status.CANCELLED)}
    if (before, after) in allowed:
        appointment.move_to(after)
        assert appointment.status == after
    else:
        with pytest.raises(IllegalTransition):
            appointment.move_to(after)
        assert appointment.status == before


@pytest.mark.parametrize("before", list(CompanionStatus.values))
@pytest.mark.parametrize("after", list(CompanionStatus.values))
def test_a_sign_up_moves_only_as_the_table_says(before: str, after: str) -> None:
    companion = Companion(status=before)
    live = (CompanionStatus.PENDING, CompanionStatus.CONFIRMED)
    allowed = {(CompanionStatus.PENDING, CompanionStatus.CONFIRMED)} | {
        (s, end) for s in live for end in (CompanionStatus.DECLINED, CompanionStatus.WITHDRAWN)
    }
    if (before, after) in allowed:
        companion.move_to(after)
        assert companion.status == after
    else:
        with pytest.raises(IllegalTransition):
            companion.move_to(after)
        assert companion.status == before
