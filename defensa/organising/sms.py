"""Taking part by text message: "ACTION K7Q2M" / "ACCION K7Q2M".

notify hands us the texts whose first word is one of KEYWORDS (and only those: such a text
never becomes a report). The text proves the number: the worker whose phone digest matches, in
the action's unit, is recorded as having taken part. The answer goes back by the delivery
engine, in the keyword's language.
"""

from __future__ import annotations

import re

from defensa.notify import keywords
from defensa.notify.inbound import InboundText, first_word
from defensa.organising import access, actions

WORDS = keywords.table(
    {
        "ACTION": "en",
        "ACCION": "es",
        "ACCIÓN": "es",
        "行动": "zh-hans",
        "行動": "zh-hant",
        "행동": "ko",
        "AKSYON": "tl",
        "ԳՈՐԾՈՂՈՒԹՅՈՒՆ": "hy",
    }
)
KEYWORDS = tuple(WORDS)
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")


def handle_text(text: InboundText) -> None:
    """Record a participation by text, and answer it."""
    if not _SID.match(text.sid):
        return
    language = keywords.lookup(WORDS, first_word(text.body)) or "en"
    parts = text.body.split()
    test = access.find_structure_test(parts[1] if len(parts) > 1 else "")
    if test is None:
        actions.reply_by_text(None, text.number, language, "unknown", text.sid)
        return
    try:
        outcome = actions.take_part_by_phone(test, text.number)
    except actions.OrganisingError as error:
        outcome = error.code
    actions.reply_by_text(test, text.number, language, outcome, text.sid)
