"""Joining by text message: "JOIN <code>" / "UNIRME <code>" from the invited number.

A coordinator invites a member without a smartphone by their number (an SMS-only
membership, docs/accounts.md); the invitation text carries a code. notify hands us the texts
whose first word is one of KEYWORDS (and only those: such a text never becomes a report).
The text proves the number: the code must be the one sent to that very number (compared by
keyed digest). The answer goes back by the delivery engine, in the invitation's language
when the code was for this number, else in the keyword's.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from defensa.committees import actions
from defensa.committees.forms import normalize_phone
from defensa.core.tokens import is_short_code, normal_code
from defensa.notify.inbound import InboundText, first_word

JOIN_WORDS = {"JOIN": "en", "UNIRME": "es", "UNIRSE": "es"}
KEYWORDS = tuple(JOIN_WORDS)
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")


def parse(body: str) -> str:
    """The code in a JOIN text, normalised ("join abcd-2345" -> "ABCD2345"), or "" when the
    text is not a JOIN text or what follows the keyword cannot be a code."""
    if first_word(body) not in JOIN_WORDS:
        return ""
    parts = body.strip().split(maxsplit=1)
    code = normal_code(parts[1]) if len(parts) > 1 else ""
    return code if is_short_code(code, actions.SMS_CODE_LENGTH) else ""


def handle_text(text: InboundText) -> None:
    """Join the committee whose code the text carries, and answer."""
    if not _SID.match(text.sid):
        return
    language = JOIN_WORDS.get(first_word(text.body), "en")
    code = parse(text.body)
    try:
        phone = normalize_phone(text.number)
    except ValidationError:
        phone = ""
    if not code or not phone:
        result = actions.TextJoin("unknown")
    else:
        result = actions.join_by_text(phone, code)
    if result.invitation is not None and result.invitation.language:
        language = result.invitation.language
    actions.reply_to_join(text.number, language, result, text.sid)
