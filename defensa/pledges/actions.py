"""Writes of pledge campaigns: open, pledge, confirm, withdraw, reach, cancel, close, shred.

Every write is atomic and records exactly one audit entry, which names the campaign and never
the pledger (no actor on a pledge, no pledge id): the audit log must not say who pledged.
Before the threshold the only place an identity exists is sealed under the campaign's data
key; `reach_threshold` is the one step that unseals them, to tell every pledger at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.accounts.models import User
from defensa.audit.log import record
from defensa.committees import own_words
from defensa.committees.access import committee_and_below
from defensa.committees.forms import normalize_phone
from defensa.committees.models import Committee, Kind, Membership, MemberStatus
from defensa.core import crypto, languages
from defensa.core.crypto.digests import digest_key, keyed_digest
from defensa.core.tokens import short_code
from defensa.notify.actions import Address, queue_message, queue_messages, queue_sealed_messages
from defensa.notify.models import Channel, Delivery, Priority
from defensa.organising.actions import phone_digest as worker_phone_digest
from defensa.organising.models import Worker, Workplace
from defensa.pledges.models import (
    CODE_LENGTH,
    IDENTITY_RETENTION,
    MAX_DEADLINE,
    WORKPLACE_SCOPES,
    Campaign,
    Origin,
    Pledge,
    Scope,
    Standing,
    State,
    ThresholdKind,
    coarse,
)

REACHED_TEMPLATE = "pledge_reached"
COORDINATOR_TEMPLATE = "pledge_reached_coordinator"
REPLY_TEMPLATE = "pledge_sms_reply"
DIGEST_KEY = "pledges.phone"


class PledgeError(Exception):
    """A pledge or withdrawal that cannot be taken; `message` is for the person (translated)."""

    def __init__(self, message: Any, code: str) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code  # a short word, also the SMS reply's outcome


# Digests ------------------------------------------------------------------------------


def canonical_phone(number: str) -> str:
    """The number in the E.164 form accounts store (+12135550123), or PledgeError."""
    try:
        return normalize_phone(number)
    except ValidationError:
        raise PledgeError(_("Enter a mobile number, e.g. +1 213 555 0100."), "phone") from None


def phone_digest(campaign: Campaign, number: str) -> str:
    """A keyed hash of the normalised number, per campaign (so campaigns do not link).

    The helper reports' sender digest and notify's opt-out digest use: HMAC under a digest
    key wrapped by the master key (defensa/core/crypto/digests.py), so a copy of the database
    alone cannot test numbers against it.
    """
    return keyed_digest(digest_key(DIGEST_KEY), f"{campaign.pk}:{canonical_phone(number)}")


def member_digest(campaign: Campaign, user: User) -> str:
    """A member without a phone pledges once per account."""
    return keyed_digest(digest_key(DIGEST_KEY), f"{campaign.pk}:member:{user.pk}")


def _phone_of(user: User) -> str:
    try:
        return canonical_phone(user.phone) if user.phone else ""
    except PledgeError:
        return ""


def _digest_for(campaign: Campaign, user: User) -> str:
    phone = _phone_of(user)
    return phone_digest(campaign, phone) if phone else member_digest(campaign, user)


# Scope --------------------------------------------------------------------------------


def scope_committee_ids(campaign: Campaign) -> list[int]:
    if campaign.scope == Scope.NETWORK:
        return list(Committee.objects.values_list("pk", flat=True))
    return committee_and_below(campaign.committee)


def scope_workplaces(
    committee: Committee, scope: str, *, workplace: Workplace | None, sector: str
) -> QuerySet[Workplace]:
    """The workplaces a workplace-scoped campaign counts: one, or a sector's, of the
    committee's (and the committees' under it) whose organising has not ended."""
    mine = Workplace.objects.filter(
        committee_id__in=committee_and_below(committee), ended_at__isnull=True
    )
    if scope == Scope.SECTOR:
        return mine.filter(sector__iexact=sector) if sector else mine.none()
    if scope in (Scope.WORKPLACE, Scope.DEPARTMENT) and workplace is not None:
        return mine.filter(pk=workplace.pk)
    return mine.none()


def scope_workers(
    committee: Committee,
    scope: str,
    *,
    workplace: Workplace | None,
    department: str,
    sector: str,
) -> QuerySet[Worker]:
    """The known workers (members and contacts) in a workplace scope."""
    places = scope_workplaces(committee, scope, workplace=workplace, sector=sector)
    workers = Worker.objects.filter(workplace__in=places)
    if scope == Scope.DEPARTMENT:
        workers = workers.filter(department=department)
    return workers


def workers_in_scope(campaign: Campaign) -> QuerySet[Worker]:
    return scope_workers(
        campaign.committee,
        campaign.scope,
        workplace=campaign.workplace,
        department=campaign.department,
        sector=campaign.sector,
    )


def known_workers(
    committee: Committee, scope: str, *, workplace: Workplace | None, department: str, sector: str
) -> int:
    """The default eligible count of a workplace scope: the workers organisers know of."""
    return scope_workers(
        committee, scope, workplace=workplace, department=department, sector=sector
    ).count()


def _worker_of(campaign: Campaign, *, user: User | None = None, phone: str = "") -> Worker | None:
    """The worker record in scope of a member or a number, if the organisers know them."""
    workers = workers_in_scope(campaign)
    if user is not None:
        found = workers.filter(user=user).first()
        if found is not None or not phone:
            return found
    if phone:
        return workers.filter(phone_digest=worker_phone_digest(phone)).first()
    return None


def is_in_scope(campaign: Campaign, user: User) -> bool:
    if campaign.scope in WORKPLACE_SCOPES:
        return workers_in_scope(campaign).filter(user=user).exists()
    return Membership.objects.filter(
        user=user, committee_id__in=scope_committee_ids(campaign)
    ).exists()


def member_with_phone(campaign: Campaign, number: str) -> User | None:
    """The member in the campaign's scope whose phone this is, if any (a number seen before)."""
    people = User.objects.filter(is_active=True, phone=canonical_phone(number))
    if campaign.scope in WORKPLACE_SCOPES:
        people = people.filter(organising_workers__in=workers_in_scope(campaign))
    else:
        people = people.filter(memberships__committee_id__in=scope_committee_ids(campaign))
    return people.distinct().first()


# Opening ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CampaignData:
    scope: str
    title_en: str
    title_es: str
    text_en: str
    text_es: str
    threshold_kind: str
    threshold: int
    eligible_count: int | None
    eligible_source: str
    deadline: dt.datetime
    require_confirmation: bool
    workplace: Workplace | None = None
    department: str = ""
    sector: str = ""
    # The title and the pledge in other languages, each optional ({"vi": {"title": ...}}).
    translations: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)


# The words a campaign keeps in the network's other languages, with the English fields' limits.
CAMPAIGN_WORDS = (
    own_words.Words("title", own_words.TITLE, 120),
    own_words.Words("text", own_words.PLEDGE, 600, multiline=True),
)


def new_code() -> str:
    return short_code(CODE_LENGTH, taken=lambda code: Campaign.objects.filter(code=code).exists())


def _check_workplace_scope(committee: Committee, data: CampaignData) -> None:
    if data.scope not in WORKPLACE_SCOPES:
        if data.workplace is not None or data.department or data.sector:
            raise PledgeError(_("Only a workplace scope names a workplace."), "scope")
        return
    if data.scope == Scope.SECTOR:
        if (
            not data.sector
            or not scope_workplaces(
                committee, data.scope, workplace=None, sector=data.sector
            ).exists()
        ):
            raise PledgeError(_("No workplace of this committee is in that sector."), "sector")
        return
    if (
        data.workplace is None
        or not scope_workplaces(committee, data.scope, workplace=data.workplace, sector="").exists()
    ):
        raise PledgeError(_("Choose a workplace this committee organises."), "workplace")
    if data.scope == Scope.DEPARTMENT and data.department not in data.workplace.departments:
        raise PledgeError(_("Choose one of the workplace's departments."), "department")


@transaction.atomic
def open_campaign(committee: Committee, data: CampaignData, *, actor: User) -> Campaign:
    """Open a campaign (the form has validated `data`; this checks the rules again)."""
    if data.scope == Scope.NETWORK and committee.kind != Kind.NETWORK:
        raise PledgeError(
            _("Only the network committee can open a network-wide campaign."), "scope"
        )
    if not timezone.now() < data.deadline <= timezone.now() + MAX_DEADLINE:
        raise PledgeError(_("The deadline must be in the future, within a year."), "deadline")
    if data.threshold_kind == ThresholdKind.PERCENT and (
        data.threshold > 100 or not data.eligible_count or not data.eligible_source
    ):
        raise PledgeError(
            _("A percentage needs the eligible count and its source, and cannot pass 100."),
            "threshold",
        )
    _check_workplace_scope(committee, data)
    try:
        translations = own_words.check(data.translations, CAMPAIGN_WORDS)
    except ValidationError as error:
        raise PledgeError(error.messages[0], "translations") from error
    data = dataclasses.replace(data, translations=translations)
    needed = Campaign.needed_for(data.threshold_kind, data.threshold, data.eligible_count)
    if data.threshold <= 0 or (data.eligible_count is not None and needed > data.eligible_count):
        raise PledgeError(
            _("The threshold must be above zero and within the eligible count."), "threshold"
        )
    campaign = Campaign.objects.create(
        committee=committee,
        code=new_code(),
        needed=needed,
        opened_by=actor,
        data_key=crypto.new_key("pledges.campaign"),
        **dataclasses.asdict(data),
    )
    record(
        "pledges.open_campaign",
        actor=actor,
        obj=campaign,
        committee=committee,
        scope=campaign.scope,
        needed=needed,
        languages=sorted(translations),
    )
    return campaign


# Pledging -----------------------------------------------------------------------------


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().select_related("committee").get(pk=campaign.pk)


def _check_open(campaign: Campaign) -> None:
    if campaign.state not in (State.OPEN, State.REACHED) or timezone.now() >= campaign.deadline:
        raise PledgeError(_("This pledge campaign is closed."), "closed")


def _counts(campaign: Campaign, pledge: Pledge) -> bool:
    if pledge.withdrawn_at is not None:
        return False
    return not (campaign.require_confirmation and pledge.standing == Standing.UNCONFIRMED)


def _new_pledge(
    campaign: Campaign,
    digest: str,
    *,
    origin: str,
    standing: str,
    language: str,
    phone: str = "",
    member: User | None = None,
) -> Pledge:
    pledge = Pledge.objects.create(
        campaign=campaign,
        digest=digest,
        origin=origin,
        standing=standing,
        # Any language the network speaks: the flip's message is told in it, and the
        # campaign's own words in it when the coordinators gave them.
        language=languages.get(language).code,
        pledged_at=coarse(timezone.now()),
        data_key=campaign.data_key,
        unit=_unit_of(campaign, member=member, phone=phone),
    )
    crypto.seal(pledge, "phone", canonical_phone(phone) if phone else None)
    crypto.seal(pledge, "member", str(member.pk) if member else None)
    pledge.save(update_fields=["phone", "member"])
    return pledge


def _unit_of(campaign: Campaign, *, member: User | None, phone: str) -> Workplace | None:
    if campaign.scope not in WORKPLACE_SCOPES:
        return None
    worker = _worker_of(campaign, user=member, phone=canonical_phone(phone) if phone else "")
    return worker.workplace if worker is not None else None


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What happened: "counted", "pending" (needs a confirming text), "confirmed",
    "renewed", "already" (this phone's pledge stands) or "withdrawn"."""

    word: str
    campaign: Campaign


def pledge_by_phone(campaign: Campaign, number: str, *, origin: str, language: str) -> Outcome:
    """A pledge from a phone: typed on the public page (web) or texted in (sms).

    A text proves the number: it confirms an earlier web pledge from it. The same phone never
    makes a second pledge.
    """
    normal = canonical_phone(number)
    with transaction.atomic():
        campaign = _locked(campaign)
        _check_open(campaign)
        digest = phone_digest(campaign, normal)
        existing = Pledge.objects.filter(campaign=campaign, digest=digest).first()
        known = member_with_phone(campaign, normal) is not None
        if existing is not None:
            word = _renew(campaign, existing, by_text=origin == Origin.SMS)
            pledge = existing
        else:
            if known:
                standing = Standing.MEMBER
            elif origin == Origin.SMS:
                standing = Standing.CONFIRMED
            else:
                standing = Standing.UNCONFIRMED
            pledge = _new_pledge(
                campaign, digest, origin=origin, standing=standing, language=language, phone=normal
            )
            word = "counted" if _counts(campaign, pledge) else "pending"
        record("pledges.pledge", obj=campaign, origin=origin, outcome=word)
        if campaign.state == State.REACHED and word in ("counted", "confirmed", "renewed"):
            _tell_pledger(campaign, pledge)
    if campaign.state == State.OPEN:
        reach_threshold(campaign)
    return Outcome(word, campaign)


def _renew(campaign: Campaign, pledge: Pledge, *, by_text: bool) -> str:
    """A second pledge from the same phone: it confirms, or renews a withdrawn one, or nothing."""
    fields = []
    word = "already"
    if pledge.withdrawn_at is not None:
        pledge.withdrawn_at = None
        fields.append("withdrawn_at")
        word = "renewed"
    if by_text and pledge.standing == Standing.UNCONFIRMED:
        pledge.standing = Standing.CONFIRMED
        fields.append("standing")
        word = "confirmed"
    if fields:
        pledge.save(update_fields=fields)
    if word == "renewed" and not _counts(campaign, pledge):
        word = "pending"
    return word


def pledge_as_member(campaign: Campaign, user: User) -> Outcome:
    """A signed-in member of the campaign's scope pledges."""
    with transaction.atomic():
        campaign = _locked(campaign)
        _check_open(campaign)
        if not is_in_scope(campaign, user):
            raise PledgeError(_("This campaign is for members of another committee."), "scope")
        digest = _digest_for(campaign, user)
        existing = Pledge.objects.filter(campaign=campaign, digest=digest).first()
        if existing is not None:
            if existing.withdrawn_at is None and existing.standing != Standing.UNCONFIRMED:
                raise PledgeError(_("You have already pledged."), "already")
            existing.withdrawn_at = None
            existing.standing = Standing.MEMBER
            # Typed or texted from their number before: now it is their account's pledge.
            crypto.seal(existing, "member", str(user.pk))
            existing.save(update_fields=["withdrawn_at", "standing", "member"])
            pledge, word = existing, "renewed"
        else:
            pledge = _new_pledge(
                campaign,
                digest,
                origin=Origin.MEMBER,
                standing=Standing.MEMBER,
                language=user.language,
                phone=_phone_of(user),
                member=user,
            )
            word = "counted"
        record("pledges.pledge", obj=campaign, origin=Origin.MEMBER, outcome=word)
        if campaign.state == State.REACHED:
            _tell_pledger(campaign, pledge)
    if campaign.state == State.OPEN:
        reach_threshold(campaign)
    return Outcome(word, campaign)


def _withdraw(campaign: Campaign, digest: str, *, origin: str) -> Outcome:
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state == State.REACHED:
            raise PledgeError(
                _("The threshold was reached: pledges can no longer be withdrawn."), "binding"
            )
        _check_open(campaign)
        pledge = Pledge.objects.filter(
            campaign=campaign, digest=digest, withdrawn_at__isnull=True
        ).first()
        if pledge is None:
            raise PledgeError(_("There is no pledge to withdraw."), "nothing")
        pledge.withdrawn_at = coarse(timezone.now())
        pledge.save(update_fields=["withdrawn_at"])
        record("pledges.withdraw", obj=campaign, origin=origin)
    return Outcome("withdrawn", campaign)


def withdraw_by_phone(campaign: Campaign, number: str) -> Outcome:
    """A text from the phone withdraws its pledge (the text proves the number)."""
    return _withdraw(campaign, phone_digest(campaign, number), origin=Origin.SMS)


def withdraw_as_member(campaign: Campaign, user: User) -> Outcome:
    return _withdraw(campaign, _digest_for(campaign, user), origin=Origin.MEMBER)


def has_pledged(campaign: Campaign, user: User) -> bool:
    """Whether a signed-in member's own pledge stands (for their own page only)."""
    return Pledge.objects.filter(
        campaign=campaign, digest=_digest_for(campaign, user), withdrawn_at__isnull=True
    ).exists()


# The SMS reply ------------------------------------------------------------------------


def reply_by_text(
    campaign: Campaign | None, number: str, language: str, word: str, sid: str
) -> None:
    """Answer a pledge text. The number is sealed under the campaign's key, so shredding the
    campaign erases it from the outbox too, and the deliveries page shows none of it."""
    with transaction.atomic():
        live = campaign is not None and campaign.shredded_at is None
        deliveries = queue_message(
            Address(Channel.SMS, number, language),
            REPLY_TEMPLATE,
            {"campaign": campaign.pk if campaign else 0, "outcome": word},
            priority=Priority.URGENT,
            idempotency_key=f"pledge_reply:{sid}",
            audit=False,
            address_key=campaign.data_key if live else None,  # type: ignore[union-attr]
        )
        if live:
            _hide_hints(deliveries)


def _hide_hints(deliveries: list[Delivery]) -> None:
    """The deliveries page shows the last digits of an address; of a pledger's, nothing."""
    Delivery.objects.filter(pk__in=[d.pk for d in deliveries if d.recipient_id is None]).update(
        address_hint="•••"
    )


# The flip -----------------------------------------------------------------------------


def _tell_pledger(campaign: Campaign, pledge: Pledge) -> None:
    """Queue "it's on" for one pledger, once (the idempotency key names the pledge)."""
    member = crypto.unseal(pledge, "member")
    if member:
        user = User.objects.filter(pk=int(member), is_active=True).first()
        if user is not None:
            queue_messages(
                [user],
                REACHED_TEMPLATE,
                {"campaign": campaign.pk},
                priority=Priority.URGENT,
                idempotency_prefix=f"pledge_reached:{campaign.pk}",
            )
        return
    phone = crypto.unseal(pledge, "phone")
    if phone:
        deliveries = queue_message(
            Address(Channel.SMS, phone, pledge.language),
            REACHED_TEMPLATE,
            {"campaign": campaign.pk},
            priority=Priority.URGENT,
            idempotency_key=f"pledge_reached:{campaign.pk}:p{pledge.pk}",
            audit=False,
            address_key=campaign.data_key,
        )
        _hide_hints(deliveries)


# What queue_messages reads of a person: their channels, addresses and language.
REACH_FIELDS = (
    "is_active",
    "language",
    "email",
    "phone",
    "notify_email",
    "notify_sms",
    "notify_push",
    "notify_signal",
)


def _tell_pledgers(campaign: Campaign, pledges: list[Pledge]) -> None:
    """Queue "it's on" for every pledger at once: one batch for members (each on the channels
    they chose), one for numbers without an account (sealed under the campaign's key). The
    idempotency keys are `_tell_pledger`'s, so nobody is told twice."""
    key = campaign.data_key
    opened = crypto.Opened(key)  # the campaign's key unwrapped once, not per pledge
    members: dict[int, Pledge] = {}
    phones: list[tuple[str, Address]] = []
    for pledge in pledges:
        pledge.data_key = key  # one key for all: no query per pledge
        member = opened.unseal(pledge, "member")
        if member:
            members[int(member)] = pledge
            continue
        phone = opened.unseal(pledge, "phone")
        if phone:
            phones.append((f"p{pledge.pk}", Address(Channel.SMS, phone, pledge.language)))
    # Queued in parts (the database's limit of parameters); one pacing count and one start
    # for every part and channel, so texts, email and notifications interleave from the first.
    paced: dict[str, int] = {}
    ids = list(members)
    for start in range(0, len(ids), 5000):
        queue_messages(
            # What choosing their channels needs, not the whole account.
            User.objects.filter(pk__in=ids[start : start + 5000], is_active=True).only(
                *REACH_FIELDS
            ),
            REACHED_TEMPLATE,
            {"campaign": campaign.pk},
            priority=Priority.URGENT,
            idempotency_prefix=f"pledge_reached:{campaign.pk}",
            spread=paced,
            not_before=campaign.reached_at,
        )
    queue_sealed_messages(
        [(part, address, key) for part, address in phones],
        REACHED_TEMPLATE,
        {"campaign": campaign.pk},
        priority=Priority.URGENT,
        idempotency_prefix=f"pledge_reached:{campaign.pk}",
        spread=paced,
        not_before=campaign.reached_at,
    )


def coordinators_of(campaign: Campaign) -> QuerySet[User]:
    return User.objects.filter(
        is_active=True,
        memberships__committee=campaign.committee,
        memberships__is_coordinator=True,
        memberships__status=MemberStatus.FULL,
    ).distinct()


def reach_threshold(campaign: Campaign) -> bool:
    """Flip the campaign if enough pledges count: one audited step that tells every counted
    pledger and the coordinators at once, each in their language (urgent priority).

    Safe to call again: a flipped campaign is left alone, so a second pass queues nothing.
    """
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state != State.OPEN or timezone.now() >= campaign.deadline:
            return False
        # What telling them needs: each pledge's sealed identity and language (and the
        # campaign, which the related manager sets on each).
        pledges = list(
            campaign.counted()
            .order_by("pk")
            .only("campaign", "data_key", "member", "phone", "language")
        )
        if len(pledges) < campaign.needed:
            return False
        campaign.state = State.REACHED
        campaign.reached_at = timezone.now()
        campaign.save(update_fields=["state", "reached_at"])
        _tell_pledgers(campaign, pledges)
        queue_messages(
            coordinators_of(campaign),
            COORDINATOR_TEMPLATE,
            {"campaign": campaign.pk},
            priority=Priority.URGENT,
            idempotency_prefix=f"pledge_reached_coordinators:{campaign.pk}",
        )
        record(
            "pledges.threshold_reached",
            obj=campaign,
            committee=campaign.committee,
            pledgers=len(pledges),
            needed=campaign.needed,
        )
    return True


# Ending: cancel, fail, shred -----------------------------------------------------------


def counts(campaign: Campaign) -> dict[str, int]:
    """The numbers a coordinator sees: nobody's identity, only how many of each kind."""
    if campaign.shredded_at is not None:
        return {k: v for k, v in campaign.final_counts.items() if k != "units"}
    standing = {
        kind: Count("pk", filter=Q(withdrawn_at__isnull=True, standing=kind))
        for kind in (Standing.MEMBER, Standing.CONFIRMED, Standing.UNCONFIRMED)
    }
    tally = Pledge.objects.filter(campaign=campaign).aggregate(
        **standing, withdrawn=Count("pk", filter=Q(withdrawn_at__isnull=False))
    )
    return {"counted": campaign.counted().count(), **{k: int(v) for k, v in tally.items()}}


def unit_counts(campaign: Campaign) -> list[tuple[str, int]]:
    """Counted pledges per workplace of a sector campaign (counts, never who), with the
    pledges whose workplace the organisers do not know last. Empty for other scopes."""
    if campaign.scope != Scope.SECTOR:
        return []
    if campaign.shredded_at is not None:
        return [(str(name), int(n)) for name, n in campaign.final_counts.get("units", [])]
    per = dict(
        campaign.counted().values_list("unit").annotate(n=Count("pk")).values_list("unit", "n")
    )
    places = scope_workplaces(
        campaign.committee, campaign.scope, workplace=None, sector=campaign.sector
    )
    rows = [(str(place), int(per.pop(place.pk, 0))) for place in places]
    # A workplace whose organising ended after its pledges came keeps its count.
    ended = Workplace.objects.filter(pk__in=[pk for pk in per if pk is not None])
    rows += [(str(place), int(per.pop(place.pk, 0))) for place in ended]
    unknown = int(per.get(None, 0))
    if unknown:
        rows.append(("", unknown))  # the page says "workplace not known"
    return rows


def trend(campaign: Campaign, *, points: int = 30) -> list[tuple[str, int]]:
    """Counted pledges over time: (ISO time, count) from the opening to now or the end."""
    if campaign.shredded_at is not None:
        return [(str(t), int(n)) for t, n in campaign.final_trend]
    end = min(timezone.now(), campaign.closed_at or campaign.deadline)
    start = campaign.opened_at
    pledges = Pledge.objects.filter(campaign=campaign)
    if campaign.require_confirmation:
        pledges = pledges.exclude(standing=Standing.UNCONFIRMED)
    # One sweep over the sorted changes (a pledge adds one, its withdrawal takes it away), not
    # a count per point: the public page draws this for every visitor.
    changes = sorted(
        change
        for pledged, withdrawn in pledges.values_list("pledged_at", "withdrawn_at").iterator()
        for change in ([(pledged, 1)] + ([(withdrawn, -1)] if withdrawn else []))
    )
    step = max((end - start) / max(points - 1, 1), dt.timedelta(minutes=1))
    result: list[tuple[str, int]] = []
    moment, total, index = start, 0, 0
    for step_number in range(points):
        # A change counts once the moment passes it: pledged_at <= moment < withdrawn_at.
        while index < len(changes) and changes[index][0] <= moment:
            total += changes[index][1]
            index += 1
        # At the opening nobody had pledged yet (pledge times are rounded down to the hour).
        result.append((moment.isoformat(), 0 if step_number == 0 else total))
        if moment >= end:
            break
        moment = min(moment + step, end)
    return result


def _shred(campaign: Campaign) -> int:
    """Keep the counts and the trend, destroy the key, delete the pledge rows."""
    campaign.final_counts = {**counts(campaign), "units": unit_counts(campaign)}
    campaign.final_trend = [list(point) for point in trend(campaign)]
    deleted, _kinds = Pledge.objects.filter(campaign=campaign).delete()
    if campaign.data_key is not None:
        crypto.shred(campaign.data_key)
    campaign.shredded_at = timezone.now()
    campaign.save(update_fields=["final_counts", "final_trend", "shredded_at"])
    return deleted


@transaction.atomic
def cancel_campaign(campaign: Campaign, *, actor: User) -> Campaign:
    """A coordinator calls the campaign off: identities are shredded at once."""
    campaign = _locked(campaign)
    if campaign.state in (State.CANCELLED, State.FAILED):
        raise PledgeError(_("This campaign has already ended."), "ended")
    campaign.state = State.CANCELLED
    campaign.closed_at = timezone.now()
    campaign.save(update_fields=["state", "closed_at"])
    shredded = _shred(campaign) if campaign.shredded_at is None else 0
    record(
        "pledges.cancel_campaign",
        actor=actor,
        obj=campaign,
        committee=campaign.committee,
        shredded=shredded,
    )
    return campaign


def close_expired(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic pass: reach what is due, fail what ran out, shred what was kept long
    enough. Each campaign in its own transaction, with its own audit entry."""
    now = now or timezone.now()
    done = {"reached": 0, "failed": 0, "shredded": 0}
    for campaign in Campaign.objects.filter(state=State.OPEN, deadline__gt=now):
        done["reached"] += reach_threshold(campaign)
    for pk in Campaign.objects.filter(state=State.OPEN, deadline__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            campaign = Campaign.objects.select_for_update().get(pk=pk)
            if campaign.state != State.OPEN:
                continue
            campaign.state = State.FAILED
            campaign.closed_at = now
            campaign.save(update_fields=["state", "closed_at"])
            shredded = _shred(campaign)
            record(
                "pledges.campaign_failed",
                obj=campaign,
                committee=campaign.committee,
                shredded=shredded,
            )
            done["failed"] += 1
    kept_until = now - IDENTITY_RETENTION
    for pk in Campaign.objects.filter(
        state=State.REACHED, shredded_at__isnull=True, reached_at__lte=kept_until
    ).values_list("pk", flat=True):
        with transaction.atomic():
            campaign = Campaign.objects.select_for_update().get(pk=pk)
            if campaign.shredded_at is not None:
                continue
            shredded = _shred(campaign)
            record(
                "pledges.identities_shredded",
                obj=campaign,
                committee=campaign.committee,
                shredded=shredded,
            )
            done["shredded"] += 1
    return done


# Revealing (after the threshold only) ---------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Pledger:
    name: str
    phone: str
    origin: str
    standing: str


def pledgers(campaign: Campaign) -> list[Pledger]:
    """Who pledged, unsealed. Only for a reached campaign; the caller audits the reveal."""
    if campaign.state != State.REACHED or campaign.shredded_at is not None:
        return []
    found = []
    for pledge in campaign.counted().order_by("pk"):
        member = crypto.unseal(pledge, "member")
        user = User.objects.filter(pk=int(member)).first() if member else None
        found.append(
            Pledger(
                name=user.display_name if user else "",
                phone=crypto.unseal(pledge, "phone") or "",
                origin=pledge.get_origin_display(),
                standing=pledge.get_standing_display(),
            )
        )
    return found
