"""Context for dispatch alerts, built at send time from the ids a Delivery stores."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from defensa.incidents.areas import where_label
from defensa.incidents.models import Incident
from defensa.notify import messages as notify_messages


def _offer_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.dispatch.actions import offer_link
    from defensa.dispatch.models import Offer

    offer = Offer.objects.select_related("incident").get(pk=stored["offer"])
    return {
        "link": offer_link(offer),
        "incident": offer.incident,
        "category": offer.incident.get_category_display(),
        "where": where_label(offer.incident),
        "hours": settings.DISPATCH_LINK_HOURS,
    }


def _widened_context(stored: dict[str, Any]) -> dict[str, Any]:
    from django.urls import reverse

    incident = Incident.objects.select_related("committee").get(pk=stored["incident"])
    console = ""
    if incident.committee is not None:
        console = settings.SITE_URL.rstrip("/") + reverse(
            "dispatch:console", kwargs={"slug": incident.committee.slug}
        )
    return {"incident": incident, "where": where_label(incident), "console": console}


def _crossed_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.committees.models import Committee

    incident = Incident.objects.select_related("committee").get(pk=stored["incident"])
    return {
        "incident": incident,
        "where": where_label(incident),
        "asking": incident.committee.name if incident.committee else "",
        "yours": Committee.objects.get(pk=stored["committee"]).name,
        "asked": stored["asked"],
    }


def register() -> None:
    notify_messages.register_context("dispatch_offer", _offer_context)
    notify_messages.register_context("dispatch_widened", _widened_context)
    notify_messages.register_context("dispatch_unplaced", _unplaced_context)
    notify_messages.register_context("dispatch_crossed", _crossed_context)
    notify_messages.register_compartment(
        notify_messages.GENERAL,
        "dispatch_offer",
        "dispatch_widened",
        "dispatch_unplaced",
        "dispatch_crossed",
    )


def _unplaced_context(stored: dict[str, Any]) -> dict[str, Any]:
    from django.urls import reverse

    incident = Incident.objects.get(pk=stored["incident"])
    link = settings.SITE_URL.rstrip("/") + reverse(
        "incidents:place", kwargs={"ref": incident.reference}
    )
    return {"incident": incident, "link": link, "minutes": settings.UNPLACED_ALERT_MINUTES}


def _incident_alert_context(stored: dict[str, Any]) -> dict[str, Any]:
    from django.urls import reverse
    from django.utils import timezone

    incident = Incident.objects.select_related("committee").get(pk=stored["incident"])
    tz = incident.committee.tz if incident.committee else timezone.get_current_timezone()
    seen = incident.first_observed_at.astimezone(tz)
    # Approximate time: the quarter hour, enough to act on, not a timestamp to match.
    seen = seen.replace(minute=seen.minute - seen.minute % 15, second=0, microsecond=0)
    base = settings.SITE_URL.rstrip("/")
    return {
        "incident": incident,
        "category": incident.get_category_display(),
        "where": where_label(incident),
        "around": seen.strftime("%H:%M"),
        "rights": base + reverse("pages:rights"),
        # The page where the person chose these alerts (linked from My page too).
        "alerts": base + reverse("dispatch:alerts"),
    }


def register_response() -> None:
    notify_messages.register_context("incident_confirmed_legal", _incident_alert_context)
    notify_messages.register_context("incident_alert", _incident_alert_context)
    notify_messages.register_context("subscriber_alert", _incident_alert_context)
    # An alert subscriber has no account: no deliveries page shows who they are.
    notify_messages.register_compartment(notify_messages.SEALED, "subscriber_alert")
    notify_messages.register_compartment(notify_messages.GENERAL, "incident_alert")
    notify_messages.register_compartment(notify_messages.LEGAL, "incident_confirmed_legal")
