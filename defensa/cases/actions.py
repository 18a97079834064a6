"""Case and emergency-plan actions: each atomic, each exactly one audit record.

Every change to a case is one timeline entry sealed by its audit record (cases/timeline.py).
Messages go through notify.queue_message in the same transaction, with audit=False: the
action's own audit record names the cause.

`open_case` is the one way a case begins, whatever opened it: the legal team's form, a
hotline call, an emergency plan's trigger or an accompaniment check-in ("detained").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from defensa.accounts.models import User
from defensa.audit.log import record
from defensa.audit.models import AuditEntry
from defensa.cases.models import (
    OPEN_STATUSES,
    Case,
    ContactChannel,
    EmergencyPlan,
    Entry,
    EntryAction,
    Facility,
    FamilyContact,
    Hearing,
    PlanTrigger,
    Source,
    Status,
    Task,
    TaskKind,
    Transfer,
    TriggerVia,
)
from defensa.cases.timeline import add_entry
from defensa.committees.models import Committee, Membership, MemberStatus
from defensa.core import crypto
from defensa.core.transitions import IllegalTransition
from defensa.incidents.codes import new_code
from defensa.notify.actions import Address, queue_message
from defensa.notify.models import Delivery, Priority
from defensa.notify.models import Status as DeliveryStatus

PERSON_FIELDS = ("person_name", "a_number", "birth_date", "birth_country")
CONTACT_FIELDS = ("name", "relation", "address")
NOTE_LIMIT = 2000

CASE_OPENED = "case_opened"
TASK_OVERDUE = "case_task_overdue"
PLAN_TRIGGERED = "plan_triggered"
PLAN_CANCELLED = "plan_cancelled"
CASE_FALSE_ALARM = "case_false_alarm"


class RevealQuota(Exception):
    """The member showed identifiers too often this hour; the refusal was audited."""


class TooManyTriggers(Exception):
    """The member set off their own plan PLAN_SELF_TRIGGERS_PER_HOUR times in the last hour."""


def legal_team(committee: Committee) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True,
            memberships__committee=committee,
            memberships__is_legal=True,
            memberships__status=MemberStatus.FULL,
        ).distinct()
    )


def _tell_legal_team(
    committee: Committee, template: str, context: dict[str, Any], key: str
) -> None:
    for person in legal_team(committee):
        queue_message(
            person,
            template,
            context,
            priority=Priority.URGENT,
            idempotency_key=f"{key}:{person.pk}",
            audit=False,
        )


def _seal_person(case: Case, person: Mapping[str, Any]) -> None:
    for name in PERSON_FIELDS:
        value = person.get(name)
        if isinstance(value, dt.date):
            value = value.isoformat()
        crypto.seal(case, name, (value or "").strip() or None)


def _add_contact(case: Case, contact: Mapping[str, Any]) -> FamilyContact:
    row = FamilyContact.objects.create(
        case=case,
        data_key=case.data_key,
        language=contact.get("language") or "es",
        channel=contact.get("channel") or ContactChannel.SMS,
    )
    for name in CONTACT_FIELDS:
        crypto.seal(row, name, (contact.get(name) or "").strip() or None)
    row.save(update_fields=[*CONTACT_FIELDS, "data_key"])
    return row


def _new_reference() -> str:
    for _attempt in range(20):
        code = "C" + new_code(6)
        if not Case.objects.filter(reference=code).exists():
            return code
    raise IntegrityError("no free case reference")


def _open(
    *,
    committee: Committee,
    source: str,
    actor: Any,
    incident: Any = None,
    report: Any = None,
    facility: Facility | None = None,
    person: Mapping[str, Any] | None = None,
    contacts: Iterable[Mapping[str, Any]] = (),
    note: str = "",
    audit_action: str = "cases.opened",
    **audit_data: Any,
) -> Case:
    if source not in Source.values:
        raise ValueError(f"unknown source {source!r}")
    now = timezone.now()
    case = Case.objects.create(
        reference=_new_reference(),
        committee=committee,
        source=source,
        incident=incident,
        report=report,
        facility=facility,
        status=Status.LOCATED if facility is not None else Status.REPORTED,
        data_key=crypto.new_key("cases.case"),
        opened_by=actor if getattr(actor, "pk", None) else None,
        created_at=now,
        updated_at=now,
    )
    _seal_person(case, person or {})
    case.save(update_fields=list(PERSON_FIELDS))
    if facility is not None:
        Transfer.objects.create(
            case=case, facility=facility, since=timezone.localdate(), recorded_by=case.opened_by
        )
    contact_ids = [_add_contact(case, c).pk for c in contacts]
    task = Task.objects.create(
        case=case,
        kind=TaskKind.CONSULTATION,
        due_at=now + dt.timedelta(hours=settings.CASES_CONSULTATION_HOURS),
    )
    _tell_legal_team(committee, CASE_OPENED, {"case": case.pk}, f"case-opened:{case.pk}")
    add_entry(
        case,
        EntryAction.OPENED,
        actor=actor,
        note=note[:NOTE_LIMIT],
        detail={"source": source, "task": task.pk},
        audit_action=audit_action,
        source=source,
        incident=getattr(incident, "pk", None),
        report=getattr(report, "pk", None),
        contacts=contact_ids,
        task=task.pk,
        **audit_data,
    )
    return case


@transaction.atomic
def open_case(
    *,
    committee: Committee,
    source: str,
    actor: Any,
    incident: Any = None,
    report: Any = None,
    facility: Facility | None = None,
    person_name: str = "",
    a_number: str = "",
    birth_date: str | dt.date | None = None,
    birth_country: str = "",
    contacts: Iterable[Mapping[str, Any]] = (),
    note: str = "",
) -> Case:
    """Open a case for a detained person and give the legal team its first task.

    - `source`: a `Source` value (incident, hotline, plan, checkin, other); pass the incident
      and/or report it came from when there is one.
    - person fields: whatever is known now (all optional), sealed under the case's new key.
    - `contacts`: family contacts as mappings with name, relation, address (phone or email),
      channel ("sms"/"email") and language ("es"/"en"), sealed under the same key.
    - The task "attorney consultation within 48 hours" is created (CASES_CONSULTATION_HOURS)
      and the committee's legal team is alerted. The caller checks who may open a case.
    """
    return _open(
        committee=committee,
        source=source,
        actor=actor,
        incident=incident,
        report=report,
        facility=facility,
        person={
            "person_name": person_name,
            "a_number": a_number,
            "birth_date": birth_date,
            "birth_country": birth_country,
        },
        contacts=contacts,
        note=note,
    )


def change_status(case: Case, status: str, *, actor: Any, note: str = "") -> Entry:
    """Move a case along its pipeline (raises IllegalTransition for a move not allowed)."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        old = locked.move_to(status)
        locked.save(update_fields=["status"])
        case.status = locked.status
        return add_entry(
            locked,
            EntryAction.STATUS,
            actor=actor,
            note=note[:NOTE_LIMIT],
            detail={"from": old, "to": status},
            audit_action="cases.status_changed",
            old=old,
            new=status,
        )


@transaction.atomic
def update_person(case: Case, *, actor: Any, **person: Any) -> Entry:
    """Replace the person's identifiers (sealed under the case's key)."""
    _seal_person(case, person)
    case.save(update_fields=list(PERSON_FIELDS))
    return add_entry(case, EntryAction.PERSON, actor=actor, audit_action="cases.person_changed")


@transaction.atomic
def record_transfer(case: Case, facility: Facility, *, since: dt.date, actor: Any) -> Transfer:
    """The person is (now) held at `facility`. A reported case becomes located."""
    transfer = Transfer.objects.create(case=case, facility=facility, since=since, recorded_by=actor)
    case.facility = facility
    moved = case.status == Status.REPORTED
    if moved:
        case.status = Status.LOCATED
    case.save(update_fields=["facility", "status"])
    add_entry(
        case,
        EntryAction.TRANSFER,
        actor=actor,
        detail={"facility": facility.pk, "located": moved},
        audit_action="cases.transfer",
        audit_obj=transfer,
        facility=facility.pk,
    )
    return transfer


@transaction.atomic
def assign_attorney(case: Case, *, attorney: User | None, outside: str, actor: Any) -> Entry:
    case.attorney = attorney
    case.attorney_outside = outside.strip()[:120]
    moved = case.status in (Status.REPORTED, Status.LOCATED) and bool(attorney or outside)
    if moved:
        case.status = Status.ATTORNEY
    case.save(update_fields=["attorney", "attorney_outside", "status"])
    return add_entry(
        case,
        EntryAction.ATTORNEY,
        actor=actor,
        detail={"attorney": getattr(attorney, "pk", None), "status": case.status},
        audit_action="cases.attorney",
        attorney=getattr(attorney, "pk", None),
    )


@transaction.atomic
def add_hearing(case: Case, *, kind: str, at: dt.datetime, place: str, actor: Any) -> Hearing:
    hearing = Hearing.objects.create(
        case=case, kind=kind, at=at, place=place.strip()[:160], created_by=actor
    )
    add_entry(
        case,
        EntryAction.HEARING,
        actor=actor,
        detail={"hearing": hearing.pk, "kind": kind},
        audit_action="cases.hearing",
        audit_obj=hearing,
    )
    return hearing


@transaction.atomic
def update_bond(case: Case, *, amount: int | None, status: str, fund: str, actor: Any) -> Entry:
    case.bond_amount = amount
    case.bond_status = status
    case.bond_fund = fund.strip()[:120]
    case.save(update_fields=["bond_amount", "bond_status", "bond_fund"])
    return add_entry(
        case,
        EntryAction.BOND,
        actor=actor,
        detail={"bond_status": status},
        audit_action="cases.bond",
        bond_status=status,
    )


@transaction.atomic
def add_family_contact(case: Case, *, actor: Any, **contact: Any) -> FamilyContact:
    row = _add_contact(case, contact)
    add_entry(
        case,
        EntryAction.CONTACT,
        actor=actor,
        detail={"contact": row.pk},
        audit_action="cases.contact_added",
        audit_obj=row,
    )
    return row


@transaction.atomic
def add_task(
    case: Case, *, title: str, owner: User | None, due_at: dt.datetime, actor: Any
) -> Task:
    task = Task.objects.create(case=case, title=title.strip()[:160], owner=owner, due_at=due_at)
    add_entry(
        case,
        EntryAction.TASK,
        actor=actor,
        detail={"task": task.pk},
        audit_action="cases.task_added",
        audit_obj=task,
    )
    return task


@transaction.atomic
def complete_task(task: Task, *, actor: Any) -> Task:
    updated = Task.objects.filter(pk=task.pk, done_at__isnull=True).update(
        done_at=timezone.now(), done_by=actor
    )
    task.refresh_from_db()
    if not updated:
        return task  # a double tap: already done
    case = task.case
    moved = task.kind == TaskKind.CONSULTATION and case.status in (
        Status.REPORTED,
        Status.LOCATED,
        Status.ATTORNEY,
    )
    if moved:
        case.status = Status.CONSULTED
        case.save(update_fields=["status"])
    add_entry(
        case,
        EntryAction.TASK_DONE,
        actor=actor,
        detail={"task": task.pk, "status": case.status},
        audit_action="cases.task_done",
        audit_obj=task,
    )
    return task


def add_case_note(case: Case, note: str, *, actor: Any) -> Entry:
    with transaction.atomic():
        return add_entry(
            case, EntryAction.NOTE, actor=actor, note=note[:NOTE_LIMIT], audit_action="cases.note"
        )


@transaction.atomic
def add_facility(name: str, city: str, *, actor: Any) -> Facility:
    facility, _created = Facility.objects.get_or_create(
        name=name.strip()[:120], defaults={"city": city.strip()[:80], "added_by": actor}
    )
    record("cases.facility_added", actor=actor, obj=facility)
    return facility


def reveal_identifiers(case: Case, *, actor: Any) -> dict[str, Any]:
    """The person's identifiers and family contacts, for this one response. Audited, rate
    limited (CASES_REVEALS_PER_HOUR); the refusal is audited too. Callers check access.

    Returns {"person": {...}, "contacts": [{...}], "shredded": bool}.
    """
    since = timezone.now() - dt.timedelta(hours=1)
    with transaction.atomic():
        recent = AuditEntry.objects.filter(
            actor_id=actor.pk, action="cases.identifiers_revealed", created_at__gte=since
        ).count()
        allowed = recent < settings.CASES_REVEALS_PER_HOUR
        if allowed:
            add_entry(
                case,
                EntryAction.REVEALED,
                actor=actor,
                audit_action="cases.identifiers_revealed",
            )
        else:
            record(
                "cases.identifiers_reveal_refused",
                actor=actor,
                obj=case,
                committee=case.committee_id,
            )
    if not allowed:
        raise RevealQuota
    try:
        person = {name: crypto.unseal(case, name) or "" for name in PERSON_FIELDS}
        contacts = [
            {
                "pk": c.pk,
                **{name: crypto.unseal(c, name) or "" for name in CONTACT_FIELDS},
                "language": c.language,
                "channel": c.get_channel_display(),
            }
            for c in case.contacts.all()  # type: ignore[attr-defined]
        ]
    except crypto.KeyShredded:
        return {"person": {}, "contacts": [], "shredded": True}
    return {"person": person, "contacts": contacts, "shredded": False}


def note_text(entry: Entry) -> str:
    """A timeline note's text for the legal team's case page ("" when shredded)."""
    try:
        return crypto.unseal(entry, "note") or ""
    except crypto.KeyShredded:
        return ""


def escalate_case_tasks(*, now: dt.datetime | None = None) -> int:
    """One pass: tell the legal team, once, about each overdue task of an open case.

    Returns how many tasks were escalated. Each task is its own transaction.
    """
    now = now or timezone.now()
    due = Task.objects.filter(
        done_at__isnull=True,
        escalated_at__isnull=True,
        due_at__lte=now,
        case__status__in=OPEN_STATUSES,
    ).values_list("pk", flat=True)
    escalated = 0
    for pk in list(due):
        with transaction.atomic():
            # Claim it: a second pass (or a second process) finds it taken and sends nothing.
            if not Task.objects.filter(
                pk=pk, escalated_at__isnull=True, done_at__isnull=True
            ).update(escalated_at=now):
                continue
            task = Task.objects.select_related("case__committee").get(pk=pk)
            case = task.case
            _tell_legal_team(
                case.committee, TASK_OVERDUE, {"task": task.pk}, f"case-task-overdue:{task.pk}"
            )
            add_entry(
                case,
                EntryAction.ESCALATED,
                detail={"task": task.pk},
                audit_action="cases.task_escalated",
                audit_obj=task,
            )
        escalated += 1
    return escalated


# Emergency plans ----------------------------------------------------------------------


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
    case = _open(
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
        _tell_legal_team(
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
