"""What a broadcast's deliveries say, built from the broadcast's id at send time."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from defensa.notify import messages as notify_messages

TEMPLATE = "broadcast"


def text_for(broadcast: Any, language: str) -> str:
    """The text in `language`; for a language nobody wrote in, the text in the committee's
    first language (then its next ones), else the default language, else any text written."""
    texts = broadcast.texts or {}
    committee = getattr(broadcast, "committee", None)
    order = [language, *(getattr(committee, "languages", None) or []), settings.LANGUAGE_CODE]
    for code in order:
        if (texts.get(code) or "").strip():
            return str(texts[code])
    return next((str(t) for t in texts.values() if t), "")


def sms_body(broadcast: Any, language: str) -> str:
    """The exact text message a person reading `language` gets (what segments are counted on)."""
    with translation.override(language):
        footer = _("Reply STOP to stop.")
        return f"{settings.NETWORK_NAME}: {text_for(broadcast, language).strip()}\n{footer}"


def _context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.broadcasts.models import Broadcast

    broadcast = Broadcast.objects.select_related("committee").get(pk=stored["broadcast"])
    language = translation.get_language() or settings.LANGUAGE_CODE
    return {
        "broadcast_sms": sms_body(broadcast, language),
        "broadcast_text": text_for(broadcast, language).strip(),
        "committee_name": broadcast.committee.name,
    }


def register() -> None:
    notify_messages.register_context(TEMPLATE, _context)
    notify_messages.register_label(TEMPLATE, gettext_lazy("A broadcast from your committee"))
    notify_messages.register_compartment(notify_messages.GENERAL, TEMPLATE)
