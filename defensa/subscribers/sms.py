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

from defensa.notify.actions import is_opted_out, opt_in
from defensa.notify.inbound import InboundText, first_word
from defensa.notify.models import Channel
from defensa.reports.flood import FloodGate
from defensa.subscribers import actions

SUBSCRIBE_WORDS = {"ALERTA": "es", "ALERTAS": "es", "ALERT": "en", "ALERTS": "en"}
_OURS = re.compile(r"^\s*(ALERTAS?|ALERTS?)[.,!:;]*(\s+\S*[0-9]\S*)?\s*$", re.IGNORECASE)
ANSWERS = 3
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")
# Kept in this process's memory only, keyed by the number's keyed digest (never the number).
answers = FloodGate(limit=ANSWERS, window_s=3600)


def handle_text(text: InboundText) -> bool:
    """Subscribe the number for the ZIP code it texted, and answer it; False (not ours) for
    any other text."""
    if not _OURS.match(text.body) or not _SID.match(text.sid):
        return False
    language = SUBSCRIBE_WORDS.get(first_word(text.body), "en")
    parts = text.body.split()
    zip_code = parts[1].strip(".,!¡:;") if len(parts) > 1 else ""
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
