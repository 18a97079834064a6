"""RSVP by text message: "RSVP K7Q2MX" / "VOY K7Q2MX".

"Voy" also begins ordinary Spanish sentences ("voy caminando y veo a ICE..."), which must
still become reports. So events register a *matcher*, not a keyword: a text is ours only
when it is exactly a keyword and a code, and, for the Spanish words, the code is an
event's. Everything else goes on to the report handlers.

A public event takes any number; a members-only event only a member's own number (anyone
else hears "we know no event with that code", so its code does not prove it exists). An
event that ended or was called off says so, and nothing is stored. The answer goes back by
the delivery engine, in the keyword's language.
"""

from __future__ import annotations

import re

from defensa.events import access, actions
from defensa.events.models import Channel
from defensa.notify.inbound import InboundText, first_word

RSVP_WORDS = {"RSVP": "en", "VOY": "es", "ASISTO": "es"}
# Words nobody starts a report with: such a text is an RSVP even with a wrong code.
UNAMBIGUOUS = {"RSVP"}
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")


def match_text(text: InboundText) -> bool:
    """Claim an RSVP text (and answer it); leave any other text alone."""
    word = first_word(text.body)
    parts = text.body.split()
    if word not in RSVP_WORDS or len(parts) != 2:
        return False
    code = parts[1].strip(".,!¡:;")
    event = access.find_event(code)
    if event is None and word not in UNAMBIGUOUS:
        return False
    if not _SID.match(text.sid):
        return True
    language = RSVP_WORDS[word]
    if event is None:
        actions.reply_by_text(None, text.number, language, "unknown", text.sid)
        return True
    try:
        _rsvp, outcome = actions.rsvp_by_phone(
            event, text.number, channel=Channel.SMS, language=language
        )
    except actions.EventError as error:
        outcome = error.code
        if outcome == "unknown":
            event = None
    actions.reply_by_text(event, text.number, language, outcome, text.sid)
    return True
