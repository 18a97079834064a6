"""Incident states, actions and the tamper-evident timeline."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from defensa.audit.log import verify_chain
from defensa.audit.models import AuditEntry
from defensa.core.transitions import IllegalTransition
from defensa.incidents.actions import add_note, change_state
from defensa.incidents.models import (
    TRANSITIONS,
    Incident,
    State,
    TimelineEntry,
)
from defensa.incidents.timeline import verify_timeline
from defensa.reports.actions import receive_report

T0 = dt.datetime(2026, 6, 10, 15, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


def incident() -> Incident:
    report = receive_report(
        {"category": "home_arrest", "lat": 34.05, "lon": -118.21, "observed_at": T0},
        channel="operator",
        idempotency_key=uuid.uuid4().hex,
    ).report
    return report.incident


@pytest.mark.parametrize("start", State.values)
@pytest.mark.parametrize("target", State.values)
def test_only_listed_transitions_are_allowed(start: str, target: str) -> None:
    item = Incident(state=start)
    if target in TRANSITIONS[start]:
        assert item.move_to(target) == start
        assert item.state == target
    else:
        with pytest.raises(IllegalTransition):
            item.move_to(target)
        assert item.state == start


def test_nothing_leaves_closed_and_verdicts_only_close() -> None:
    assert TRANSITIONS[State.CLOSED] == frozenset()
    assert TRANSITIONS[State.CONFIRMED] == {State.CLOSED}
    assert TRANSITIONS[State.FALSE_ALARM] == {State.CLOSED}
    with pytest.raises(IllegalTransition):
        Incident(state=State.NEW).move_to("exploded")


def test_change_state_writes_timeline_and_one_audit_record(net) -> None:  # type: ignore[no-untyped-def]
    item = incident()
    before = AuditEntry.objects.count()
    change_state(item, State.VERIFYING, actor=net.dani)
    change_state(item, State.CONFIRMED, actor=net.vero, note="Six agents at the door")
    assert AuditEntry.objects.count() == before + 2
    item.refresh_from_db()
    assert item.state == State.CONFIRMED
    steps = list(item.timeline.values_list("action", "actor__display_name", "detail"))
    assert steps[1:] == [
        ("state_changed", "Dani", {"from": "new", "to": "verifying"}),
        ("state_changed", "Vero", {"from": "verifying", "to": "confirmed"}),
    ]
    last = AuditEntry.objects.order_by("-seq").first()
    assert last is not None and last.actor_id == net.vero.pk
    assert "agents" not in str(last.data)
    assert verify_timeline(item) == [] and verify_chain()[1] is None


def test_an_illegal_change_is_refused_and_writes_nothing(net) -> None:  # type: ignore[no-untyped-def]
    item = incident()
    change_state(item, State.FALSE_ALARM, actor=net.dani)
    before = (AuditEntry.objects.count(), TimelineEntry.objects.count())
    with pytest.raises(IllegalTransition):
        change_state(item, State.CONFIRMED, actor=net.dani)
    item.refresh_from_db()
    assert item.state == State.FALSE_ALARM
    assert (AuditEntry.objects.count(), TimelineEntry.objects.count()) == before


@pytest.mark.parametrize("tamper", ["note", "action", "at", "delete", "actor"])
def test_a_tampered_timeline_is_found(net, tamper: str) -> None:  # type: ignore[no-untyped-def]
    item = incident()
    entry = add_note(item, "Reporter says two vans", actor=net.dani)
    assert verify_timeline(item) == []
    rows = TimelineEntry.objects.filter(pk=entry.pk)
    if tamper == "note":
        rows.update(note="Reporter says nothing happened")
    elif tamper == "action":
        rows.update(action="opened")
    elif tamper == "at":
        rows.update(at=entry.at - dt.timedelta(hours=1))
    elif tamper == "actor":
        rows.update(actor=net.vero)
    else:
        rows.delete()
    problems = verify_timeline(item)
    assert len(problems) == 1 and str(entry.pk) in problems[0]


def test_an_inserted_timeline_entry_is_found() -> None:
    item = incident()
    TimelineEntry.objects.create(incident=item, action="note", note="planted")
    assert any("no audit record" in p for p in verify_timeline(item))
