"""Context for pledge messages, built at send time from the campaign id a Delivery stores.

The pledge's own words are the coordinator's, in each language; the message picks the one of
the language it is rendered in. No message names a pledger.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from defensa.notify import messages as notify_messages


def _base() -> str:
    return settings.SITE_URL.rstrip("/")


def _campaign_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.pledges.models import Campaign

    campaign = Campaign.objects.filter(pk=stored.get("campaign") or 0).first()
    if campaign is None:
        return {"campaign": None, "outcome": stored.get("outcome", "unknown")}
    return {
        "campaign": campaign,
        "title": campaign.title(),
        "text": campaign.text(),
        "code": campaign.code,
        "needed": campaign.needed,
        "outcome": stored.get("outcome", ""),
        "link": _base() + reverse("pledges:public", kwargs={"code": campaign.code}),
        "page": _base() + reverse("pledges:campaign", kwargs={"pk": campaign.pk}),
    }


def register() -> None:
    for key in ("pledge_reached", "pledge_reached_coordinator", "pledge_sms_reply"):
        notify_messages.register_context(key, _campaign_context)
    # Who gets these is who pledged: no deliveries page shows them (docs/pledges.md).
    notify_messages.register_compartment(
        notify_messages.SEALED, "pledge_reached", "pledge_sms_reply"
    )
    # A coordinator's own message says nothing about any pledger.
    notify_messages.register_compartment(notify_messages.GENERAL, "pledge_reached_coordinator")
    notify_messages.register_label("pledge_reached", _("A pledge reached its threshold"))
    notify_messages.register_label(
        "pledge_reached_coordinator", _("A campaign you coordinate reached its threshold")
    )
    notify_messages.register_label("pledge_sms_reply", _("The answer to a pledge by text"))
