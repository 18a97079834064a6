"""Shared pieces of the subscriber tests: texts through the real signed webhook."""

from __future__ import annotations

import itertools

from defensa.notify.transports.twilio import signature
from defensa.testing.peers.twilio import AUTH_TOKEN

BASE = "https://defensa.example.org"
PATH = "/notify/twilio/inbound/"
_sids = itertools.count(1)


def text(client, body: str, *, number: str):  # type: ignore[no-untyped-def]
    params = {
        "From": number,
        "To": "+15005550006",
        "Body": body,
        "MessageSid": f"SM{next(_sids):032d}",
    }
    header = signature(AUTH_TOKEN, f"{BASE}{PATH}", params)
    return client.post(PATH, params, HTTP_X_TWILIO_SIGNATURE=header)
