"""Check-ins by text: a companion without mobile data answers with one word, not a report.

notify asks `match_text` (registered in AccompanimentConfig.ready) before a text can become a
report. A text from the phone of a confirmed companion whose appointment is around now (from
when its check-in opens until its link stops working), when the whole text is one of the
words below, takes the same step as the check-in page (accompaniment/actions/checkins.py,
`check_in_by_text`). Any other text goes on to the other matchers; from a member it becomes a
message to their dispatchers (dispatch/sms.py), never an anonymous report.

The words (docs/accompaniment.md): arrived `LLEGUE`/`LLEGAMOS`/`ARRIVED`; out safe
`SALIMOS`/`SALIO`/`SAFE`; detained `DETENIDO`/`DETENIDA`/`DETAINED`; rescheduled
`REPROGRAMADO`/`REPROGRAMADA`/`RESCHEDULED`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from defensa.accompaniment.actions import check_in_by_text
from defensa.accompaniment.models import Companion, CompanionStatus, Outcome, Status
from defensa.committees.forms import normalize_phone
from defensa.notify.inbound import InboundText
from defensa.notify.models import Delivery

ARRIVED = "arrived"
WORDS: dict[str, str] = {
    "LLEGUE": ARRIVED,
    "LLEGAMOS": ARRIVED,
    "ARRIVED": ARRIVED,
    "SALIMOS": Outcome.OUT_SAFE,
    "SALIO": Outcome.OUT_SAFE,
    "SAFE": Outcome.OUT_SAFE,
    "DETENIDO": Outcome.DETAINED,
    "DETENIDA": Outcome.DETAINED,
    "DETAINED": Outcome.DETAINED,
    "REPROGRAMADO": Outcome.RESCHEDULED,
    "REPROGRAMADA": Outcome.RESCHEDULED,
    "RESCHEDULED": Outcome.RESCHEDULED,
}
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")


def step_of(body: str) -> str:
    """The step the whole text names (accents, case and punctuation aside), else ""."""
    bare = unicodedata.normalize("NFKD", body.strip().upper())
    bare = "".join(ch for ch in bare if not unicodedata.combining(ch)).strip(".,!¡?¿:; ")
    return WORDS.get(bare, "")


def _e164(number: str) -> str:
    try:
        return normalize_phone(number)
    except ValidationError:
        return ""


def open_checkin_for(number: str, now: dt.datetime) -> Companion | None:
    """The confirmed companion, sending from their own phone, whose appointment is nearest
    now among those open for a check-in; or None."""
    sender = _e164(number)
    if not sender:
        return None
    opens = dt.timedelta(minutes=settings.ACCOMPANIMENT_CHECKIN_OPENS_MINUTES)
    lasts = dt.timedelta(hours=settings.ACCOMPANIMENT_LINK_HOURS_AFTER)
    candidates = (
        Companion.objects.filter(
            status=CompanionStatus.CONFIRMED,
            volunteer__is_active=True,
            appointment__starts_at__lte=now + opens,
            appointment__ends_at__gte=now - lasts,
        )
        .exclude(appointment__status=Status.CANCELLED)
        .exclude(volunteer__phone="")
        .select_related("volunteer", "appointment__committee", "appointment__place")
    )
    mine = [c for c in candidates if _e164(c.volunteer.phone) == sender]
    if not mine:
        return None
    return min(mine, key=lambda c: (abs(c.appointment.starts_at - now), c.pk))


def match_text(text: InboundText) -> bool:
    """Claim a companion's one-word check-in; take the step and answer."""
    step = step_of(text.body)
    if not step:
        return False
    companion = open_checkin_for(text.number, timezone.now())
    if companion is None:
        return False
    if not _SID.match(text.sid):
        return True
    text_key = hashlib.sha256(text.sid.encode()).hexdigest()[:32]
    if Delivery.objects.filter(
        idempotency_key__startswith=f"accompaniment_sms_reply:{text_key}"
    ).exists():
        return True  # the provider retried a text we already answered
    check_in_by_text(companion, step, reply_to=text.number, text_key=text_key)
    return True
