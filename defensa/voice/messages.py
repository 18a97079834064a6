"""Context for the voicemail alert, built at send time from the id the Delivery stores."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from defensa.notify import messages as notify_messages

LANGUAGE_NAMES = {"en": "English", "es": "español"}


def _voicemail_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.voice.models import Voicemail
    from defensa.voice.prompts import language_name

    voicemail = (
        Voicemail.objects.select_related("report", "hotline__committee")
        .filter(pk=stored["voicemail"])
        .first()
    )
    base = settings.SITE_URL.rstrip("/")
    if voicemail is None:  # purged before the alert went out: say only that there was one
        return {"reference": "", "seconds": None, "caller_language": "", "link": ""}
    committee = voicemail.hotline.committee
    return {
        # Never the caller's number: the link leads to it, masked, behind sign-in and audit.
        "reference": voicemail.report.reference if voicemail.report else "",
        "seconds": voicemail.duration_s,
        "caller_language": LANGUAGE_NAMES.get(voicemail.language)
        or language_name(voicemail.language)
        or voicemail.language,
        "committee": committee.name,
        "link": base + reverse("voice:voicemail", kwargs={"pk": voicemail.pk}),
    }


def register() -> None:
    notify_messages.register_context("voice_voicemail", _voicemail_context)
    notify_messages.register_compartment(notify_messages.GENERAL, "voice_voicemail")
