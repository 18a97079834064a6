"""Subscribing by text message: "ALERTA 90033" / "ALERT 90033".

The keyword is a notify.inbound matcher, not a claimed first word: "ALERTA, la migra está en
la escuela" is a report and must stay one. A text is ours only when it is the keyword alone or
the keyword and one word holding a digit (a ZIP code, or a mistyped one we answer about).
A text proves the number, so the subscription is confirmed at once.
The answer goes back by the delivery engine, in the keyword's language. STOP / ALTO is
notify's (carriers require it): its opt-out ends the subscription (actions.end_for_address).

A number texting the keyword over and over gets one subscription and few answers: a repeat
for a subscription it has is answered once a day, and any number gets at most ANSWERS answers
an hour from this process (a text with a bad ZIP code twenty times: three answers).
"""

from __future__ import annotations

import re
import unicodedata

from defensa.notify import keywords
from defensa.notify.actions import is_opted_out, opt_in
from defensa.notify.inbound import InboundText
from defensa.notify.models import Channel
from defensa.reports.flood import FloodGate
from defensa.subscribers import actions

SUBSCRIBE_WORDS = keywords.table(
    {
        "ALERTA": "es",
        "ALERTAS": "es",
        "ALERT": "en",
        "ALERTS": "en",
        "警报": "zh-hans",
        "警報": "zh-hant",
        "알림": "ko",
        "ALERTO": "tl",
        "ԱՀԱԶԱՆԳ": "hy",
        "تنبيه": "ar",
        "ALET": "ht",  # ALÈT
    }
)
_DIGIT = re.compile(r"[0-9]")
ANSWERS = 3
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")
# Kept in this process's memory only, keyed by the number's keyed digest (never the number).
answers = FloodGate(limit=ANSWERS, window_s=3600)


def ours(body: str) -> tuple[str, str] | None:
    """(the keyword's language, the ZIP code or "") when the text is the keyword alone or the
    keyword and one word holding a digit; else None."""
    parts = body.split()
    language = keywords.lookup(SUBSCRIBE_WORDS, parts[0]) if 1 <= len(parts) <= 2 else None
    # Any script's digits count (an Arabic-Indic ZIP code is the same ZIP code).
    zip_code = "".join(str(unicodedata.digit(ch, ch)) for ch in parts[1]) if len(parts) > 1 else ""
    if language is None or (zip_code and not _DIGIT.search(zip_code)):
        return None
    return language, zip_code.strip(keywords.PUNCTUATION)


def handle_text(text: InboundText) -> bool:
    """Subscribe the number for the ZIP code it texted, and answer it; False (not ours) for
    any other text."""
    found = ours(text.body)
    if found is None or not _SID.match(text.sid):
        return False
    language, zip_code = found
    try:
        tag = actions.phone_digest(text.number)
    except actions.SubscribeError:
        return True  # not a phone number we could answer
    subscription = None
    try:
        # The person texted to get alerts: an earlier STOP of theirs gives way (as START).
        if is_opted_out(Channel.SMS, text.number):
            opt_in(Channel.SMS, text.number)
        outcome = actions.subscribe_by_text(text.number, zip_code, language=language)
        subscription, word = outcome.subscription, outcome.word
        if not actions.should_answer(outcome):
            return True
    except actions.SubscribeError as error:
        word = error.code
    if answers.allow(tag):
        actions.answer_text(subscription, text.number, language, word, text.sid)
    return True
