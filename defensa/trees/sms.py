"""Confirming a cascade by text: a short "OK" / "SÍ" from a number with an open cascade.

notify asks its matchers about every text that is not a keyword before it becomes a report.
This one claims a text only when its sender has an unconfirmed place in an open cascade AND
the text is a short confirmation ("OK", "YES", "SI", "RECIBIDO"... at most three words):
anything else from the same number (someone reporting a raid in the middle of a drill) goes
on to become a report as always.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from defensa.committees.forms import normalize_phone
from defensa.notify import keywords
from defensa.notify.inbound import InboundText, first_word
from defensa.trees import actions
from defensa.trees.models import Via

CONFIRM_WORDS = keywords.table(
    dict.fromkeys(
        (
            *(
                "OK",
                "OKAY",
                "YES",
                "Y",
                "SI",
                "RECEIVED",
                "RECIBIDO",
                "CONFIRM",
                "CONFIRMO",
                "LISTO",
            ),
            # Yes and "received" in the other languages of the neighbourhood.
            *("收到", "好", "是", "네", "확인", "OO", "NATANGGAP", "CO"),
            *("ԱՅՈ", "ՍՏԱՑԱ", "نعم", "تم", "WI", "RESEVWA"),
        ),
        True,
    )
)
MAX_WORDS = 3


def is_confirmation(body: str) -> bool:
    return len(body.split()) <= MAX_WORDS and bool(keywords.lookup(CONFIRM_WORDS, first_word(body)))


def match_reply(text: InboundText) -> bool:
    """Confirm every open cascade place of the sender; True if the text was that."""
    if not is_confirmation(text.body):
        return False
    try:
        number = normalize_phone(text.number)
    except ValidationError:
        return False
    reaches = list(actions.open_reaches_of(number))
    for reach in reaches:
        actions.confirm_reach(reach, via=Via.SMS)
    return bool(reaches)
