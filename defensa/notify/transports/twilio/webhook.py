"""Checking a Twilio-compatible webhook: one decorator for the SMS webhooks (notify) and the
voice hotline's (voice). Public (the provider has no account) but authenticated: the
X-Twilio-Signature must match the URL and the POST parameters, or the caller answers 403 and
stores nothing (property 20).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from defensa.core.access import public
from defensa.notify.transports.twilio import signature_is_valid

# A provider's SID (message, call, recording): letters and digits, nothing else.
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


SignedView = Callable[..., HttpResponse]


def twilio_webhook(view: SignedView) -> Callable[..., HttpResponse]:
    """A Twilio-compatible webhook: public, CSRF-exempt, POST only, and signed.

    The view is called as `view(request, params, *args, **kwargs)` with the signed POST
    parameters; a request whose signature does not match gets 403 and the view never runs.
    """

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        params = signed_params(request)
        if params is None:
            return HttpResponseForbidden()
        return view(request, params, *args, **kwargs)

    return public(csrf_exempt(require_POST(checked)))
