"""Writes of organising: workplaces, workers, assessments, structure tests, participation.

Every write is atomic and records exactly one audit entry, with ids and action names only:
never a worker's name, phone, assessment value or reason. A contact's name and phone, and
every assessment's reason, are sealed under the workplace's data key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.accounts.models import User, mask_phone
from defensa.audit.log import record
from defensa.audit.reveals import record_reveal
from defensa.committees.access import committee_and_below
from defensa.committees.forms import normalize_phone
from defensa.committees.models import Committee, Membership, MemberStatus
from defensa.core import crypto
from defensa.core.crypto.digests import digest_key, keyed_digest
from defensa.core.tokens import short_code
from defensa.notify.actions import Address, queue_message
from defensa.notify.models import Channel, Priority
from defensa.organising.figures import unit_of
from defensa.organising.models import (
    CODE_LENGTH,
    MAX_CONTACT_RETENTION_DAYS,
    MAX_DEADLINE,
    SCALE,
    Assessment,
    Participation,
    Policy,
    StructureTest,
    Via,
    Worker,
    Workplace,
)

DIGEST_KEY = "organising.phone"
LINK_SALT = "organising.take_part"
LINK_TEMPLATE = "structure_test_link"
REPLY_TEMPLATE = "structure_test_sms_reply"
MAX_WORKERS_PER_WORKPLACE = 100_000


class OrganisingError(Exception):
    """A write that cannot be done; `message` is for the person (translated), `code` a word
    (also an SMS reply's outcome)."""

    def __init__(self, message: Any, code: str) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code


# The network's policy -----------------------------------------------------------------


def network_of(committee: Committee) -> Committee:
    chain = committee.ancestors()
    return chain[-1] if chain else committee


def policy_for(committee: Committee) -> Policy:
    """The network's policy (an unsaved default one until a coordinator sets it)."""
    network = network_of(committee)
    found = Policy.objects.filter(network=network).first()
    return found if found is not None else Policy(network=network)


def scale_in_use(network: Committee) -> bool:
    """Whether any worker in the network has been assessed: then the labels are fixed."""
    return Assessment.objects.filter(
        worker__workplace__committee_id__in=committee_and_below(network)
    ).exists()


@transaction.atomic
def set_policy(
    network: Committee,
    *,
    labels_en: dict[str, str],
    labels_es: dict[str, str],
    contact_retention_days: int,
    actor: User,
) -> Policy:
    """Set the scale's labels (only until the first assessment) and the contacts' retention."""
    if network.parent_id is not None:
        raise OrganisingError(_("Only the network committee sets the scale."), "network")
    if not 1 <= contact_retention_days <= MAX_CONTACT_RETENTION_DAYS:
        raise OrganisingError(
            _("Keep contacts between 1 and %(most)s days after a campaign ends.")
            % {"most": MAX_CONTACT_RETENTION_DAYS},
            "retention",
        )
    policy = Policy.objects.select_for_update().filter(network=network).first() or Policy(
        network=network
    )
    clean_en = {k: v.strip() for k, v in labels_en.items() if v.strip()}
    clean_es = {k: v.strip() for k, v in labels_es.items() if v.strip()}
    if any(k not in {str(v) for v in SCALE} for k in (*clean_en, *clean_es)):
        raise OrganisingError(_("The scale runs from 1 to 5."), "scale")
    changed = clean_en != (policy.labels_en or {}) or clean_es != (policy.labels_es or {})
    if changed and scale_in_use(network):
        raise OrganisingError(
            _("Workers have been assessed on this scale: its labels can no longer change."),
            "scale_fixed",
        )
    policy.labels_en, policy.labels_es = clean_en, clean_es
    policy.contact_retention_days = contact_retention_days
    policy.updated_by, policy.updated_at = actor, timezone.now()
    policy.save()
    record(
        "organising.set_policy",
        actor=actor,
        obj=policy,
        committee=network,
        labels_changed=changed,
        retention_days=contact_retention_days,
    )
    return policy


# Workplaces ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WorkplaceData:
    employer: str
    site: str
    sector: str
    area: str
    headcount: int
    departments: list[str]
    shifts: list[str]
    union: str


@transaction.atomic
def add_workplace(committee: Committee, data: WorkplaceData, *, actor: User) -> Workplace:
    if not data.employer.strip():
        raise OrganisingError(_("Name the employer."), "employer")
    if not 1 <= data.headcount <= MAX_WORKERS_PER_WORKPLACE:
        raise OrganisingError(
            _("The estimated headcount must be between 1 and 100,000."), "headcount"
        )
    workplace = Workplace.objects.create(
        committee=committee,
        created_by=actor,
        data_key=crypto.new_key("organising.workplace"),
        **dataclasses.asdict(data),
    )
    record("organising.add_workplace", actor=actor, obj=workplace, committee=committee)
    return workplace


@transaction.atomic
def end_campaign(workplace: Workplace, *, actor: User) -> Workplace:
    """The campaign at this workplace ended: its contacts go after the network's period."""
    workplace = Workplace.objects.select_for_update().get(pk=workplace.pk)
    if workplace.ended_at is not None:
        raise OrganisingError(_("This campaign has already ended."), "ended")
    workplace.ended_at = timezone.now()
    workplace.save(update_fields=["ended_at"])
    record("organising.end_campaign", actor=actor, obj=workplace, committee=workplace.committee_id)
    return workplace


def purge_ended_workplaces(*, now: dt.datetime | None = None) -> int:
    """Erase the workers of campaigns that ended more than the network's period ago: their
    rows (assessments and participations go with them) and the workplace's key. The
    workplace's own row, its counts-free facts, stays. Returns the workplaces purged."""
    now = now or timezone.now()
    purged = 0
    ended = Workplace.objects.filter(ended_at__isnull=False, data_key__isnull=False)
    for workplace in ended.select_related("committee"):
        days = policy_for(workplace.committee).contact_retention_days
        if workplace.ended_at + dt.timedelta(days=days) > now:  # type: ignore[operator]
            continue
        with transaction.atomic():
            locked = Workplace.objects.select_for_update().get(pk=workplace.pk)
            key = locked.data_key
            if key is None:
                continue
            workers = Worker.objects.filter(workplace=locked)
            gone = workers.count()
            workers.delete()
            locked.data_key = None
            locked.save(update_fields=["data_key"])
            crypto.shred(key)
            record(
                "organising.purge_contacts",
                obj=locked,
                committee=locked.committee_id,
                workers=gone,
            )
            purged += 1
    return purged


# Workers ------------------------------------------------------------------------------


def _open_workplace(workplace: Workplace) -> Workplace:
    """The workplace as it is now, locked; OrganisingError when its campaign has ended."""
    fresh = Workplace.objects.select_for_update().get(pk=workplace.pk)
    if fresh.ended_at is not None or fresh.data_key_id is None:
        raise OrganisingError(_("The campaign at this workplace has ended."), "ended")
    return fresh


def canonical_phone(number: str) -> str:
    try:
        return normalize_phone(number)
    except ValidationError:
        raise OrganisingError(
            _("Write a phone number like (213) 555-0123 or +1 213 555 0123."), "phone"
        ) from None


def phone_digest(number: str) -> str:
    """A keyed hash of the normalised number (HMAC under a digest key the master key wraps,
    defensa/core/crypto/digests.py): a copy of the database alone cannot test numbers."""
    return keyed_digest(digest_key(DIGEST_KEY), canonical_phone(number))


@dataclasses.dataclass(frozen=True)
class ContactData:
    name: str
    phone: str
    language: str
    department: str
    shift: str


def _check_unit(workplace: Workplace, department: str, shift: str) -> None:
    if department and workplace.departments and department not in workplace.departments:
        raise OrganisingError(_("Choose one of the workplace's departments."), "department")
    if shift and workplace.shifts and shift not in workplace.shifts:
        raise OrganisingError(_("Choose one of the workplace's shifts."), "shift")


@transaction.atomic
def add_contact(workplace: Workplace, data: ContactData, *, actor: User) -> Worker:
    """A worker without an account: a name or nickname, and a phone if known (sealed)."""
    workplace = _open_workplace(workplace)
    worker = write_contact(workplace, data, actor=actor)
    record(
        "organising.add_contact",
        actor=actor,
        obj=worker,
        committee=workplace.committee_id,
        workplace=workplace.pk,
    )
    return worker


def write_contact(workplace: Workplace, data: ContactData, *, actor: User | None) -> Worker:
    """The contact's row, sealed; no audit entry. For add_contact and for a file of contacts
    (whose import records one entry for the whole file), inside the caller's transaction."""
    name = data.name.strip()
    if not name:
        raise OrganisingError(_("Write a name or a nickname."), "name")
    _check_unit(workplace, data.department, data.shift)
    phone = canonical_phone(data.phone) if data.phone.strip() else ""
    digest = phone_digest(phone) if phone else ""
    if digest and Worker.objects.filter(workplace=workplace, phone_digest=digest).exists():
        raise OrganisingError(
            _("A worker with this phone number is already recorded here."), "duplicate"
        )
    worker = Worker.objects.create(
        workplace=workplace,
        data_key=workplace.data_key,
        phone_digest=digest,
        language=data.language if data.language in ("en", "es") else "en",
        department=data.department,
        shift=data.shift,
        added_by=actor,
    )
    crypto.seal(worker, "name", name)
    crypto.seal(worker, "phone", phone or None)
    worker.save(update_fields=["name", "phone"])
    return worker


@transaction.atomic
def add_member(
    workplace: Workplace, membership: Membership, *, department: str, shift: str, actor: User
) -> Worker:
    """A member of the organising committee (or one under it) who works here."""
    workplace = _open_workplace(workplace)
    if membership.committee_id not in committee_and_below(workplace.committee):
        raise OrganisingError(_("Choose a member of this committee."), "member")
    _check_unit(workplace, department, shift)
    try:
        with transaction.atomic():
            worker = Worker.objects.create(
                workplace=workplace,
                user=membership.user,
                data_key=workplace.data_key,
                language=membership.user.language,
                department=department,
                shift=shift,
                added_by=actor,
            )
    except IntegrityError:
        raise OrganisingError(_("This member is already recorded here."), "duplicate") from None
    record(
        "organising.add_member",
        actor=actor,
        obj=worker,
        committee=workplace.committee_id,
        workplace=workplace.pk,
    )
    return worker


def member_choices(workplace: Workplace) -> list[Membership]:
    """Full members of the organising committee and those under it, not yet recorded here."""
    taken = Worker.objects.filter(workplace=workplace, user__isnull=False).values("user_id")
    return list(
        Membership.objects.filter(
            committee_id__in=committee_and_below(workplace.committee),
            status=MemberStatus.FULL,
            user__is_active=True,
        )
        .exclude(user_id__in=taken)
        .select_related("user", "committee")
        .order_by("user__display_name")
    )


def display_name(worker: Worker) -> str:
    """The worker's name for an organiser's page (a member's display name, or the contact's
    sealed name)."""
    if worker.user_id is not None:
        return worker.user.display_name  # type: ignore[union-attr]
    try:
        return crypto.unseal(worker, "name") or ""
    except (crypto.KeyShredded, crypto.WrongKey):
        return ""


@transaction.atomic
def set_leader(worker: Worker, *, leader: bool, actor: User) -> Worker:
    _open_workplace(worker.workplace)
    worker = Worker.objects.select_for_update().get(pk=worker.pk)
    if worker.is_leader == leader:
        return worker
    worker.is_leader = leader
    worker.save(update_fields=["is_leader"])
    record(
        "organising.set_leader",
        actor=actor,
        obj=worker,
        committee=worker.workplace.committee_id,
        leader=leader,
    )
    return worker


# Assessments --------------------------------------------------------------------------

MAX_REASON = 280


@transaction.atomic
def assess_worker(worker: Worker, value: Any, *, reason: str, actor: User) -> Assessment:
    """Append one assessment; the earlier ones stay as they were."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in SCALE:
        raise OrganisingError(_("An assessment is a number from 1 to 5."), "scale")
    reason = reason.strip()
    if not reason:
        raise OrganisingError(_("Say briefly why: it helps the next organiser."), "reason")
    if len(reason) > MAX_REASON:
        raise OrganisingError(_("Keep the reason under 280 characters."), "reason")
    workplace = _open_workplace(worker.workplace)
    assessment = Assessment.objects.create(
        worker=worker, value=value, assessed_by=actor, data_key=workplace.data_key
    )
    crypto.seal(assessment, "reason", reason)
    assessment.save(update_fields=["reason"])
    record(
        "organising.assess_worker",
        actor=actor,
        obj=assessment,
        committee=workplace.committee_id,
        worker=worker.pk,
    )
    return assessment


def reason_of(assessment: Assessment) -> str:
    try:
        return crypto.unseal(assessment, "reason") or ""
    except (crypto.KeyShredded, crypto.WrongKey):
        return ""


# Structure tests ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TestData:
    title: str
    kind: str
    workplaces: list[Workplace]
    departments: list[str]
    goal_percent: int
    deadline: dt.datetime


def new_code() -> str:
    return short_code(
        CODE_LENGTH, taken=lambda code: StructureTest.objects.filter(code=code).exists()
    )


@transaction.atomic
def open_structure_test(committee: Committee, data: TestData, *, actor: User) -> StructureTest:
    if not data.title.strip():
        raise OrganisingError(_("Give the action a title."), "title")
    if not data.workplaces:
        raise OrganisingError(_("Choose at least one workplace."), "workplaces")
    below = set(committee_and_below(committee))
    if any(w.committee_id not in below for w in data.workplaces):
        raise OrganisingError(_("Choose workplaces this committee organises."), "workplaces")
    if not 1 <= data.goal_percent <= 100:
        raise OrganisingError(_("The goal is a percentage from 1 to 100."), "goal")
    if not timezone.now() < data.deadline <= timezone.now() + MAX_DEADLINE:
        raise OrganisingError(_("The deadline must be in the future, within a year."), "deadline")
    known = {d for w in data.workplaces for d in w.departments}
    if any(d not in known for d in data.departments):
        raise OrganisingError(_("Choose departments of the chosen workplaces."), "departments")
    test = StructureTest.objects.create(
        committee=committee,
        title=data.title.strip(),
        kind=data.kind,
        departments=list(data.departments),
        goal_percent=data.goal_percent,
        deadline=data.deadline,
        code=new_code(),
        created_by=actor,
    )
    test.workplaces.set(data.workplaces)
    record(
        "organising.open_structure_test",
        actor=actor,
        obj=test,
        committee=committee,
        workplaces=len(data.workplaces),
    )
    return test


def _take_part(test: StructureTest, worker: Worker, *, via: str, actor: User | None) -> str:
    """Record that `worker` took part; "counted", or "already" when it was recorded before."""
    if not test.is_open:
        raise OrganisingError(_("This action's deadline has passed."), "closed")
    if not unit_of(test).filter(pk=worker.pk).exists():
        raise OrganisingError(_("This worker is not part of this action."), "unit")
    _created = Participation.objects.get_or_create(
        test=test, worker=worker, defaults={"via": via, "recorded_by": actor}
    )[1]
    word = "counted" if _created else "already"
    record(
        "organising.take_part",
        actor=actor,
        obj=test,
        committee=test.committee_id,
        worker=worker.pk,
        via=via,
        outcome=word,
    )
    return word


@transaction.atomic
def record_participation(test: StructureTest, worker: Worker, *, actor: User) -> str:
    """An organiser records that a worker took part."""
    return _take_part(test, worker, via=Via.ORGANISER, actor=actor)


@transaction.atomic
def withdraw_participation(test: StructureTest, worker: Worker, *, actor: User) -> None:
    """An organiser corrects a participation recorded by mistake."""
    gone, _detail = Participation.objects.filter(test=test, worker=worker).delete()
    if not gone:
        raise OrganisingError(_("There is no participation to remove."), "nothing")
    record(
        "organising.remove_participation",
        actor=actor,
        obj=test,
        committee=test.committee_id,
        worker=worker.pk,
    )


def link_token(test: StructureTest, worker: Worker) -> str:
    """The worker's own link to say they took part: signed, so it cannot be made up."""
    return signing.dumps([test.pk, worker.pk], salt=LINK_SALT)


def from_link(token: str) -> tuple[StructureTest, Worker] | None:
    """The test and worker a link names, or None for a link that was not ours."""
    try:
        test_id, worker_id = signing.loads(token, salt=LINK_SALT)
        test = StructureTest.objects.get(pk=int(test_id))
        worker = Worker.objects.select_related("workplace").get(pk=int(worker_id))
    except (
        signing.BadSignature,
        ValueError,
        TypeError,
        StructureTest.DoesNotExist,
        Worker.DoesNotExist,
    ):
        return None
    return test, worker


@transaction.atomic
def take_part_by_link(test: StructureTest, worker: Worker) -> str:
    """The worker says so on their own link (no account; the signed link is the proof)."""
    return _take_part(test, worker, via=Via.WEB, actor=None)


def worker_with_phone(test: StructureTest, number: str) -> Worker | None:
    digest = phone_digest(number)
    return unit_of(test).filter(phone_digest=digest).first()


@transaction.atomic
def take_part_by_phone(test: StructureTest, number: str) -> str:
    """A text from a worker's phone says they took part (the text proves the number)."""
    worker = worker_with_phone(test, number)
    if worker is None:
        raise OrganisingError(_("This number is not in the action's unit."), "unknown_number")
    return _take_part(test, worker, via=Via.SMS, actor=None)


@transaction.atomic
def send_links(test: StructureTest, *, actor: User) -> int:
    """Text each contact in the unit who has a phone their own link; members get theirs on
    their chosen channels. Sent once per worker and test. Returns how many were queued."""
    if not test.is_open:
        raise OrganisingError(_("This action's deadline has passed."), "closed")
    queued = 0
    for worker in unit_of(test).select_related("user", "workplace"):
        key = f"organising_link:{test.pk}:{worker.pk}"
        context = {"test": test.pk, "worker": worker.pk}
        if worker.user_id is not None:
            found = queue_message(
                worker.user, LINK_TEMPLATE, context, idempotency_key=key, audit=False
            )
        else:
            phone = crypto.unseal(worker, "phone") if worker.data_key_id else None
            if not phone:
                continue
            found = queue_message(
                Address(Channel.SMS, phone, worker.language),
                LINK_TEMPLATE,
                context,
                priority=Priority.NORMAL,
                idempotency_key=key,
                audit=False,
                # Shredding the workplace's key erases the number from the outbox too.
                address_key=worker.workplace.data_key,
            )
        queued += bool(found)
    record(
        "organising.send_links", actor=actor, obj=test, committee=test.committee_id, queued=queued
    )
    return queued


def reply_by_text(
    test: StructureTest | None, number: str, language: str, word: str, sid: str
) -> None:
    """Answer a text about an action, in the keyword's language."""
    with transaction.atomic():
        queue_message(
            Address(Channel.SMS, number, language),
            REPLY_TEMPLATE,
            {"test": test.pk if test else 0, "outcome": word},
            priority=Priority.URGENT,
            idempotency_key=f"organising_reply:{sid}",
            audit=False,
        )


# Contacts as a spreadsheet ------------------------------------------------------------

EXPORT_COLUMNS = ("name", "phone", "language", "department", "shift")


def export_contacts(workplace: Workplace, *, actor: User) -> list[list[str]]:
    """The workplace's contacts as rows of EXPORT_COLUMNS, phones masked: a reveal of their
    names (audited once for the file, within the hourly quota; RevealQuota past it). Members
    are not in it: their details are their own account's."""
    workers = list(
        Worker.objects.filter(workplace=workplace, user__isnull=True).select_related("data_key")
    )
    # Not in an outer transaction: a refusal past the quota must stay audited.
    record_reveal("organising.contacts", actor=actor, obj=workplace, rows=len(workers))
    rows = []
    for worker in workers:
        try:
            phone = crypto.unseal(worker, "phone") or ""
        except (crypto.KeyShredded, crypto.WrongKey):
            phone = ""
        rows.append(
            [
                display_name(worker),
                mask_phone(phone),
                worker.language,
                worker.department,
                worker.shift,
            ]
        )
    return rows
