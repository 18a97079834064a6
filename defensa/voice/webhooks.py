"""Our voice webhooks' public URLs (checking them: defensa.notify.transports.twilio.webhook)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse


def absolute(name: str, **query: str) -> str:
    """Our public URL for a voice webhook, as the provider must call it (and sign it)."""
    base = settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/")
    url = f"{base}{reverse(name)}"
    if query:
        url += "?" + urlencode(sorted(query.items()))
    return url
