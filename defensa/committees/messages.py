"""Context for the committee's messages (shift reminders, the on-duty switch turning off,
recovery requests), built at send time from the ids a Delivery stores."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from defensa.notify import messages as notify_messages


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _shift_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.committees.models import Shift

    shift = Shift.objects.select_related("membership__committee").get(pk=stored["shift"])
    committee = shift.membership.committee
    starts = dt.datetime.fromtimestamp(int(stored["starts"]), tz=dt.UTC).astimezone(committee.tz)
    ends = dt.datetime.combine(starts.date(), shift.end)
    return {
        "committee": committee.name,
        "when": formats.date_format(starts, "D j M, H:i", use_l10n=True),
        "until": formats.time_format(ends, "H:i"),
        "link": _site(reverse("me:availability")),
    }


def _swap_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.committees.models import ShiftSwap, SwapStatus

    swap = ShiftSwap.objects.select_related(
        "shift", "giver__user", "giver__committee", "taker__user"
    ).get(pk=stored["swap"])
    committee = swap.giver.committee
    return {
        "committee": committee.name,
        "giver": swap.giver.user.display_name,
        "taker": swap.taker.user.display_name,
        "day": swap.shift.get_weekday_display(),
        "start": swap.shift.start.strftime("%H:%M"),
        "end": swap.shift.end.strftime("%H:%M"),
        "approved": swap.status == SwapStatus.APPROVED,
        "roster": _site(reverse("committees:roster", kwargs={"slug": committee.slug})),
        "link": _site(reverse("me:availability")),
    }


def _on_duty_context(stored: dict[str, Any]) -> dict[str, Any]:
    return {"hours": stored.get("hours"), "link": _site(reverse("me:availability"))}


def _recovery_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.committees.models import Committee

    committee = Committee.objects.filter(pk=stored.get("committee") or 0).first()
    if committee is None:
        page = reverse("recover:admin_requests")
    else:
        page = reverse("committees:recovery_requests", kwargs={"slug": committee.slug})
    return {"link": _site(page)}


def _sms_invitation_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.committees.actions import sms_code
    from defensa.committees.models import Invitation

    invitation = (
        Invitation.objects.select_related("committee")
        .filter(pk=stored.get("invitation") or 0)
        .first()
    )
    if invitation is None or not invitation.code_nonce:
        return {"committee_name": "", "code": "", "days": settings.INVITATION_DAYS}
    return {
        "committee_name": invitation.committee.name,
        "code": sms_code(invitation),
        "days": settings.INVITATION_DAYS,
    }


def _join_reply_context(stored: dict[str, Any]) -> dict[str, Any]:
    from defensa.committees.models import Committee

    committee = Committee.objects.filter(pk=stored.get("committee") or 0).first()
    return {
        "outcome": stored.get("outcome", "unknown"),
        "committee_name": committee.name if committee else "",
        "full": bool(stored.get("full")),
    }


def register() -> None:
    notify_messages.register_context("committee_sms_invitation", _sms_invitation_context)
    notify_messages.register_context("committee_sms_join_reply", _join_reply_context)
    notify_messages.register_label(
        "committee_sms_invitation", _("An invitation to join by text message")
    )
    notify_messages.register_label("committee_sms_join_reply", _("The answer to a JOIN text"))
    # Like a link sent by text (people_invitation): the committee's business; the number is
    # sealed in the outbox and shown masked.
    notify_messages.register_compartment(
        notify_messages.GENERAL, "committee_sms_invitation", "committee_sms_join_reply"
    )
    notify_messages.register_context("shift_reminder", _shift_context)
    notify_messages.register_context("on_duty_ended", _on_duty_context)
    notify_messages.register_context("recovery_requested", _recovery_context)
    notify_messages.register_context("shift_swap_asked", _swap_context)
    notify_messages.register_context("shift_swap_decided", _swap_context)
    notify_messages.register_label("shift_swap_asked", _("Shift swap to approve"))
    notify_messages.register_label("shift_swap_decided", _("Shift swap decided"))
    notify_messages.register_label("shift_reminder", _("Shift reminder"))
    notify_messages.register_label("on_duty_ended", _("On duty switched off"))
    notify_messages.register_label("recovery_requested", _("Account recovery request"))
    # A member's own shift and on-duty messages are the committee's business. Who asked to
    # recover an account is the approvers' business only: the administrators' compartment.
    notify_messages.register_compartment(
        notify_messages.GENERAL,
        "shift_reminder",
        "on_duty_ended",
        "shift_swap_asked",
        "shift_swap_decided",
    )
    notify_messages.register_compartment(notify_messages.ADMIN, "recovery_requested")
