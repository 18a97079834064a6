"""Texts from our own verifiers: answers to an offer, not new reports.

notify asks `match_text` (registered in DispatchConfig.ready) before a text can become a report.
A text from the phone of a member who was offered an incident recently is theirs to that offer
(the newest, when there are several). A whole text that is one of the reply words below
accepts, declines or reports a finding through the same actions as the one-tap page, with
the same checks (a switched-off account's offers are dead, an expired offer says so); anything
else goes on the incident's timeline as a message from that member. Every answer goes back
by text, in the member's language, through the delivery engine (template `dispatch_sms_reply`).
A member's text that answers nothing open (no offer here, no check-in or emergency plan in the
apps that match those) is a message to their committee's dispatchers, shown on the console
(`match_member_text`).

The reply words (also in the offer text, docs/rapid-response.md): accept `SI`/`SÍ`/`1`,
decline `NO`/`2`; on site, `3` or `CONFIRMADO`/`CONFIRMED`, `4` or `NADA`/`NOTHING` (not
found), `5` or `FALSA`/`FALSE` (false alarm); yes and no in the other languages of the
neighbourhood too (네/아니요, OO/HINDI, CÓ/KHÔNG…). `YES` is not one: carriers and notify take it
as the START keyword (re-subscribe), so it never reaches us.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from defensa.accounts.models import User
from defensa.audit.log import record
from defensa.committees.forms import normalize_phone
from defensa.committees.models import Committee, Membership, MemberStatus
from defensa.core.transitions import IllegalTransition
from defensa.dispatch import actions, messages
from defensa.dispatch.models import GOING, MemberMessage, Offer, OfferStatus, Outcome
from defensa.incidents.models import TimelineAction, TimelineEntry
from defensa.incidents.timeline import add_entry
from defensa.notify import keywords
from defensa.notify.actions import Address, queue_message
from defensa.notify.inbound import InboundText
from defensa.notify.models import Channel, Delivery, Priority
from defensa.reports.routing import committee_owning

REPLY_TEMPLATE = "dispatch_sms_reply"
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")

ACCEPT = "accept"
DECLINE = "decline"
WORDS: dict[str, str] = {
    # The numbers work in every language; yes and no in each (the whole text, marks aside).
    **dict.fromkeys(("是", "好", "네", "예", "OO", "CO", "ԱՅՈ", "نعم", "WI"), ACCEPT),
    **dict.fromkeys(("不", "否", "아니요", "아니오", "HINDI", "KHONG", "ՈՉ", "لا", "NON"), DECLINE),
    "SI": ACCEPT,
    "1": ACCEPT,
    "NO": DECLINE,
    "2": DECLINE,
    "3": Outcome.CONFIRMED,
    "CONFIRMADO": Outcome.CONFIRMED,
    "CONFIRMED": Outcome.CONFIRMED,
    "4": Outcome.NOT_FOUND,
    "NADA": Outcome.NOT_FOUND,
    "NOTHING": Outcome.NOT_FOUND,
    "5": Outcome.FALSE_ALARM,
    "FALSA": Outcome.FALSE_ALARM,
    "FALSE": Outcome.FALSE_ALARM,
}
NOTE_LIMIT = actions.NOTE_LIMIT


def command(body: str) -> str:
    """The reply word's meaning when the whole text is one (accents, case and punctuation
    aside: "Sí." is SI), else "" (then the text is a message to the dispatcher)."""
    return WORDS.get(keywords.bare(body.strip()), "")


def e164(number: str) -> str:
    """The number in E.164 by the members' own rule (committees.forms), or ""."""
    try:
        return normalize_phone(number)
    except ValidationError:
        return ""


def recent_window() -> dt.timedelta:
    """How far back a member's offers count as theirs to answer: their links' lifetime again,
    so a late "SI" to an expired offer is told so rather than becoming a report."""
    return dt.timedelta(hours=2 * settings.DISPATCH_LINK_HOURS)


def offer_for(number: str, now: dt.datetime, *, finding: bool = False) -> Offer | None:
    """The newest recent offer (not declined) of the member whose phone sent the text. A
    finding (`finding=True`) belongs to an offer they accepted: the newest of those, when
    there is one, even if a newer offer waits for an answer."""
    sender = e164(number)
    if not sender:
        return None
    recent = (
        Offer.objects.select_related("incident", "responder")
        .filter(created_at__gte=now - recent_window())
        .exclude(status=OfferStatus.DECLINED)
        .exclude(responder__phone="")
        .order_by("-created_at", "-id")
    )
    # Phones are kept as typed (normalised on the forms): compare in E.164. Recent offers are
    # a handful, so they are walked here rather than every account.
    mine = [o for o in recent if e164(o.responder.phone) == sender]
    going = [o for o in mine if o.status in GOING] if finding else []
    return (going or mine or [None])[0]


def _clean(body: str) -> str:
    # Control characters (other than newlines) say nothing and break logs and exports.
    kept = "".join(ch for ch in body if ch == "\n" or unicodedata.category(ch)[0] != "C")
    return kept.strip()[:NOTE_LIMIT]


def _seen(key: str, offer: Offer) -> bool:
    """Whether this text was dealt with already: its answer was queued, or (for a member who
    texted STOP, who gets no answer) its message is on a timeline."""
    return (
        Delivery.objects.filter(idempotency_key__startswith=f"{key}:").exists()
        or TimelineEntry.objects.filter(
            incident_id=offer.incident_id, detail__text=key.rsplit(":", 1)[1]
        ).exists()
    )


def match_text(text: InboundText) -> bool:
    """Claim the text if it comes from a member with a recent offer; act on it and answer."""
    now = timezone.now()
    body = _clean(text.body)
    word = command(body)
    offer = offer_for(text.number, now, finding=word in Outcome.values)
    if offer is None:
        return False
    if not _SID.match(text.sid) or not body:
        return True  # ours, but nothing a member could have meant: nothing to do
    key = "dispatch_sms_reply:" + hashlib.sha256(text.sid.encode()).hexdigest()[:32]
    if _seen(key, offer):
        return True  # the provider retried a text we already answered
    member = offer.responder
    with transaction.atomic():
        if not member.is_active:
            # A switched-off account's offers are dead, its words included.
            result = _refused(offer, word, "expired")
        elif word:
            result = _act(offer, word, now)
        else:
            result = _message(offer, body, key.rsplit(":", 1)[1])
        queue_message(
            Address(Channel.SMS, text.number, member.language),
            REPLY_TEMPLATE,
            {"result": result, "offer": offer.pk},
            priority=Priority.URGENT,
            idempotency_key=key,
            audit=False,
        )
    return True


def _act(offer: Offer, word: str, now: dt.datetime) -> str:
    """The step the word asks for, through the one-tap page's actions; the result's code."""
    try:
        with transaction.atomic():
            if word == ACCEPT:
                actions.accept_offer(offer, now=now)
                return "accepted"
            if word == DECLINE:
                actions.decline_offer(offer, now=now)
                return "declined"
            current = Offer.objects.get(pk=offer.pk)
            if current.status == OfferStatus.ACCEPTED:
                # A finding by text says they are there: on site first, as on the page.
                actions.mark_arrived(offer, now=now)
            actions.report_finding(offer, word, now=now)
            return "finding"
    except IllegalTransition as refused:
        return _refused(offer, word, REFUSALS.get(str(refused.code), "refused"))


# The refusals the reply explains (step_offer's codes), as the reply's result.
REFUSALS = {
    "expired": "expired",
    "used": "used",
    "answered": "answered",
    "settled": "settled",
    "not accepted": "not_accepted",
    "not on site": "not_accepted",
}


def _refused(offer: Offer, word: str, code: str) -> str:
    """Nothing changed; the member is told why, and the refusal is on the record."""
    record(
        "dispatch.sms_answer_refused",
        actor=offer.responder,
        obj=offer,
        incident=offer.incident_id,
        answer=word or "message",
        reason=code,
    )
    return code


def _message(offer: Offer, body: str, text_key: str) -> str:
    """Anything else: a message from the member on the incident, for the dispatcher."""
    add_entry(
        offer.incident,
        TimelineAction.NOTE,
        actor=offer.responder,
        note=body,
        detail={"step": "member_message", "offer": offer.pk, "channel": "sms", "text": text_key},
        audit_action="dispatch.member_message",
        audit_obj=offer,
    )
    return "message"


def reply_context(stored: dict) -> dict:  # type: ignore[type-arg]
    offer = Offer.objects.select_related("incident").get(pk=stored["offer"])
    return {"result": stored["result"], "reference": offer.incident.reference}


# A text from one of our members that nothing open claimed (no recent offer, no check-in, no
# emergency plan): a message from that member to their committee's dispatchers, on the
# console, never an anonymous report. Asked last (notify.inbound, `last=True`).

MEMBER_TEXT_REPLY = messages.MEMBER_TEXT_REPLY
MEMBER_TEXT_ALERT = messages.MEMBER_TEXT_ALERT


def member_for(number: str) -> User | None:
    """The active member (of any committee) whose phone sent the text, or None."""
    sender = e164(number)
    if not sender:
        return None
    # Phones are normalised on the forms; the last four digits narrow the walk to a handful.
    candidates = (
        User.objects.filter(is_active=True, memberships__isnull=False)
        .filter(phone__endswith=sender[-4:])
        .distinct()
        .order_by("pk")
    )
    return next((u for u in candidates if e164(u.phone) == sender), None)


def committee_for_member_text(member: User, to: str) -> Committee | None:
    """The committee whose dispatchers see the text: the one owning the number it was sent to,
    when the member belongs to it; else the member's first committee (full memberships
    first). Archived committees take nothing."""
    memberships = Membership.objects.filter(
        user=member, committee__archived_at__isnull=True
    ).select_related("committee")
    owner = committee_owning(to)
    if owner is not None and memberships.filter(committee=owner).exists():
        return owner
    first = memberships.order_by(
        Case(When(status=MemberStatus.FULL, then=Value(0)), default=Value(1)), "joined_at"
    ).first()
    return first.committee if first else None


def match_member_text(text: InboundText) -> bool:
    """Claim a text from one of our members; keep it for their dispatchers and answer."""
    member = member_for(text.number)
    if member is None:
        return False
    body = _clean(text.body)
    if not _SID.match(text.sid) or not body:
        return True  # ours, but nothing a member could have meant
    text_key = hashlib.sha256(text.sid.encode()).hexdigest()
    if MemberMessage.objects.filter(text_key=text_key).exists():
        return True  # the provider retried
    committee = committee_for_member_text(member, text.to)
    if committee is None:
        return False
    actions.keep_member_text(
        member,
        committee,
        body,
        text_key=text_key,
        reply_to=text.number,
        alert=MEMBER_TEXT_ALERT,
        reply=MEMBER_TEXT_REPLY,
    )
    return True
