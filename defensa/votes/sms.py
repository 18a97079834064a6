"""Voting by text message: "VOTE <code> <choice>" / "VOTO <code> <opción>".

The code is the voter's one-time code (it names the vote too); the choice is the option's
number, or YES / NO (SÍ / NO) on a yes-or-no vote or a strike authorisation. The answer goes
back by the delivery engine in the keyword's language, with the receipt code when the ballot
counted; its number and receipt are sealed under the vote's key.
"""

from __future__ import annotations

import re

from defensa.notify import keywords
from defensa.notify.inbound import InboundText, first_word
from defensa.votes import actions
from defensa.votes.models import Kind

VOTE_WORDS = keywords.table(
    {
        "VOTE": "en",
        "VOTO": "es",
        "VOTAR": "es",
        "投票": "zh-hans",  # the same in Traditional script
        "투표": "ko",
        "BOTO": "tl",
        "ՔՎԵ": "hy",
        "تصويت": "ar",
        "VOT": "ht",
    }
)
KEYWORDS = tuple(VOTE_WORDS)
# Yes and no in each language (compared without marks: SÍ is SI, KHÔNG is KHONG).
YES = keywords.table(
    dict.fromkeys(("YES", "Y", "SI", "S", "是", "네", "예", "OO", "CO", "ԱՅՈ", "نعم", "WI"), 1)
)
NO = keywords.table(
    dict.fromkeys(
        ("NO", "N", "否", "不", "아니요", "아니오", "HINDI", "KHONG", "ՈՉ", "لا", "NON"), 2
    )
)
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")


def parse(parts: list[str], kind: str) -> int:
    """The option's position from the text after the code, or 0."""
    answer = " ".join(parts).strip(" .!¡").upper()
    if answer.isdigit():
        return int(answer) if len(answer) <= 2 else 0
    if kind != Kind.OPTIONS:
        return keywords.lookup(YES, answer) or keywords.lookup(NO, answer) or 0
    return 0


def handle_text(text: InboundText) -> None:
    """Take a ballot by text, and answer it."""
    if not _SID.match(text.sid):
        return
    language = keywords.lookup(VOTE_WORDS, first_word(text.body)) or "en"
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
