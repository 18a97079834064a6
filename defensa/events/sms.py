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
from defensa.notify import keywords
from defensa.notify.inbound import InboundText, first_word

RSVP_WORDS = keywords.table(
    {
        "RSVP": "en",
        "VOY": "es",
        "ASISTO": "es",
        "参加": "zh-hans",
        "參加": "zh-hant",
        "참석": "ko",
        "DADALO": "tl",
        "ԿԳԱՄ": "hy",
        "ساحضر": "ar",  # سأحضر, with or without its hamza
    }
)
# Words nobody starts a report with: such a text is an RSVP even with a wrong code.
UNAMBIGUOUS = {"RSVP"}
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")


def match_text(text: InboundText) -> bool:
    """Claim an RSVP text (and answer it); leave any other text alone."""
    parts = text.body.split()
    language = keywords.lookup(RSVP_WORDS, first_word(text.body))
    if language is None or len(parts) != 2:
        return False
    code = parts[1].strip(".,!¡:;")
    event = access.find_event(code)
    if event is None and first_word(text.body) not in UNAMBIGUOUS:
        return False
    if not _SID.match(text.sid):
        return True
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
