"""The deliveries page: every message that failed, first, with the reason; retry or cancel."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from django.contrib import messages
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from defensa.notify import actions, inbound, sms
from defensa.notify.access import deliveries_for, get_delivery_for
from defensa.notify.models import Status
from defensa.notify.transports.twilio.webhook import SID, twilio_webhook

PAGE_SIZE = 200

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
