"""Inbound SMS keywords, honoured at once on every number: STOP / ALTO, START, HELP / AYUDA.

Carriers require them. An opt-out is written before the reply is sent, and the worker checks
opt-outs again right before every send, so a queued message to that number never goes out.
Nothing else of an inbound message is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from defensa.accounts.models import User
from defensa.notify import actions
from defensa.notify.models import Channel

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ALTO", "PARAR", "BAJA"}
START_WORDS = {"START", "UNSTOP", "YES", "SUBSCRIBE", "INICIO", "ALTA"}
HELP_WORDS = {"HELP", "INFO", "AYUDA"}
SPANISH_WORDS = {"ALTO", "PARAR", "BAJA", "INICIO", "ALTA", "AYUDA"}


@dataclass(frozen=True)
class KeywordReply:
    keyword: str  # "stop", "start", "help" or "" (not a keyword)
    reply: str
    language: str = ""  # the language the reply is written in


# A gateway cannot answer in its webhook's response (Twilio can): the reply is queued as this
# message instead, rendered at send time from the keyword alone.
REPLY_TEMPLATE = "sms_keyword_reply"
KEYWORDS = ("stop", "start", "help")


def _language(word: str, number: str) -> str:
    if word in SPANISH_WORDS:
        return "es"
    digits = actions.normalize_address(Channel.SMS, number)
    person = User.objects.filter(phone=digits).only("language").first()
    return person.language if person else settings.LANGUAGE_CODE


def keyword_reply(kind: str) -> str:
    """The answer to a keyword, in the active language."""
    name = settings.NETWORK_NAME
    if kind == "stop":
        return _("%(name)s: you will get no more text messages. Reply START to get them again.") % {
            "name": name
        }
    if kind == "start":
        return _("%(name)s: you will get text messages again. Reply STOP to stop.") % {"name": name}
    if settings.HOTLINE_NUMBER:
        return _(
            "%(name)s: alerts from your defense committee. Hotline: %(hotline)s. "
            "Reply STOP to stop."
        ) % {"name": name, "hotline": settings.HOTLINE_NUMBER}
    return _("%(name)s: alerts from your defense committee. Reply STOP to stop.") % {"name": name}


def reply_context(stored: dict[str, object]) -> dict[str, object]:
    """Context builder for REPLY_TEMPLATE (runs in the delivery's language)."""
    kind = stored.get("keyword")
    return {"reply": keyword_reply(kind) if kind in KEYWORDS else ""}  # type: ignore[arg-type]


def handle_inbound(number: str, body: str) -> KeywordReply:
    """Act on a keyword from `number`; return what to answer (empty if not a keyword)."""
    words = body.strip().upper().split()
    word = words[0].strip(".!¡") if words else ""
    if word in STOP_WORDS:
        kind = "stop"
        actions.opt_out(Channel.SMS, number)
    elif word in START_WORDS:
        kind = "start"
        actions.opt_in(Channel.SMS, number)
    elif word in HELP_WORDS:
        kind = "help"
    else:
        return KeywordReply("", "")
    language = _language(word, number)
    with translation.override(language):
        reply = keyword_reply(kind)
    return KeywordReply(kind, reply, language)
