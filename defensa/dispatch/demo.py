"""The demo's response rules in place (called by defensa/demo): confirming a raid visibly
alerts people.

For each local committee: about half of its full members asked for area alerts in the
neighbourhood of the committee's demo incidents (security property: opt-in, never a
street), and one member with a current legal-observer or attorney training is on duty (on
call). defensa/demo also switches every local committee's public page of verified
incidents on (`defensa.record.actions.set_public_page`, audited like any switch). Then
confirming the East Los Angeles checkpoint or the Huntington Park sighting from the console
alerts legal on call and members, and the "Messages sent" page shows it.
"""

from __future__ import annotations

import datetime as dt

from defensa.accounts.models import Skill, SkillKind, User
from defensa.committees.models import Committee, Membership, MemberStatus
from defensa.dispatch.models import AreaAlert
from defensa.dispatch.response import ON_CALL_SKILLS
from defensa.incidents.areas import incident_cell
from defensa.incidents.models import Incident


def seed(now: dt.datetime, locals_by_slug: dict[str, Committee]) -> dict[str, int]:
    """Area-alert subscribers and a legal observer on call in every local committee."""
    alerts: list[AreaAlert] = []
    on_call = 0
    today = now.date()
    for committee in locals_by_slug.values():
        cells = sorted(
            {
                cell
                for cell in map(incident_cell, Incident.objects.filter(committee=committee))
                if cell
            }
        )
        full = list(
            Membership.objects.filter(
                committee=committee, status=MemberStatus.FULL, user__is_active=True
            )
            .select_related("user")
            .order_by("user_id")
        )
        # Every other full member, by id: the same people on every machine.
        for membership in full[::2]:
            alerts += [AreaAlert(user=membership.user, cell=cell, created_at=now) for cell in cells]
        on_call += _put_legal_on_call(full, now, today)
    AreaAlert.objects.bulk_create(alerts, ignore_conflicts=True)
    return {"area alerts": len(alerts), "legal on call": on_call}


def _put_legal_on_call(full: list[Membership], now: dt.datetime, today: dt.date) -> int:
    """Put on duty the first full member with a current legal training (trained one if none)."""
    if not full:
        return 0
    users = [m.user for m in full]
    trained = (
        Skill.objects.filter(user__in=users, kind__in=ON_CALL_SKILLS)
        .exclude(expires_on__lt=today)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .first()
    )
    if trained is None:
        trained = users[0].pk
        Skill.objects.update_or_create(
            user_id=trained,
            kind=SkillKind.LEGAL_OBSERVER,
            defaults={"trained_on": today, "expires_on": today + dt.timedelta(days=365)},
        )
    User.objects.filter(pk=trained).update(on_duty=True, on_duty_since=now)
    return 1
