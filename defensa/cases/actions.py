"""Case actions: each atomic, each exactly one audit record (emergency plans: plans.py).

Every change to a case is one timeline entry sealed by its audit record (cases/timeline.py).
Messages go through notify.queue_message in the same transaction, with audit=False: the
action's own audit record names the cause.

`open_case` (and `begin_case` beneath it) is the one way a case begins, whatever opened it:
the legal team's form, a hotline call, an emergency plan's trigger (plans.py) or an
accompaniment check-in ("detained").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from defensa.accounts.models import User
from defensa.audit import reveals
from defensa.audit.log import record
from defensa.cases.models import (
    OPEN_STATUSES,
    Case,
    ContactChannel,
    Entry,
    EntryAction,
    Facility,
    FamilyContact,
    Hearing,
    Source,
    Status,
    Task,
    TaskKind,
    Transfer,
)
from defensa.cases.timeline import add_entry
from defensa.committees.models import Committee
from defensa.committees.teams import tell_legal_team
from defensa.core import crypto
from defensa.incidents.codes import new_code

PERSON_FIELDS = ("person_name", "a_number", "birth_date", "birth_country")
CONTACT_FIELDS = ("name", "relation", "address")
NOTE_LIMIT = 2000

CASE_OPENED = "case_opened"
TASK_OVERDUE = "case_task_overdue"


# The one reveal quota of every sealed value (defensa/audit/reveals.py), re-exported.
RevealQuota = reveals.RevealQuota


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


def begin_case(
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
    """The write behind open_case, for a caller that names its own audit action and data
    (a plan's trigger). Runs inside the caller's transaction."""
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
    tell_legal_team(committee, CASE_OPENED, {"case": case.pk}, f"case-opened:{case.pk}")
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
    return begin_case(
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
    """The person's identifiers and family contacts, for this one response. Audited (a sealed
    step of the case's timeline) and counted against the one hourly reveal quota
    (defensa/audit/reveals.py; RevealQuota past it, the refusal audited). Callers check access.

    Returns {"person": {...}, "contacts": [{...}], "shredded": bool}.
    """
    reveals.record_reveal(
        "cases.identifiers",
        actor=actor,
        obj=case,
        committee=case.committee_id,
        write=lambda action: add_entry(
            case, EntryAction.REVEALED, actor=actor, audit_action=action
        ),
    )
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
    """A timeline note's text ("" when shredded). Shown to a person only through
    `reveal_notes`, which audits and counts the view."""
    try:
        return crypto.unseal(entry, "note") or ""
    except crypto.KeyShredded:
        return ""


def reveal_notes(case: Case, entries: Iterable[Entry], *, actor: Any) -> dict[int, str] | None:
    """The texts of the case's sealed timeline notes, for one view of the case page: the
    view is audited and counted against the one hourly reveal quota. None past the quota
    (the refusal is audited); {} when there is no note, without an audit entry (nothing
    sealed is opened)."""
    with_notes = [entry for entry in entries if entry.note]
    if not with_notes:
        return {}
    try:
        reveals.record_reveal(
            "cases.notes",
            actor=actor,
            obj=case,
            committee=case.committee_id,
            notes=len(with_notes),
        )
    except RevealQuota:
        return None
    return {entry.pk: note_text(entry) for entry in with_notes}


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
            tell_legal_team(
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
