"""Legal holds: the legal team keeps an incident or a case, and its evidence, from every purge.

Actions like those of cases/actions.py (atomic, one audit record each), kept in a module of
their own. One legal-team member places a hold; releasing it takes two: one asks, a
different one approves. While a hold is in force the held row's `legal_hold` flag is set,
which defensa/core/retention.py reads (`LEGAL_HOLD` on each model) to delete nothing of it:
the incident, its reports, timeline, verifiers' findings, photos and videos; or the case and
everything in it. A reporter's contact is still shredded after its 30 days: a hold keeps
evidence, never a reporter's identity.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from defensa.audit.log import record
from defensa.cases.models import Case, LegalHold
from defensa.committees.models import Committee
from defensa.incidents.models import Incident

REASON_LIMIT = 200


class HoldRefused(ValueError):
    """The step is not possible (already held, nothing asked, the same person twice)."""


def _flag(hold: LegalHold, value: bool) -> None:
    if hold.incident_id:
        Incident.objects.filter(pk=hold.incident_id).update(legal_hold=value)
    else:
        Case.objects.filter(pk=hold.case_id).update(legal_hold=value)


@transaction.atomic
def place_hold(
    committee: Committee,
    *,
    incident: Incident | None = None,
    case: Case | None = None,
    reason: str,
    actor: Any,
) -> LegalHold:
    """Hold an incident or a case (the caller checked the actor is on `committee`'s legal
    team and may see the target)."""
    if (incident is None) == (case is None):
        raise HoldRefused("hold one incident or one case")
    reason = " ".join(reason.split())[:REASON_LIMIT]
    if not reason:
        raise HoldRefused("say why")
    active = LegalHold.objects.select_for_update().filter(released_at__isnull=True)
    if active.filter(incident=incident, case=case).exists():
        raise HoldRefused("already held")
    hold = LegalHold.objects.create(
        committee=committee, incident=incident, case=case, reason=reason, placed_by=actor
    )
    _flag(hold, True)
    record(
        "cases.hold_placed",
        actor=actor,
        obj=hold,
        committee=committee.pk,
        incident=hold.incident_id,
        case=hold.case_id,
    )
    return hold


@transaction.atomic
def request_release(hold: LegalHold, *, actor: Any) -> LegalHold:
    """The first of two people: ask for the hold to end. Nothing is released yet."""
    locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if locked.released_at is not None or locked.release_requested_at is not None:
        raise HoldRefused("already released or asked")
    locked.release_requested_by = actor
    locked.release_requested_at = timezone.now()
    locked.save(update_fields=["release_requested_by", "release_requested_at"])
    record("cases.hold_release_requested", actor=actor, obj=locked)
    return locked


@transaction.atomic
def approve_release(hold: LegalHold, *, actor: Any) -> LegalHold:
    """The second person: end the hold. The one who asked cannot approve their own request;
    from now on the target's ordinary lifetimes apply again (the next purge pass)."""
    locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if locked.released_at is not None or locked.release_requested_at is None:
        raise HoldRefused("nothing to approve")
    if locked.release_requested_by_id == getattr(actor, "pk", None):
        raise HoldRefused("a second person must approve")
    locked.released_by = actor
    locked.released_at = timezone.now()
    locked.save(update_fields=["released_by", "released_at"])
    _flag(locked, False)
    record(
        "cases.hold_released",
        actor=actor,
        obj=locked,
        requested_by=locked.release_requested_by_id,
    )
    return locked
