"""Checking a Twilio-compatible webhook: the same signature helper the SMS webhooks use."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from defensa.notify.transports.twilio import signature_is_valid

SID = re.compile(r"^[A-Za-z0-9]{10,64}$")


def signed_params(request: HttpRequest) -> dict[str, str] | None:
    """The POST parameters when X-Twilio-Signature matches them and the URL; else None."""
    params = {key: request.POST.get(key, "") for key in request.POST}
    base = settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/")
    # The URL the provider called, as it saw it (we may sit behind a TLS proxy).
    url = f"{base}{request.get_full_path()}"
    given = request.headers.get("X-Twilio-Signature", "")
    if not base or not signature_is_valid(settings.TWILIO_AUTH_TOKEN, url, params, given):
        return None
    return params


def absolute(name: str, **query: str) -> str:
    """Our public URL for a voice webhook, as the provider must call it (and sign it)."""
    base = settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/")
    url = f"{base}{reverse(name)}"
    if query:
        url += "?" + urlencode(sorted(query.items()))
    return url
