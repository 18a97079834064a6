"""RSVP by text message: "RSVP K7Q2MX" / "VOY K7Q2MX".

notify hands us the texts whose first word is one of KEYWORDS (and only those: such a text
never becomes a report). A public event takes any number; a members-only event only a
member's own number (anyone else hears "we know no event with that code", so its code does
not prove it exists). An event that ended or was called off says so. The answer goes back by
the delivery engine, in the keyword's language.
"""

from __future__ import annotations

import re

from defensa.events import access, actions
from defensa.events.models import Channel
from defensa.notify.inbound import InboundText, first_word

RSVP_WORDS = {"RSVP": "en", "VOY": "es", "ASISTO": "es"}
KEYWORDS = tuple(RSVP_WORDS)
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")


def handle_text(text: InboundText) -> None:
    if not _SID.match(text.sid):
        return
    language = RSVP_WORDS.get(first_word(text.body), "en")
    parts = text.body.split()
    event = access.find_event(parts[1] if len(parts) > 1 else "")
    if event is None:
        actions.reply_by_text(None, text.number, language, "unknown", text.sid)
        return
    try:
        _rsvp, outcome = actions.rsvp_by_phone(
            event, text.number, channel=Channel.SMS, language=language
        )
    except actions.EventError as error:
        outcome = error.code
        if outcome == "unknown":
            event = None
    actions.reply_by_text(event, text.number, language, outcome, text.sid)
