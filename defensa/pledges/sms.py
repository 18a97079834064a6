"""Pledging by text message: "PLEDGE K7Q2MX" / "PROMESA K7Q2MX" and "WITHDRAW" / "RETIRO".

notify hands us the texts whose first word is one of KEYWORDS (and only those: such a text
never becomes a report). A text proves the number, so a texted pledge counts as confirmed,
and a text confirms an earlier web pledge from the same phone. The answer goes back by the
delivery engine, in the keyword's language, its number sealed under the campaign's key.
"""

from __future__ import annotations

import re

from defensa.notify import keywords
from defensa.notify.inbound import InboundText, first_word
from defensa.pledges import access, actions
from defensa.pledges.models import Origin

# Words nobody begins a report with (a claimed word never becomes one), in each language.
PLEDGE_WORDS = keywords.table(
    {
        "PLEDGE": "en",
        "PROMESA": "es",
        "PROMETO": "es",
        "承诺": "zh-hans",
        "承諾": "zh-hant",
        "서약": "ko",
        "PANGAKO": "tl",
        "ԽՈՍՏՈՒՄ": "hy",
        "تعهد": "ar",
        "PWOMES": "ht",  # PWOMÈS
    }
)
WITHDRAW_WORDS = keywords.table(
    {
        "WITHDRAW": "en",
        "RETIRO": "es",
        "RETIRAR": "es",
        "撤回": "zh-hans",
        "철회": "ko",
    }
)
KEYWORDS = tuple(PLEDGE_WORDS) + tuple(WITHDRAW_WORDS)
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")


def handle_text(text: InboundText) -> None:
    """Take a pledge or a withdrawal by text, and answer it."""
    if not _SID.match(text.sid):
        return
    word = first_word(text.body)
    pledging = keywords.lookup(PLEDGE_WORDS, word)
    language = pledging or keywords.lookup(WITHDRAW_WORDS, word) or "en"
    parts = text.body.split()
    code = parts[1] if len(parts) > 1 else ""
    campaign = access.find_campaign(code)
    if campaign is None:
        actions.reply_by_text(None, text.number, language, "unknown", text.sid)
        return
    try:
        if pledging:
            outcome = actions.pledge_by_phone(
                campaign, text.number, origin=Origin.SMS, language=language
            ).word
        else:
            outcome = actions.withdraw_by_phone(campaign, text.number).word
    except actions.PledgeError as error:
        outcome = error.code
    actions.reply_by_text(campaign, text.number, language, outcome, text.sid)
