"""The deliveries page: every message that failed, first, with the reason; retry or cancel."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from django.contrib import messages
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from defensa.notify import actions, inbound, sms
from defensa.notify.access import (
    channels_for,
    deliveries_for,
    get_channel_for,
    get_delivery_for,
    test_deliveries_for,
)
from defensa.notify.channels import inbound_texts_configured
from defensa.notify.models import Status
from defensa.notify.transports.twilio.webhook import SID, twilio_webhook

PAGE_SIZE = 200
TEST_ROWS = 10

# Failed first: a failed alert is a person who thinks help is coming.
_ORDER = Case(
    When(status=Status.FAILED, then=Value(0)),
    When(status=Status.SENDING, then=Value(1)),
    When(status=Status.QUEUED, then=Value(2)),
    When(status=Status.CANCELLED, then=Value(3)),
    default=Value(4),
    output_field=IntegerField(),
)


def deliveries(request: HttpRequest) -> HttpResponse:
    visible = deliveries_for(request.user)
    status = request.GET.get("status", "")
    rows = visible.filter(status=status) if status in Status.values else visible
    rows = rows.select_related("recipient").order_by(_ORDER, "-created_at", "-id")[:PAGE_SIZE]
    counts = {s: visible.filter(status=s).count() for s in (Status.FAILED, Status.QUEUED)}
    return render(
        request,
        "notify/deliveries.html",
        {
            "rows": rows,
            "status": status,
            "statuses": Status.choices,
            "failed_count": counts[Status.FAILED],
            "queued_count": counts[Status.QUEUED],
            "page_size": PAGE_SIZE,
        },
    )


@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_delivery_for(request.user, pk)
    try:
        actions.retry_delivery(delivery, actor=request.user)
    except ValueError:
        messages.error(request, _("Only a failed message can be sent again."))
    else:
        messages.success(request, _("The message will be sent again."))
    return redirect("notify:deliveries")


@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_delivery_for(request.user, pk)
    try:
        actions.cancel_delivery(delivery, actor=request.user)
    except ValueError:
        messages.error(request, _("Only a message that is still waiting can be cancelled."))
    else:
        messages.success(request, _("The message was cancelled."))
    return redirect("notify:deliveries")


# Twilio-compatible webhooks: signed, see transports/twilio/webhook.py.

_PHONE = re.compile(r"^\+?[0-9]{6,16}$")


def _twiml(reply: str) -> HttpResponse:
    inner = f"<Message>{escape(reply)}</Message>" if reply else ""
    body = f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>'
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


@twilio_webhook
def twilio_inbound(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    """An SMS to one of our numbers: keywords answered at once, anything else to the handlers."""
    number = params.get("From", "")
    if not _PHONE.match(number):
        return _twiml("")
    body = params.get("Body", "")
    answer = sms.handle_inbound(number, body[:160])
    if not answer.keyword:
        # Anything else is for the apps that registered for it (a report, in practice).
        # A concatenated SMS is at most 1600 characters; more is not a text message.
        inbound.dispatch(
            inbound.InboundText(
                number=number,
                body=body[:1600],
                sid=params.get("MessageSid", ""),
                to=params.get("To", ""),
            )
        )
    return _twiml(answer.reply)


@twilio_webhook
def twilio_status(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    """A sent message's later fate: undelivered or failed becomes a visible failure."""
    sid = params.get("MessageSid", "")
    status = params.get("MessageStatus", "")
    code = params.get("ErrorCode", "")
    if SID.match(sid) and status.isalpha() and (not code or code.isdigit()):
        actions.record_provider_status("twilio", sid, status.lower(), code[:8])
    return HttpResponse(status=204)


# The channels page (network admins): which transport carries each channel, its rate, and a
# test message to the admin's own address.

_NO_OWN_ADDRESS = {
    "email": gettext_lazy("Your account has no email address to send the test to."),
    "phone": gettext_lazy("Add your mobile phone number in My settings first."),
    "device": gettext_lazy(
        "Turn on device notifications on this phone or computer in My settings first."
    ),
    "waiting": gettext_lazy(
        "Your last test message on this channel is still waiting to be sent. Look again in a "
        "moment."
    ),
}


def channels(request: HttpRequest) -> HttpResponse:
    states = channels_for(request.user)
    tests = test_deliveries_for(request.user)[:TEST_ROWS]
    return render(
        request,
        "notify/channels.html",
        {
            "states": states,
            "inbound": inbound_texts_configured(),
            "tests": tests,
            "waiting": any(t.status in (Status.QUEUED, Status.SENDING) for t in tests),
        },
    )


@require_POST
def channel_test(request: HttpRequest, channel: str) -> HttpResponse:
    state = get_channel_for(request.user, channel)
    try:
        sent = actions.send_test_message(state.channel, actor=request.user)
    except actions.NoOwnAddress as missing:
        messages.error(request, str(_NO_OWN_ADDRESS.get(missing.code, _("Nothing was sent."))))
    else:
        if sent:
            messages.success(
                request,
                _("A test message is on its way to you by %(channel)s. Its result is below.")
                % {"channel": state.label.lower()},
            )
        else:
            messages.error(
                request,
                _(
                    "Your address asked for no more messages on this channel (STOP). "
                    "Send START from it first."
                ),
            )
    return redirect("notify:channels")
