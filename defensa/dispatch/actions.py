"""Dispatch actions: offer an incident to responders, their answers, widening rounds.

Each action is atomic and writes one audit record (through one timeline entry where the
incident's history changes). Alerts go through notify.queue_message in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from defensa.accounts.models import User
from defensa.audit.log import record
from defensa.committees.models import Committee, Membership, MemberStatus
from defensa.committees.teams import dispatchers_to_tell
from defensa.core import media
from defensa.core.tokens import derived_token, hash_token, is_plausible
from defensa.core.transitions import IllegalTransition
from defensa.dispatch.matching import nearest_responders, report_languages
from defensa.dispatch.models import (
    OFFER_STEPS,
    DispatchPolicy,
    MemberMessage,
    Offer,
    OfferStatus,
    Outcome,
    Reach,
    Round,
)
from defensa.evidence.photos import CleanPhoto
from defensa.evidence.store import save_media
from defensa.evidence.video import CleanVideo
from defensa.incidents import actions as incident_actions
from defensa.incidents.models import Incident, State, TimelineAction
from defensa.incidents.timeline import add_entry
from defensa.notify.actions import Address, queue_message, queue_messages
from defensa.notify.models import Channel as NotifyChannel
from defensa.notify.models import Delivery, Priority

OFFER_MESSAGE = "dispatch_offer"
WIDENED_MESSAGE = "dispatch_widened"
UNPLACED_MESSAGE = "dispatch_unplaced"
CROSSED_MESSAGE = "dispatch_crossed"
NOTE_LIMIT = 2000
# Findings that would dismiss an incident: one verifier's alone settles only a lone report.
NEGATIVE_FINDINGS = frozenset({Outcome.FALSE_ALARM, Outcome.NOT_FOUND})


@dataclass(frozen=True)
class Policy:
    offer_size: int
    accept_target: int
    escalate_minutes: int
    reach: str = Reach.RINGS
    own: bool = False  # the committee's own row (else the settings' defaults)


def policy_for(committee: Committee | None) -> Policy:
    """The committee's dispatch numbers: its own row, else the settings' defaults."""
    row = DispatchPolicy.objects.filter(committee=committee).first() if committee else None
    if row is not None:
        return Policy(row.offer_size, row.accept_target, row.escalate_minutes, row.reach, own=True)
    return Policy(
        settings.DISPATCH_OFFER_SIZE,
        settings.DISPATCH_ACCEPT_TARGET,
        settings.DISPATCH_ESCALATE_MINUTES,
    )


def reach_of(committee: Committee, policy: Policy) -> list[int]:
    """Whose verifiers a widening round may ask, by the committee's policy: its own; also
    its active sibling committees (the neighbours below the same parent); or also the
    committee above it (the next tier)."""
    pool = [committee.pk]
    if policy.reach == Reach.NEIGHBOURS and committee.parent_id is not None:
        pool += list(
            Committee.objects.filter(parent_id=committee.parent_id, archived_at__isnull=True)
            .exclude(pk=committee.pk)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    elif policy.reach == Reach.NEXT_TIER and committee.parent_id is not None:
        pool.append(committee.parent_id)
    return pool


@transaction.atomic
def set_dispatch_policy(
    committee: Committee,
    *,
    actor: User,
    offer_size: int,
    accept_target: int,
    escalate_minutes: int,
    reach: str,
) -> DispatchPolicy:
    """The committee's own dispatch policy (validated by the policy form; every number >= 1)."""
    if min(offer_size, accept_target, escalate_minutes) < 1 or reach not in Reach.values:
        raise ValueError("a dispatch policy needs positive numbers and a known reach")
    policy, _created = DispatchPolicy.objects.select_for_update().update_or_create(
        committee=committee,
        defaults={
            "offer_size": offer_size,
            "accept_target": accept_target,
            "escalate_minutes": escalate_minutes,
            "reach": reach,
            "changed_by": actor,
            "changed_at": timezone.now(),
        },
    )
    record(
        "dispatch.policy_set",
        actor=actor,
        obj=policy,
        committee=committee,
        offer_size=offer_size,
        accept_target=accept_target,
        escalate_minutes=escalate_minutes,
        reach=reach,
    )
    return policy


# Links --------------------------------------------------------------------------------


def offer_token(offer: Offer) -> str:
    """The link secret, derived from the offer (defensa/core/tokens.py): the worker recomputes
    it when it renders the alert, so the database and the outbox hold only its hash."""
    return derived_token("defensa.dispatch.offer", f"{offer.pk}:{offer.nonce}")


def find_offer(token: str) -> Offer | None:
    """The offer a link belongs to (usable or not), or None for an unknown link."""
    if not is_plausible(token):
        return None
    return (
        Offer.objects.select_related("incident", "incident__committee", "responder", "offered_by")
        .filter(token_hash=hash_token(token))
        .first()
    )


def offer_link(offer: Offer) -> str:
    from django.urls import reverse

    path = reverse("dispatch:respond", kwargs={"token": offer_token(offer)})
    return settings.SITE_URL.rstrip("/") + path


# Offering -----------------------------------------------------------------------------


def _new_offers(
    incident: Incident,
    n: int,
    tier: int,
    *,
    actor: Any,
    now: dt.datetime,
    committees: Sequence[int] = (),
) -> tuple[list[Offer], dict[str, int]]:
    """Write the round's offers and queue their alerts: a handful of statements, not 50 x 8.

    The offers go in one insert (ids returned), their link hashes in one update (the token
    is derived from the id), the alerts through `queue_messages` in one insert; the action's
    one audit record names the offers. When the round reaches other committees' verifiers
    (`committees`, by the policy's reach), each of those committees whose verifiers were
    asked has its dispatchers told: returned beside the offers, how many per committee id.
    """
    already = set(Offer.objects.filter(incident=incident).values_list("responder_id", flat=True))
    chosen = nearest_responders(incident, n, exclude=already, at=now, committees=committees)
    expires = now + dt.timedelta(hours=settings.DISPATCH_LINK_HOURS)
    offered_by = actor if getattr(actor, "pk", None) else None
    offers = Offer.objects.bulk_create(
        [
            Offer(
                incident=incident,
                responder=candidate.user,
                offered_by=offered_by,
                tier=tier,
                nonce=secrets.token_hex(16),
                # Unique placeholder until the id exists: the token is derived from the id.
                token_hash=secrets.token_hex(32),
                created_at=now,
                expires_at=expires,
            )
            for candidate in chosen
        ]
    )
    for offer in offers:
        offer.token_hash = hash_token(offer_token(offer))
    Offer.objects.bulk_update(offers, ["token_hash"])
    # One delivery per responder and channel, keyed by incident and responder (an offer is
    # unique per incident and responder), each with its own offer in its context.
    queue_messages(
        [candidate.user for candidate in chosen],
        OFFER_MESSAGE,
        contexts={offer.responder_id: {"offer": offer.pk} for offer in offers},
        priority=Priority.URGENT,
        idempotency_prefix=f"dispatch_offer:{incident.pk}",
    )
    Round.objects.create(incident=incident, tier=tier, started_at=now)
    others = [pk for pk in committees if pk != incident.committee_id]
    crossed = _tell_other_committees(incident, [c.user.pk for c in chosen], others, tier, now)
    return offers, crossed


def _tell_other_committees(
    incident: Incident, asked: list[int], others: list[int], tier: int, now: dt.datetime
) -> dict[str, int]:
    """Tell each other committee's dispatchers how many of their verifiers this round asked
    (someone asked elsewhere is someone they cannot send); how many, per committee id."""
    if not others or not asked:
        return {}
    full = Membership.objects.filter(user_id__in=asked, status=MemberStatus.FULL)
    home = set(full.filter(committee=incident.committee).values_list("user_id", flat=True))
    per: dict[int, set[int]] = {}
    for committee_id, user_id in full.filter(committee_id__in=others).values_list(
        "committee_id", "user_id"
    ):
        if user_id not in home:
            per.setdefault(committee_id, set()).add(user_id)
    for committee in Committee.objects.filter(pk__in=per).order_by("pk"):
        for person in dispatchers_to_tell(committee, now):
            queue_message(
                person,
                CROSSED_MESSAGE,
                {
                    "incident": incident.pk,
                    "committee": committee.pk,
                    "asked": len(per[committee.pk]),
                },
                priority=Priority.URGENT,
                idempotency_key=f"{CROSSED_MESSAGE}:{incident.pk}:{tier}:{person.pk}",
                audit=False,  # offer_to_nearest's one record names the committees
            )
    return {str(pk): len(people) for pk, people in sorted(per.items())}


def offer_to_nearest(
    incident: Incident,
    n: int | None = None,
    *,
    actor: Any,
    now: dt.datetime | None = None,
    widening: bool = False,
) -> list[Offer]:
    """Offer the incident to the nearest `n` on-duty verifiers not asked yet; it is verifying.

    The first call is round 1; each later call (by a dispatcher or by escalation) is the next
    round, farther out. A round widened by escalation asks as far as the committee's policy
    reaches (reach_of). Raises IllegalTransition when the incident cannot be verified now.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Incident.objects.select_for_update(of=("self",))
            .select_related("committee")
            .get(pk=incident.pk)
        )
        if locked.state not in (State.NEW, State.VERIFYING):
            raise IllegalTransition(
                f"{locked.state} incidents are not offered to verifiers", code="not_verifiable"
            )
        policy = policy_for(locked.committee)
        size = n if n is not None else policy.offer_size
        last = Round.objects.filter(incident=locked).order_by("-tier").first()
        tier = (last.tier + 1) if last else 1
        pool = reach_of(locked.committee, policy) if widening and locked.committee else []
        offers, crossed = _new_offers(locked, size, tier, actor=actor, now=now, committees=pool)
        # What the request did, in ids and counts (never names), for the timeline and for
        # the words the console shows (dispatch.feedback): how many were asked, and how many
        # of them speak each language of the reports.
        languages = sorted(report_languages(locked))
        detail = {
            "tier": tier,
            "offers": [o.pk for o in offers],
            "wanted": size,
            "asked": len(offers),
            "speak": {
                code: sum(1 for o in offers if o.responder.language == code) for code in languages
            },
        }
        if crossed:
            # Committee ids and how many of each one's verifiers were asked.
            detail["crossed"] = crossed
        if locked.state == State.NEW:
            # One timeline entry and one audit record for the whole step.
            incident_actions.start_verification(locked, actor=actor, detail=detail)
        else:
            add_entry(
                locked,
                TimelineAction.NOTE,
                actor=actor,
                detail={"step": "offer_widened", **detail},
                audit_action="dispatch.offer_to_nearest",
                tier=tier,
                offers=[o.pk for o in offers],
                asked=len(offers),
                crossed=[int(pk) for pk in crossed],  # the committees (counts: the detail)
            )
        incident.state = State.VERIFYING
        return offers


# A responder's answers ----------------------------------------------------------------


def step_offer(offer: Offer, step: str, now: dt.datetime, **fields: Any) -> Offer:
    """The one guarded transition of an offer (inside the caller's transaction): lock the
    row, refuse with IllegalTransition (code: the link's problem, or the step's refusal) when
    the step is not possible now, else move it, stamp the time, and save with `fields`."""
    rule = OFFER_STEPS[step]
    locked = (
        Offer.objects.select_for_update(of=("self",))
        .select_related("incident", "responder")
        .get(pk=offer.pk)
    )
    problem = locked.link_problem(now)
    if problem:
        raise IllegalTransition(f"offer {locked.pk}: link {problem}", code=problem)
    if locked.status != rule.before:
        raise IllegalTransition(
            f"offer {locked.pk}: {step} from {locked.status}", code=rule.refused
        )
    if rule.while_verifying and locked.incident.state != State.VERIFYING:
        raise IllegalTransition(f"offer {locked.pk}: incident settled", code="settled")
    locked.status = rule.after
    setattr(locked, rule.stamp, now)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save(update_fields=["status", rule.stamp, *fields])
    return locked


def accept_offer(offer: Offer, *, now: dt.datetime | None = None) -> Offer:
    """The responder is going."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = step_offer(offer, "accept", now)
        add_entry(
            locked.incident,
            TimelineAction.NOTE,
            actor=locked.responder,
            detail={"step": "offer_accepted", "offer": locked.pk},
            audit_action="dispatch.accept_offer",
            audit_obj=locked,
        )
        return locked


def decline_offer(offer: Offer, *, now: dt.datetime | None = None) -> Offer:
    """The responder cannot go. The link stops working."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = step_offer(offer, "decline", now)
        record(
            "dispatch.decline_offer",
            actor=locked.responder,
            obj=locked,
            incident=locked.incident_id,
        )
        return locked


def mark_arrived(offer: Offer, *, now: dt.datetime | None = None) -> Offer:
    """The responder is on site."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = step_offer(offer, "arrive", now)
        add_entry(
            locked.incident,
            TimelineAction.NOTE,
            actor=locked.responder,
            detail={"step": "responder_arrived", "offer": locked.pk},
            audit_action="dispatch.mark_arrived",
            audit_obj=locked,
        )
        return locked


def report_finding(
    offer: Offer,
    outcome: str,
    *,
    note: str = "",
    photos: Sequence[CleanPhoto] = (),
    videos: Sequence[CleanVideo] = (),
    now: dt.datetime | None = None,
) -> Offer:
    """The verifier's finding on site, with their photos and videos (already stripped).

    It moves the incident when it still can: "confirmed" goes through confirm_and_respond,
    exactly as a dispatcher's confirmation does. A second verifier's finding after the
    incident was settled (or while others still look, for "not found") is kept on the
    timeline as a note without moving the incident. So is a "false alarm" or "not found" on
    an incident that more than one report supports: one verifier alone cannot dismiss what
    several people reported; the finding waits on the console for a dispatcher's verdict
    (`awaits_dispatcher`; docs/rapid-response.md). The media's digests are sealed in the
    audit record of the finding's timeline entry.
    """
    if outcome not in Outcome.values:
        raise ValueError(f"unknown outcome {outcome!r}")
    now = now or timezone.now()
    note = note.strip()[:NOTE_LIMIT]
    written: list[str] = []
    try:
        return _finding(offer, outcome, note, photos, videos, now, written)
    except BaseException:
        # Nothing committed, so no file may stay behind either.
        media.remove(written)
        raise


def _finding(
    offer: Offer,
    outcome: str,
    note: str,
    photos: Sequence[CleanPhoto],
    videos: Sequence[CleanVideo],
    now: dt.datetime,
    written: list[str],
) -> Offer:
    with transaction.atomic():
        locked = step_offer(offer, "finish", now, outcome=outcome)
        incident = Incident.objects.select_for_update().get(pk=locked.incident_id)
        media = save_media(offer=locked, photos=photos, videos=videos, written=written)
        detail: dict[str, Any] = {"offer": locked.pk, "finding": outcome}
        if media:
            detail["media"] = [m.pk for m in media]
            detail["sha256"] = [m.sha256 for m in media]
        others_looking = (
            Offer.objects.going()
            .filter(incident=incident, outcome="")
            .exclude(pk=locked.pk)
            .exists()
        )
        actor = locked.responder
        awaits_dispatcher = (
            incident.state == State.VERIFYING
            and outcome in NEGATIVE_FINDINGS
            and incident.report_count > 1
        )
        if incident.state == State.VERIFYING and outcome == Outcome.CONFIRMED:
            confirm_and_respond(incident, actor=actor, note=note, detail=detail)
        elif awaits_dispatcher:
            add_entry(
                incident,
                TimelineAction.NOTE,
                actor=actor,
                note=note,
                detail={"step": "finding", "awaits_dispatcher": True, **detail},
                audit_action="dispatch.report_finding",
                audit_obj=locked,
                finding=outcome,
                awaits_dispatcher=True,
                media=detail.get("media", []),
                sha256=detail.get("sha256", []),
            )
        elif incident.state == State.VERIFYING and outcome == Outcome.FALSE_ALARM:
            incident_actions.mark_false_alarm(incident, actor=actor, note=note, detail=detail)
        elif incident.state == State.VERIFYING and not others_looking:
            incident_actions.mark_not_found(incident, actor=actor, note=note, detail=detail)
        else:
            add_entry(
                incident,
                TimelineAction.NOTE,
                actor=actor,
                note=note,
                detail={"step": "finding", **detail},
                audit_action="dispatch.report_finding",
                audit_obj=locked,
                finding=outcome,
                media=detail.get("media", []),
                sha256=detail.get("sha256", []),
            )
        return locked


def confirm_and_respond(
    incident: Incident, *, actor: Any, note: str = "", detail: dict[str, Any] | None = None
) -> int:
    """Confirm the incident and set off the committee's response rules, in one transaction."""
    from defensa.dispatch.response import respond_to_confirmed

    with transaction.atomic():
        incident_actions.confirm_incident(incident, actor=actor, note=note, detail=detail)
        return respond_to_confirmed(incident, actor=actor)


# Escalation ---------------------------------------------------------------------------


def dispatchers_of(committee: Committee | None) -> list[User]:
    if committee is None:
        return []
    return [
        m.user
        for m in Membership.objects.filter(
            committee=committee,
            status=MemberStatus.FULL,
            is_dispatcher=True,
            user__is_active=True,
        ).select_related("user")
    ]


def widen_round(round_: Round, *, now: dt.datetime) -> list[Offer]:
    """Too few accepted in time: ask the next nearest, and tell the committee's dispatchers."""
    with transaction.atomic():
        locked = Round.objects.select_for_update().get(pk=round_.pk)
        if locked.widened_at is not None:
            return []
        locked.widened_at = now
        locked.save(update_fields=["widened_at"])
        incident = Incident.objects.select_related("committee").get(pk=locked.incident_id)
        policy = policy_for(incident.committee)
        offers = offer_to_nearest(incident, policy.offer_size, actor=None, now=now, widening=True)
        going = Offer.objects.going().filter(incident=incident).count()
        for dispatcher in dispatchers_of(incident.committee):
            queue_message(
                dispatcher,
                WIDENED_MESSAGE,
                {
                    "incident": incident.pk,
                    "tier": locked.tier + 1,
                    "asked": len(offers),
                    "going": going,
                },
                priority=Priority.URGENT,
                idempotency_key=f"dispatch_widened:{incident.pk}:{locked.tier}:{dispatcher.pk}",
                audit=False,  # offer_to_nearest's record names this step
            )
        return offers


def escalate_offers(*, now: dt.datetime | None = None) -> int:
    """One pass: expire stale offers and widen every round that waited too long. Idempotent.

    Returns how many rounds were widened.
    """
    now = now or timezone.now()
    with transaction.atomic():
        stale = Offer.objects.filter(status=OfferStatus.OFFERED, expires_at__lte=now)
        ids = list(stale.values_list("pk", flat=True))
        if ids:
            Offer.objects.filter(pk__in=ids).update(status=OfferStatus.EXPIRED)
            record("dispatch.expire_offers", offers=ids)
    widened = 0
    open_rounds = Round.objects.filter(
        widened_at__isnull=True, incident__state=State.VERIFYING
    ).select_related("incident__committee")
    for round_ in open_rounds:
        if Round.objects.filter(incident=round_.incident_id, tier__gt=round_.tier).exists():
            continue  # a dispatcher already asked more people by hand
        policy = policy_for(round_.incident.committee)
        if round_.started_at + dt.timedelta(minutes=policy.escalate_minutes) > now:
            continue
        going = Offer.objects.going().filter(incident=round_.incident_id).count()
        if going >= policy.accept_target:
            continue
        try:
            widen_round(round_, now=now)
        except IllegalTransition:
            continue  # settled by someone between the query and the widening
        widened += 1
    return widened


def alert_unplaced(*, now: dt.datetime | None = None) -> int:
    """One pass: tell the dispatchers of each committee about open incidents that nobody has
    placed for DEFENSA_UNPLACED_ALERT_MINUTES: those on duty or on shift now, else all of them
    (a message nobody sees helps nobody). Once per incident and dispatcher; idempotent.

    Returns how many incidents were alerted on this pass.
    """
    now = now or timezone.now()
    since = now - dt.timedelta(minutes=settings.UNPLACED_ALERT_MINUTES)
    waiting = Incident.objects.filter(
        state=State.NEW,
        merged_into__isnull=True,
        lat__isnull=True,
        created_at__lte=since,
        committee__isnull=False,
    ).select_related("committee")
    alerted = 0
    for incident in waiting:
        prefix = f"{UNPLACED_MESSAGE}:{incident.pk}:"
        if Delivery.objects.filter(idempotency_key__startswith=prefix).exists():
            continue  # told once already (whoever was on duty then)
        people = dispatchers_to_tell(incident.committee, now)
        keys = [f"{prefix}{person.pk}" for person in people]
        if not people:
            continue
        with transaction.atomic():
            for person, key in zip(people, keys, strict=True):
                queue_message(
                    person,
                    UNPLACED_MESSAGE,
                    {"incident": incident.pk},
                    priority=Priority.URGENT,
                    idempotency_key=key,
                    audit=False,  # the record below names who was told
                )
            record(
                "dispatch.unplaced_alerted",
                obj=incident,
                committee=incident.committee_id,
                dispatchers=[p.pk for p in people],
            )
        alerted += 1
    return alerted


@transaction.atomic
def keep_member_text(
    member: User,
    committee: Committee,
    body: str,
    *,
    text_key: str,
    reply_to: str,
    alert: str,
    reply: str,
) -> MemberMessage:
    """A member's text that answers nothing open: kept for their committee's dispatchers (the
    console shows it as theirs), the dispatchers on duty told (`alert`), the member answered
    by text at `reply_to` (`reply`): dispatch/sms.py."""
    now = timezone.now()
    message = MemberMessage.objects.create(
        committee=committee, member=member, body=body, text_key=text_key, created_at=now
    )
    told = []
    for dispatcher in dispatchers_to_tell(committee, now):
        if dispatcher.pk != member.pk:
            told += queue_message(
                dispatcher,
                alert,
                {"message": message.pk},
                priority=Priority.URGENT,
                idempotency_key=f"{alert}:{message.pk}:{dispatcher.pk}",
                audit=False,
            )
    queue_message(
        Address(NotifyChannel.SMS, reply_to, member.language),
        reply,
        {"committee": committee.pk},
        priority=Priority.URGENT,
        idempotency_key=f"{reply}:{text_key[:32]}",
        audit=False,
    )
    record(
        "dispatch.member_text",
        actor=member,
        obj=message,
        committee=committee.pk,
        deliveries=[d.pk for d in told],
    )
    return message
