"""Emergency-plan actions: each atomic, each exactly one audit record.

A member's plan (contacts, instructions, identifiers) is sealed under the plan's own key.
Triggering it tells the contacts in their languages and opens a case through
`cases.actions.begin_case` (the case's one way to begin); a false alarm is cancellable for
PLAN_CANCEL_MINUTES.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from defensa.accounts.models import User
from defensa.audit.log import record
from defensa.cases.actions import PERSON_FIELDS, begin_case
from defensa.cases.models import (
    OPEN_STATUSES,
    EmergencyPlan,
    EntryAction,
    PlanTrigger,
    Source,
    Status,
    TriggerVia,
)
from defensa.cases.timeline import add_entry
from defensa.committees.models import Committee, Membership, MemberStatus
from defensa.committees.teams import tell_legal_team
from defensa.core import crypto
from defensa.core.transitions import IllegalTransition
from defensa.notify.actions import Address, queue_message
from defensa.notify.models import Channel, Delivery, Priority
from defensa.notify.models import Status as DeliveryStatus

PLAN_TRIGGERED = "plan_triggered"
PLAN_CANCELLED = "plan_cancelled"
CASE_FALSE_ALARM = "case_false_alarm"


class TooManyTriggers(Exception):
    """The member set off their own plan PLAN_SELF_TRIGGERS_PER_HOUR times in the last hour."""


@transaction.atomic
def save_plan(
    owner: User,
    *,
    committee: Committee,
    contacts: list[dict[str, str]],
    instructions: str,
    identity: dict[str, str],
    actor: Any,
) -> EmergencyPlan:
    """Write (or rewrite) a member's emergency plan, sealed under the plan's own key."""
    plan, created = EmergencyPlan.objects.get_or_create(
        owner=owner, defaults={"committee": committee}
    )
    plan.committee = committee
    contacts = [c for c in contacts if c.get("address")]
    crypto.seal_json(plan, "contacts", contacts)
    crypto.seal(plan, "instructions", instructions.strip() or None)
    identity = {k: v for k, v in identity.items() if v}
    crypto.seal_json(plan, "identity", identity or None)
    plan.contact_count = len(contacts)
    plan.updated_at = timezone.now()
    plan.save()
    record(
        "cases.plan_saved",
        actor=actor,
        obj=plan,
        committee=committee.pk,
        created=created,
        contacts=len(contacts),
    )
    return plan


@transaction.atomic
def delete_plan(plan: EmergencyPlan, *, actor: Any) -> None:
    """Erase a plan for good: its key is shredded, then the row goes."""
    if plan.data_key is not None:
        crypto.shred(plan.data_key)
    record("cases.plan_deleted", actor=actor, obj=plan, committee=plan.committee_id)
    plan.delete()


def plan_contacts(plan: EmergencyPlan) -> list[dict[str, str]]:
    return crypto.unseal_json(plan, "contacts") or []


def plan_identity(plan: EmergencyPlan) -> dict[str, str]:
    return crypto.unseal_json(plan, "identity") or {}


def plan_instructions(plan: EmergencyPlan) -> str:
    return crypto.unseal(plan, "instructions") or ""


def _trigger_key(trigger: PlanTrigger, index: int) -> str:
    return f"plan-trigger:{trigger.pk}:{index}"


@transaction.atomic
def trigger_plan(plan: EmergencyPlan, *, via: str, actor: Any) -> PlanTrigger:
    """The member may have been detained: tell their contacts in their own languages, open a
    case from the plan (identifiers and contacts copied under the case's new key) and alert
    the legal team. Cancellable as a false alarm for PLAN_CANCEL_MINUTES."""
    if via not in TriggerVia.values:
        raise ValueError(f"unknown trigger route {via!r}")
    locked = EmergencyPlan.objects.select_for_update().get(pk=plan.pk)
    existing = locked.triggers.filter(  # type: ignore[attr-defined]
        cancelled_at__isnull=True, case__status__in=OPEN_STATUSES
    ).first()
    if existing is not None:
        return existing  # a second tap, or a dispatcher and the member at once: one case
    now = timezone.now()
    if via == TriggerVia.SELF:
        # Each trigger alerts the contacts and the legal team, and each cancel tells them it
        # was a false alarm: a member's own account must not be a way to flood them.
        recent = locked.triggers.filter(  # type: ignore[attr-defined]
            via=TriggerVia.SELF, created_at__gte=now - dt.timedelta(hours=1)
        ).count()
        if recent >= settings.PLAN_SELF_TRIGGERS_PER_HOUR:
            raise TooManyTriggers
    trigger = PlanTrigger.objects.create(
        plan=locked,
        via=via,
        triggered_by=actor if getattr(actor, "pk", None) else None,
        created_at=now,
        cancel_until=now + dt.timedelta(minutes=settings.PLAN_CANCEL_MINUTES),
    )
    contacts = plan_contacts(locked)
    for i, contact in enumerate(contacts):
        queue_message(
            Address(contact["channel"], contact["address"], contact.get("language", "")),
            PLAN_TRIGGERED,
            {"trigger": trigger.pk},
            priority=Priority.URGENT,
            idempotency_key=_trigger_key(trigger, i),
            audit=False,
        )
    identity = plan_identity(locked)
    case = begin_case(
        committee=locked.committee,
        source=Source.PLAN,
        actor=actor,
        person={name: identity.get(name, "") for name in PERSON_FIELDS},
        contacts=contacts,
        audit_action="cases.plan_triggered",
        trigger=trigger.pk,
        plan=locked.pk,
        via=via,
    )
    trigger.case = case
    trigger.save(update_fields=["case"])
    return trigger


@transaction.atomic
def cancel_trigger(trigger: PlanTrigger, *, actor: Any) -> PlanTrigger:
    """A false alarm, inside the window: stop what has not gone out, tell the contacts who
    were already told, close the case and tell the legal team."""
    locked = (
        PlanTrigger.objects.select_for_update(of=("self",))
        .select_related("plan", "case")
        .get(pk=trigger.pk)
    )
    if not locked.can_cancel():
        raise IllegalTransition(code="too_late")
    now = timezone.now()
    locked.cancelled_at = now
    locked.cancelled_by = actor if getattr(actor, "pk", None) else None
    locked.save(update_fields=["cancelled_at", "cancelled_by"])
    contacts = plan_contacts(locked.plan)
    stopped = 0
    for i, contact in enumerate(contacts):
        prefix = _trigger_key(locked, i) + ":"
        stopped_here = Delivery.objects.filter(
            idempotency_key__startswith=prefix, status=DeliveryStatus.QUEUED
        ).update(status=DeliveryStatus.CANCELLED, last_error=gettext_noop("false alarm"))
        stopped += stopped_here
        if stopped_here:
            continue  # never told: nothing to take back
        queue_message(
            Address(contact["channel"], contact["address"], contact.get("language", "")),
            PLAN_CANCELLED,
            {"trigger": locked.pk},
            priority=Priority.URGENT,
            idempotency_key=f"plan-cancel:{locked.pk}:{i}",
            audit=False,
        )
    case = locked.case
    if case is not None and case.can_become(Status.CLOSED):
        case.status = Status.CLOSED
        case.save(update_fields=["status"])
        tell_legal_team(
            case.committee, CASE_FALSE_ALARM, {"case": case.pk}, f"case-false-alarm:{case.pk}"
        )
        add_entry(
            case,
            EntryAction.STATUS,
            actor=actor,
            detail={"to": Status.CLOSED, "false_alarm": True},
            audit_action="cases.plan_trigger_cancelled",
            audit_obj=locked,
            trigger=locked.pk,
            stopped=stopped,
        )
    else:
        record(
            "cases.plan_trigger_cancelled",
            actor=actor,
            obj=locked,
            committee=locked.plan.committee_id,
            stopped=stopped,
        )
    trigger.cancelled_at, trigger.cancelled_by = locked.cancelled_at, locked.cancelled_by
    return locked


def committee_for_plan(user: User) -> Committee | None:
    """The committee whose legal team takes a member's case: their first full membership."""
    membership = (
        Membership.objects.filter(user=user, status=MemberStatus.FULL)
        .select_related("committee")
        .order_by("joined_at")
        .first()
    ) or Membership.objects.filter(user=user).select_related("committee").first()
    return membership.committee if membership else None


# Texts about a triggered plan (cases/sms.py): from the member's own phone, or from one of the
# contacts the plan told. They go on the case for the legal team, never to intake.
CASE_TEXT = "case_text"
PLAN_TEXT_REPLY = "plan_text_reply"
FROM_MEMBER = "member"
FROM_CONTACT = "contact"


@transaction.atomic
def keep_plan_text(
    trigger: PlanTrigger, sender: str, body: str, *, text_key: str, reply_to: str, language: str
) -> None:
    """A text about an open plan's case: on the case's timeline (sealed under its key), the
    legal team told. A contact is answered that the legal team has it; the member's own phone
    is not (it may be in other hands)."""
    case = trigger.case
    if case is None:  # the matcher looks only at triggers with an open case
        raise ValueError("the trigger has no case")
    add_entry(
        case,
        EntryAction.NOTE,
        actor=trigger.plan.owner if sender == FROM_MEMBER else None,
        note=body,
        detail={"step": "plan_text", "from": sender, "text": text_key},
        audit_action="cases.plan_text",
        audit_obj=trigger,
        sender=sender,
    )
    tell_legal_team(case.committee, CASE_TEXT, {"case": case.pk}, f"{CASE_TEXT}:{text_key}")
    if sender == FROM_CONTACT:
        queue_message(
            Address(Channel.SMS, reply_to, language),
            PLAN_TEXT_REPLY,
            {"case": case.pk},
            priority=Priority.URGENT,
            idempotency_key=f"{PLAN_TEXT_REPLY}:{text_key}",
            audit=False,
        )
