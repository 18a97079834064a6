"""Shared pieces of the pledge tests: a campaign, and texts through the signed webhook."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from defensa.committees.models import Committee
from defensa.notify.transports.twilio import signature
from defensa.pledges import actions
from defensa.pledges.models import Campaign
from defensa.testing.peers.twilio import AUTH_TOKEN

BASE = "https://defensa.example.org"
PATH = "/notify/twilio/inbound/"
_sids = itertools.count(1)


def data(**overrides: Any) -> actions.CampaignData:
    values: dict[str, Any] = {
        "scope": "committee",
        "title_en": "Walk out Monday",
        "title_es": "Paro el lunes",
        "text_en": "I will walk out on Monday if 3 of us pledge.",
        "text_es": "Paro el lunes si 3 de nosotros lo prometemos.",
        "threshold_kind": "count",
        "threshold": 3,
        "eligible_count": None,
        "eligible_source": "",
        "deadline": timezone.now() + dt.timedelta(days=3),
        "require_confirmation": True,
    }
    values.update(overrides)
    return actions.CampaignData(**values)


def open_campaign(committee: Committee, actor, **overrides: Any) -> Campaign:  # type: ignore[no-untyped-def]
    return actions.open_campaign(committee, data(**overrides), actor=actor)


def text(client, body: str, *, number: str):  # type: ignore[no-untyped-def]
    params = {
        "From": number,
        "To": "+15005550006",
        "Body": body,
        "MessageSid": f"SM{next(_sids):032d}",
    }
    header = signature(AUTH_TOKEN, f"{BASE}{PATH}", params)
    return client.post(PATH, params, HTTP_X_TWILIO_SIGNATURE=header)
