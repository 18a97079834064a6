"""Context for event messages, built at send time from the ids a Delivery stores.

Times are given in the committee's time zone, written in the language the message is
rendered in. The exact place goes only to people whose place is confirmed. Who is coming to
a protest is itself a secret: no deliveries page shows these kinds (SEALED).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from defensa.notify import messages as notify_messages


def _base() -> str:
    return settings.SITE_URL.rstrip("/")


def when(moment: Any) -> str:
    return date_format(moment, "D j M, H:i")


def _event_fields(event: Any) -> dict[str, Any]:
    public = event.visibility == "public"
    return {
        "event": event,
        "title": event.title,
        "code": event.code,
        "area": event.area,
        "when": when(event.local_start),
        "link": _base()
        + (
            reverse("events:public", kwargs={"code": event.code})
            if public
            else reverse("events:detail", kwargs={"pk": event.pk})
        ),
    }


def _rsvp_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.events.models import Rsvp, RsvpStatus

    rsvp = (
        Rsvp.objects.select_related("event__committee", "shift")
        .filter(pk=stored.get("rsvp") or 0)
        .first()
    )
    if rsvp is None:
        return {"event": None}
    fields = _event_fields(rsvp.event)
    if rsvp.user_id is not None:
        fields["link"] = _base() + reverse("events:detail", kwargs={"pk": rsvp.event_id})
    if rsvp.shift_id is not None:
        fields["when"] = when(rsvp.shift.local_start)  # type: ignore[union-attr]
        fields["role"] = rsvp.shift.get_role_display()  # type: ignore[union-attr]
    fields["place"] = rsvp.event.place if rsvp.status == RsvpStatus.GOING else ""
    fields["hours"] = stored.get("hours") or 0
    return fields


def _reply_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.events.models import Event

    event = Event.objects.select_related("committee").filter(pk=stored.get("event") or 0).first()
    outcome = stored.get("outcome", "unknown")
    if event is None:
        return {"event": None, "outcome": "unknown"}
    return {**_event_fields(event), "outcome": outcome, "place": ""}


def register() -> None:
    for key in ("event_reminder", "event_promoted", "event_cancelled"):
        notify_messages.register_context(key, _rsvp_context)
    notify_messages.register_context("event_sms_reply", _reply_context)
    notify_messages.register_compartment(
        notify_messages.SEALED,
        "event_reminder",
        "event_promoted",
        "event_cancelled",
        "event_sms_reply",
    )
    notify_messages.register_label("event_reminder", _("A reminder of an event you RSVPed to"))
    notify_messages.register_label(
        "event_promoted", _("A place at an event freed up for someone on its waiting list")
    )
    notify_messages.register_label("event_cancelled", _("An event you RSVPed to was called off"))
    notify_messages.register_label("event_sms_reply", _("The answer to an RSVP by text"))
