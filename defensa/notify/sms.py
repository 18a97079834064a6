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


def _language(word: str, number: str) -> str:
    if word in SPANISH_WORDS:
        return "es"
    digits = actions.normalize_address(Channel.SMS, number)
    person = User.objects.filter(phone=digits).only("language").first()
    return person.language if person else settings.LANGUAGE_CODE


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
    name = settings.NETWORK_NAME
    with translation.override(_language(word, number)):
        if kind == "stop":
            reply = _(
                "%(name)s: you will get no more text messages. Reply START to get them again."
            ) % {"name": name}
        elif kind == "start":
            reply = _("%(name)s: you will get text messages again. Reply STOP to stop.") % {
                "name": name
            }
        elif settings.HOTLINE_NUMBER:
            reply = _(
                "%(name)s: alerts from your defense committee. Hotline: %(hotline)s. "
                "Reply STOP to stop."
            ) % {"name": name, "hotline": settings.HOTLINE_NUMBER}
        else:
            reply = _("%(name)s: alerts from your defense committee. Reply STOP to stop.") % {
                "name": name
            }
    return KeywordReply(kind, reply)
