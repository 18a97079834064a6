"""Context for accompaniment messages, built at send time from the ids a Delivery stores.

No message names the person accompanied: a volunteer's reminder says where and when, a
family's alert says what happened and where, the legal team's alert points to the page.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import formats

from defensa.notify import messages as notify_messages


def local_time(appointment: Any) -> str:
    """The appointment's start in the committee's time zone, in the message's language."""
    local = appointment.starts_at.astimezone(appointment.committee.tz)
    return formats.date_format(local, "D j M, H:i", use_l10n=True)


def _place(appointment: Any) -> str:
    place = appointment.place
    return f"{place.name}, {place.address}" if place.address else place.name


def _companion_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.accompaniment.actions import checkin_link
    from defensa.accompaniment.models import Companion

    companion = Companion.objects.select_related(
        "appointment__place", "appointment__committee"
    ).get(pk=stored["companion"])
    appointment = companion.appointment
    return {
        "kind": appointment.get_kind_display(),
        "place": _place(appointment),
        "when": local_time(appointment),
        "languages": ", ".join(appointment.language_labels()),
        "link": checkin_link(companion),
        "soon": stored.get("which") == "soon",
    }


def _appointment_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.accompaniment.models import Appointment

    appointment = Appointment.objects.select_related("place", "committee").get(
        pk=stored["appointment"]
    )
    base = settings.SITE_URL.rstrip("/")
    page = base + reverse(
        "accompaniment:appointment",
        kwargs={"slug": appointment.committee.slug, "pk": appointment.pk},
    )
    case_link = ""
    if stored.get("case"):
        try:
            case_link = base + reverse("cases:case", kwargs={"pk": stored["case"]})
        except Exception:  # noqa: BLE001 - the cases app may not be installed
            case_link = ""
    return {
        "kind": appointment.get_kind_display(),
        "place": _place(appointment),
        "when": local_time(appointment),
        "page": page,
        "case_link": case_link,
        "hotline": settings.HOTLINE_NUMBER,
    }


def _sms_reply_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.accompaniment.models import Companion

    companion = Companion.objects.select_related("appointment__place").get(pk=stored["companion"])
    return {
        "result": stored["result"],
        "place": companion.appointment.place.name,
        "hotline": settings.HOTLINE_NUMBER,
    }


def register() -> None:
    for key in ("accompaniment_confirmed", "accompaniment_reminder", "accompaniment_cancelled"):
        notify_messages.register_context(key, _companion_context)
    for key in (
        "accompaniment_missed",
        "accompaniment_detained_legal",
        "accompaniment_detained_family",
        "accompaniment_rescheduled",
        "accompaniment_withdrawn",
    ):
        notify_messages.register_context(key, _appointment_context)
    # A volunteer's own reminders are the committee's business; what happened to the person
    # accompanied (missed, detained, rescheduled, a volunteer gone) is the legal team's.
    notify_messages.register_context("accompaniment_sms_reply", _sms_reply_context)
    notify_messages.register_compartment(
        notify_messages.GENERAL,
        "accompaniment_sms_reply",
        "accompaniment_confirmed",
        "accompaniment_reminder",
        "accompaniment_cancelled",
    )
    notify_messages.register_compartment(
        notify_messages.LEGAL,
        "accompaniment_missed",
        "accompaniment_detained_legal",
        "accompaniment_detained_family",
        "accompaniment_rescheduled",
        "accompaniment_withdrawn",
    )
