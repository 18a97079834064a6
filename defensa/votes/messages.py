"""Context for vote messages, built at send time from the ids a Delivery stores.

A voter's one-time code and receipt are stored sealed under the vote's key and opened here,
when the message is rendered; once the vote closes the key is shredded and a message still
waiting says the vote is closed instead. No message names another voter.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from defensa.notify import messages as notify_messages


def _vote_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.votes.actions import unseal_word
    from defensa.votes.models import Vote

    vote = Vote.objects.filter(pk=stored.get("vote") or 0).select_related("data_key").first()
    if vote is None:
        return {"vote": None, "outcome": stored.get("outcome", "code")}
    code = unseal_word(vote, str(stored.get("sealed") or ""), "code")
    receipt = unseal_word(vote, str(stored.get("receipt") or ""), "receipt")
    closes = timezone.localtime(vote.closes_at)
    return {
        "vote": vote,
        "question": vote.question(),
        "practice": vote.practice,
        "code": code,
        "vote_code": vote.code,
        "receipt": receipt,
        "options": [(o.position, o.label()) for o in vote.options.all()],
        "yes_no": vote.kind != "options",
        "closes": formats.date_format(closes, "DATETIME_FORMAT"),
        "outcome": stored.get("outcome", ""),
        "link": settings.SITE_URL.rstrip("/") + reverse("votes:ballot", kwargs={"code": vote.code}),
    }


def register() -> None:
    for key in ("vote_code", "vote_sms_reply"):
        notify_messages.register_context(key, _vote_context)
    # A voter's code, and the answer to a voter's text: nobody else's business.
    notify_messages.register_compartment(notify_messages.SEALED, "vote_code", "vote_sms_reply")
    notify_messages.register_label("vote_code", _("Your one-time code for a vote"))
    notify_messages.register_label("vote_sms_reply", _("The answer to a vote by text"))
