"""Texts about a triggered emergency plan: answers to something open, not new reports.

notify asks `match_text` (registered in CasesConfig.ready) before a text can become a report.
While a member's plan has been triggered and its case is open, a text from the member's own
phone or from one of the plan's contacts (the people the plan told, who may well text back)
goes on the case's timeline for the legal team, who are told (cases/plans.py,
`keep_plan_text`). Only the contacts get an answer: the member's phone may be in other hands.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils import timezone

from defensa.cases import plans
from defensa.cases.models import OPEN_STATUSES, Entry, PlanTrigger
from defensa.committees.forms import normalize_phone
from defensa.core import crypto
from defensa.notify.inbound import InboundText
from defensa.notify.models import Channel

# A triggered plan's case stays open for weeks; texts about it are matched for the first
# days, while the family and the member are most likely to write back.
MATCH_DAYS = 14
NOTE_LIMIT = 1600
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")


def _e164(number: str) -> str:
    try:
        return normalize_phone(number)
    except ValidationError:
        return ""


def open_trigger_for(number: str, now: dt.datetime) -> tuple[PlanTrigger, str, str] | None:
    """The newest open trigger this number belongs to, who sent it (member or contact), and
    the language to answer in; or None."""
    sender = _e164(number)
    if not sender:
        return None
    triggers = (
        PlanTrigger.objects.filter(
            cancelled_at__isnull=True,
            case__status__in=OPEN_STATUSES,
            created_at__gte=now - dt.timedelta(days=MATCH_DAYS),
        )
        .select_related("plan__owner", "case__committee")
        .order_by("-created_at", "-id")
    )
    # Open triggers are a handful: walked here, their contacts unsealed one plan at a time.
    for trigger in triggers:
        owner = trigger.plan.owner
        if owner.phone and _e164(owner.phone) == sender:
            return trigger, plans.FROM_MEMBER, owner.language
        try:
            contacts = plans.plan_contacts(trigger.plan)
        except crypto.CryptoError:
            continue
        for contact in contacts:
            if contact.get("channel") in (Channel.SMS, Channel.SIGNAL) and (
                _e164(str(contact.get("address", ""))) == sender
            ):
                return trigger, plans.FROM_CONTACT, str(contact.get("language", ""))
    return None


def _clean(body: str) -> str:
    kept = "".join(ch for ch in body if ch == "\n" or unicodedata.category(ch)[0] != "C")
    return kept.strip()[:NOTE_LIMIT]


def match_text(text: InboundText) -> bool:
    """Claim a text about an open plan's case; put it on the case and tell the legal team."""
    found = open_trigger_for(text.number, timezone.now())
    if found is None:
        return False
    trigger, sender, language = found
    body = _clean(text.body)
    if not _SID.match(text.sid) or not body:
        return True  # about the case, but nothing anyone could have meant
    text_key = hashlib.sha256(text.sid.encode()).hexdigest()[:32]
    if Entry.objects.filter(case_id=trigger.case_id, detail__text=text_key).exists():
        return True  # the provider retried
    plans.keep_plan_text(
        trigger, sender, body, text_key=text_key, reply_to=text.number, language=language
    )
    return True
