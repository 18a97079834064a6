"""Voting by text message: "VOTE <code> <choice>" / "VOTO <code> <opción>".

The code is the voter's one-time code (it names the vote too); the choice is the option's
number, or YES / NO (SÍ / NO) on a yes-or-no vote or a strike authorisation. The answer goes
back by the delivery engine in the keyword's language, with the receipt code when the ballot
counted; its number and receipt are sealed under the vote's key.
"""

from __future__ import annotations

import re

from defensa.notify.inbound import InboundText, first_word
from defensa.votes import actions
from defensa.votes.models import Kind

VOTE_WORDS = {"VOTE": "en", "VOTO": "es", "VOTAR": "es"}
KEYWORDS = tuple(VOTE_WORDS)
YES = {"YES", "Y", "SI", "SÍ", "S"}
NO = {"NO", "N"}
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")


def parse(parts: list[str], kind: str) -> int:
    """The option's position from the text after the code, or 0."""
    answer = " ".join(parts).strip(" .!¡").upper()
    if answer.isdigit():
        return int(answer) if len(answer) <= 2 else 0
    if kind != Kind.OPTIONS:
        if answer in YES:
            return 1
        if answer in NO:
            return 2
    return 0


def handle_text(text: InboundText) -> None:
    """Take a ballot by text, and answer it."""
    if not _SID.match(text.sid):
        return
    language = VOTE_WORDS.get(first_word(text.body), "en")
    parts = text.body.split()
    code = parts[1] if len(parts) > 1 else ""
    voter = actions.find_voter(code)
    if voter is None:
        actions.reply_by_text(None, text.number, language, "code", text.sid)
        return
    vote = voter.vote
    receipt = ""
    try:
        cast = actions.cast_ballot(code, parse(parts[2:], vote.kind), origin="sms")
    except actions.VoteError as error:
        word = error.code
    else:
        word, receipt = "counted", cast.receipt
    actions.reply_by_text(vote, text.number, language, word, text.sid, receipt)
