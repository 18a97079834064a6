"""Context for dispatch alerts, built at send time from the ids a Delivery stores."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from defensa.core import geo
from defensa.dispatch.matching import incident_cell
from defensa.incidents.models import Incident
from defensa.notify import messages as notify_messages


def where_label(incident: Incident) -> str:
    """Neighbourhood-size words for where an incident is: ZIP codes and a compass side."""
    cell = incident_cell(incident)
    if not cell:
        return ""
    zips, side = geo.cell_label(cell)
    return f"{zips} ({side})" if side else zips


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


def register() -> None:
    notify_messages.register_context("dispatch_offer", _offer_context)
    notify_messages.register_context("dispatch_widened", _widened_context)
