"""Response rules: what a confirmed incident sets off. Only a confirmed one, ever.

Legal observers and attorneys of the committee who are on call now get an urgent alert;
members who opted in for the incident's neighbourhood (or one next to it) get a community
alert with a coarse location and a know-your-rights link, and so do the alert subscribers near
it (people without an account, defensa/subscribers). The gate is here, in one place:
`respond_to_confirmed` refuses any incident that is not confirmed (security property 18).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import h3
from django.db import transaction
from django.utils import timezone

from defensa.accounts.models import SkillKind, User
from defensa.audit.log import record
from defensa.committees.models import Membership
from defensa.dispatch.matching import on_duty_with
from defensa.dispatch.models import AreaAlert
from defensa.incidents.areas import incident_cell
from defensa.incidents.models import Incident, State
from defensa.notify.actions import RECIPIENT_FIELDS, queue_messages
from defensa.notify.models import Delivery, Priority
from defensa.subscribers import alerts as subscriber_alerts

LEGAL_MESSAGE = "incident_confirmed_legal"
COMMUNITY_MESSAGE = "incident_alert"
SUBSCRIBER_MESSAGE = "subscriber_alert"
ON_CALL_SKILLS = (SkillKind.LEGAL_OBSERVER, SkillKind.ATTORNEY)
# What an alert reads of each person: the name, and what the delivery engine reads.
ALERT_FIELDS = ("display_name", *RECIPIENT_FIELDS)


class NotVerified(RuntimeError):
    """Something tried to alert people about an incident that is not confirmed."""


def legal_on_call(incident: Incident, at: dt.datetime) -> list[User]:
    """Active full members of the committee with a current legal-observer or attorney skill,
    on duty or on shift now."""
    return on_duty_with(incident, at, ON_CALL_SKILLS)


def subscribers(incident: Incident) -> list[User]:
    """Members of the incident's committee who opted in for its neighbourhood or the next."""
    cell = incident_cell(incident)
    if not cell or incident.committee_id is None:
        return []
    near = list(h3.grid_disk(cell, 1))
    members = Membership.objects.filter(committee_id=incident.committee_id).values("user_id")
    alerts = (
        AreaAlert.objects.filter(cell__in=near, user__is_active=True, user_id__in=members)
        .select_related("user")
        # What queueing a message reads of a person: thousands of them at once.
        .only("user_id", *(f"user__{name}" for name in ALERT_FIELDS))
    )
    found: dict[int, User] = {}
    for alert in alerts.order_by("user_id"):
        found.setdefault(alert.user_id, alert.user)
    return list(found.values())


@dataclass(frozen=True)
class Audience:
    """Who a confirmation alerts: legal on call (urgent), members who opted in, and how many
    alert subscribers (people without an account, by ZIP code) are near."""

    legal: list[User]
    community: list[User]
    subscribers: int = 0


def audience(incident: Incident, at: dt.datetime) -> Audience:
    """The people confirming `incident` at `at` would alert: the one computation both the
    alerts themselves and the console's "alerts N members" use, so the two cannot differ."""
    legal = legal_on_call(incident, at)
    legal_ids = {u.pk for u in legal}
    community = [u for u in subscribers(incident) if u.pk not in legal_ids]
    return Audience(legal, community, subscriber_alerts.count_near(incident_cell(incident)))


ALERTED_STEP = "alerted"


def respond_to_confirmed(incident: Incident, *, actor: Any = None, now: Any = None) -> int:
    """Queue the confirmed incident's alerts in the caller's transaction; how many people.

    The legal team on call (urgent), every member who asked for the area and every alert
    subscriber near it are queued in one bulk write each (the area alert
    URGENT_MANY: behind only the few messages of the people acting on the incident, such as
    offers to verify), in each person's language and on their channels (a
    neighbourhood alerted in seconds: bench `area_alert`). Queueing again adds nothing
    (idempotency keys name the incident and the person).

    What it did goes on the incident's timeline as one entry (step "alerted") whose detail
    holds counts and the legal team's delivery ids only, never names: how many of the legal
    team on call, members and subscribers were alerted, whether the public page shows it,
    and why a part did not happen. The console's feedback is rendered from that entry
    (`dispatch.feedback`), so the words cannot say what the alerts did not do.

    Raises NotVerified, sending nothing, for an incident in any other state.
    """
    from defensa.evidence.models import PublicPage
    from defensa.incidents.models import TimelineAction
    from defensa.incidents.timeline import add_entry

    now = now or timezone.now()
    with transaction.atomic():
        current = Incident.objects.select_related("committee").get(pk=incident.pk)
        if current.state != State.CONFIRMED:
            raise NotVerified(f"incident {current.pk} is {current.state}, not confirmed")
        who = audience(current, now)
        legal, community = who.legal, who.community
        # The legal team on call in one batch too (a city committee has hundreds on call:
        # person by person it was four queries each). Keys as queue_message's would be.
        legal_prefix = f"{LEGAL_MESSAGE}:{current.pk}"
        queue_messages(
            legal,
            LEGAL_MESSAGE,
            {"incident": current.pk},
            priority=Priority.URGENT,
            idempotency_prefix=legal_prefix,
        )
        legal_ids = {u.pk for u in legal}
        deliveries: list[int] = []
        reached: set[int] = set()
        for pk, recipient in (
            Delivery.objects.filter(idempotency_key__startswith=f"{legal_prefix}:")
            .order_by("pk")
            .values_list("pk", "recipient_id")
        ):
            if recipient in legal_ids:
                deliveries.append(pk)
                reached.add(recipient)
        reached_legal = len(reached)
        # People with no channel to reach them (none chosen, or opted out).
        unreachable = len(legal) - reached_legal
        prefix = f"{COMMUNITY_MESSAGE}:{current.pk}"
        queue_messages(
            community,
            COMMUNITY_MESSAGE,
            {"incident": current.pk},
            priority=Priority.URGENT_MANY,
            idempotency_prefix=prefix,
        )
        community_ids = {u.pk for u in community}
        reached_members = len(
            {
                pk
                for pk in Delivery.objects.filter(idempotency_key__startswith=f"{prefix}:")
                .values_list("recipient_id", flat=True)
                .distinct()
                if pk in community_ids
            }
        )
        unreachable += len(community) - reached_members
        near, _queued = subscriber_alerts.queue_alert(
            incident_cell(current),
            SUBSCRIBER_MESSAGE,
            {"incident": current.pk},
            priority=Priority.URGENT_MANY,
            idempotency_prefix=f"{SUBSCRIBER_MESSAGE}:{current.pk}",
            # A subscriber who is also a member alerted by text gets one message, not two.
            reached={u.phone for u in [*legal, *community] if u.phone and u.notify_sms},
        )
        public_page = PublicPage.objects.filter(
            committee_id=current.committee_id, show_verified=True
        ).exists()
        detail = {
            "step": ALERTED_STEP,
            "legal": reached_legal,
            "members": reached_members,
            "subscribers": near,
            "unreachable": unreachable,
            "public_page": public_page,
            # Why members could not be alerted at all: the incident has no place yet.
            "no_area": not incident_cell(current),
            "deliveries": deliveries,
        }
        add_entry(
            current,
            TimelineAction.NOTE,
            actor=actor,
            detail=detail,
            audit_action="dispatch.respond_to_confirmed",
            legal=reached_legal,
            community=reached_members,
            subscribers=near,
            unreachable=unreachable,
            public_page=public_page,
        )
        return len(legal) + len(community) + near


@transaction.atomic
def set_area_alerts(user: User, cells: list[str], *, allowed: list[str]) -> list[str]:
    """Replace the person's alert areas with `cells` (only cells from `allowed`)."""
    wanted = [cell for cell in dict.fromkeys(cells) if cell in set(allowed)]
    AreaAlert.objects.filter(user=user).exclude(cell__in=wanted).delete()
    for cell in wanted:
        AreaAlert.objects.get_or_create(user=user, cell=cell)
    record("dispatch.set_area_alerts", actor=user, obj=user, areas=len(wanted))
    return wanted
