"""Reports by text message: the hotline number's inbound texts become reports.

notify answers STOP / START / HELP itself and hands every other text to `handle_text` (see
`ReportsConfig.ready`). The first text from a phone opens a report through receive_report()
and is answered, in the sender's language, with the reference code and a rights link; texts
from the same phone within SMS_THREAD_MINUTES add to that report. The phone number itself is
never stored here: only a keyed hash, kept a day (SmsText).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from defensa.audit.log import record
from defensa.core import geo
from defensa.core.crypto.digests import digest_key, keyed_digest
from defensa.incidents.models import Category
from defensa.notify.actions import Address, normalize_address, queue_message
from defensa.notify.inbound import InboundText
from defensa.notify.models import Channel as NotifyChannel
from defensa.notify.models import Priority
from defensa.reports.actions import TEXT_LIMITS, InvalidReport, key_digest, receive_report
from defensa.reports.models import Channel, LocationKind, Report, SmsText
from defensa.reports.routing import committee_owning

REPLY_TEMPLATE = "report_received"
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")
_ZIP = re.compile(r"(?<!\d)(\d{5})(?!\d)")

# Language: two short word lists, counted. Crude on purpose (no model, nothing leaves the
# server); a text with more Spanish than English words, or any Spanish-only letter, is Spanish.
SPANISH = frozenset(
    [
        "hay",
        "el",
        "la",
        "los",
        "las",
        "en",
        "de",
        "del",
        "y",
        "con",
        "esta",
        "estan",
        "están",
        "aqui",
        "aquí",
        "migra",
        "agentes",
        "redada",
        "calle",
        "esquina",
        "carro",
        "carros",
        "camioneta",
        "camionetas",
        "trabajo",
        "casa",
        "ayuda",
        "por",
        "favor",
        "que",
        "se",
        "un",
        "una",
        "llevaron",
        "detenido",
        "detenidos",
        "policia",
        "policía",
        "cerca",
        "avenida",
        "son",
        "muchos",
        "hombres",
    ]
)
ENGLISH = frozenset(
    [
        "the",
        "at",
        "is",
        "are",
        "and",
        "with",
        "on",
        "in",
        "of",
        "there",
        "here",
        "agents",
        "raid",
        "street",
        "corner",
        "car",
        "cars",
        "van",
        "vans",
        "work",
        "home",
        "help",
        "please",
        "they",
        "took",
        "detained",
        "police",
        "near",
        "avenue",
        "many",
        "men",
        "a",
        "an",
    ]
)
_SPANISH_LETTERS = re.compile(r"[ñáéíóúü¿¡]", re.IGNORECASE)

# Cross streets: "X and Y", "X & Y", "X y Y", "X con Y", "corner of X and Y",
# "esquina de X y Y". A street is one to three words next to the connector, ending at a common
# word or punctuation. Unless an anchor comes first ("corner of", "at", "en", ...), one side must
# look like a street ("5th", "Main St", "Calle Soto"), so "agents and vehicles" is no place.
_CONNECTORS = frozenset({"and", "&", "y", "con"})
_ANCHORS = frozenset({"at", "en", "on", "of", "de", "near", "cerca", "corner", "esquina"})
_STREETISH = re.compile(
    r"^(\d+(st|nd|rd|th)?|st|street|ave|avenue|blvd|boulevard|rd|road|dr|drive|way|pl|ln|"
    r"calle|avenida|av|bulevar|camino)$",
    re.IGNORECASE,
)
_NOT_STREET = frozenset(SPANISH | ENGLISH | {"now", "ahora", "right", "ice"}) - _ANCHORS
_MAX_STREET_WORDS = 3


@dataclass(frozen=True)
class Place:
    zip_code: str = ""
    cross_streets: str = ""


def detect_language(text: str) -> str:
    """ "es" or "en" from word lists (see above); the network's default on a tie."""
    words = re.findall(r"[a-záéíóúüñ]+", text.lower())
    es = sum(w in SPANISH for w in words) + (2 if _SPANISH_LETTERS.search(text) else 0)
    en = sum(w in ENGLISH for w in words)
    if es > en:
        return "es"
    if en > es:
        return "en"
    return "es" if settings.LANGUAGE_CODE.startswith("es") else "en"


def _bare(word: str) -> str:
    return word.strip(".,;:!?¡¿()\"'").lower()


def _cross_streets(words: list[str], at: int) -> str:
    """The streets around the connector at words[at], or "" if they do not look like streets."""
    before: list[str] = []
    anchored = False
    for word in reversed(words[max(0, at - _MAX_STREET_WORDS - 2) : at]):
        bare = _bare(word)
        if word[-1:] in ",.;:!?" and before or not bare:
            break
        if bare in _ANCHORS:
            anchored = True
            break
        if bare in _NOT_STREET or len(before) == _MAX_STREET_WORDS:
            break
        before.insert(0, word.strip(".,;:!?¡¿()\"'"))
    after: list[str] = []
    for word in words[at + 1 : at + 1 + _MAX_STREET_WORDS]:
        bare = _bare(word)
        if not bare or bare in _NOT_STREET or bare in _ANCHORS or bare in _CONNECTORS:
            break
        after.append(word.strip(".,;:!?¡¿()\"'"))
        if word[-1:] in ",.;:!?":
            break
    if not before or not after or any(_ZIP.fullmatch(w) for w in before + after):
        return ""
    streetish = any(_STREETISH.match(_bare(w)) for w in before + after)
    if not (anchored or streetish):
        return ""
    return f"{' '.join(before)} & {' '.join(after)}"


def read_place(text: str) -> Place:
    """A ZIP code and/or cross streets, when the text gives them plainly."""
    zip_match = next((m.group(1) for m in _ZIP.finditer(text) if geo.is_zip_format(m.group(1))), "")
    words = text.split()
    cross = ""
    for i, word in enumerate(words):
        if word.lower() in _CONNECTORS:
            cross = _cross_streets(words, i)
            if cross:
                break
    return Place(zip_code=zip_match, cross_streets=cross[: TEXT_LIMITS["location_text"]])


SENDER_DIGEST = "reports.sms_sender"


def sender_digest(number: str) -> str:
    """A keyed hash of the sender's number (HMAC under a digest key wrapped by the master key,
    defensa/core/crypto/digests.py), never the number."""
    normal = normalize_address(NotifyChannel.SMS, number)
    return keyed_digest(digest_key(SENDER_DIGEST), normal)


def _clean(body: str) -> str:
    # Control characters (other than newlines) say nothing and break logs and exports.
    kept = "".join(ch for ch in body if ch == "\n" or unicodedata.category(ch)[0] != "C")
    return kept.strip()[: TEXT_LIMITS["description"]]


def report_data(body: str, language: str) -> dict[str, Any]:
    place = read_place(body)
    kind = LocationKind.CROSS_STREETS if place.cross_streets and not place.zip_code else ""
    return {
        "category": Category.SIGHTING,
        "location_kind": kind,
        "location_text": place.cross_streets,
        "zip_code": place.zip_code,
        "description": body,
        "language": language,
    }


def thread_window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.SMS_THREAD_MINUTES)


def handle_text(text: InboundText) -> None:
    """Turn one inbound text into a report, or add it to the sender's open thread."""
    body = _clean(text.body)
    if not _SID.match(text.sid) or not body:
        return
    message_key = key_digest(f"sms:{text.sid}")
    if SmsText.objects.filter(message_key=message_key).exists():
        return  # the provider retried a text we already have
    sender = sender_digest(text.number)
    try:
        with transaction.atomic():
            previous = (
                SmsText.objects.select_related("report")
                .filter(sender=sender, received_at__gte=timezone.now() - thread_window())
                .order_by("-received_at", "-id")
                .first()
            )
            if previous is not None:
                _follow_up(previous.report, body, message_key=message_key, sender=sender)
            else:
                _open_report(text, body, message_key=message_key, sender=sender)
    except (IntegrityError, InvalidReport):
        # IntegrityError: the same text, retried concurrently, committed first. InvalidReport
        # cannot happen with what report_data builds; if it ever does, nothing was written.
        return


def _open_report(text: InboundText, body: str, *, message_key: str, sender: str) -> Report:
    language = detect_language(body)
    report = receive_report(
        report_data(body, language),
        channel=Channel.SMS,
        idempotency_key=f"sms:{text.sid}",
        committee=committee_owning(text.to),
    ).report
    SmsText.objects.create(message_key=message_key, sender=sender, report=report)
    queue_message(
        Address(NotifyChannel.SMS, text.number, language),
        REPLY_TEMPLATE,
        {"reference": report.reference},
        priority=Priority.URGENT,
        idempotency_key=f"report_received:{report.pk}",
    )
    return report


def _follow_up(report: Report, body: str, *, message_key: str, sender: str) -> None:
    locked = Report.objects.select_for_update().get(pk=report.pk)
    joined = f"{locked.description}\n{body}" if locked.description else body
    # A report's description has a limit; what does not fit is dropped from the end, and the
    # audit record says so.
    locked.description = joined[: TEXT_LIMITS["description"]]
    locked.save(update_fields=["description"])
    SmsText.objects.create(message_key=message_key, sender=sender, report=locked)
    record(
        "reports.sms_follow_up",
        obj=locked,
        incident=locked.incident_id,
        truncated=len(joined) > TEXT_LIMITS["description"],
    )


def reply_context(stored: dict[str, Any]) -> dict[str, Any]:
    """The rights link for the reply, from the public address the provider calls us at."""
    base = settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/")
    return {"rights_url": f"{base}{reverse('pages:rights')}" if base else ""}
