"""The SMS gateway's webhook: texts the phone received, and the fate of texts it sent.

Public (the phone has no account) but authenticated twice: the secret token in the path
(SMS_GATEWAY_WEBHOOK_TOKEN, compared in constant time) and, when SMS_GATEWAY_SIGNING_KEY is
set, the gateway's HMAC signature over the raw body and a fresh timestamp. Anything else gets
403 and nothing is stored. One URL serves every event; register it for `sms:received`,
`sms:sent`, `sms:delivered` and `sms:failed`.

Inbound texts take the same path as Twilio's: STOP / ALTO / START / HELP / AYUDA are honoured
at once (the answer is queued as a message, since a gateway can't reply in its response), and
anything else goes to the registered inbound handlers (report intake). `sms:failed` turns a
sent delivery into a visible failure.
"""

from __future__ import annotations

import hashlib
import json
import re

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from defensa.core.access import public
from defensa.notify import actions, inbound, sms
from defensa.notify.models import Channel, Priority
from defensa.notify.transports.gateway import signature_is_valid, token_is_valid

_PHONE = re.compile(r"^\+?[0-9]{6,16}$")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
# A webhook body is a few hundred bytes; a concatenated SMS at most 1600 characters.
MAX_BODY = 16_384


def e164(number: str) -> str:
    """A phone number as the gateway gave it, in the +E.164 form accounts store.

    Phones report senders in the carrier's format: 10 US digits, 1 + 10 digits, 00-prefixed
    international, or already +E.164. Anything else is kept as digits.
    """
    raw = re.sub(r"[\s().-]", "", number)
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    if raw.startswith("+"):
        return raw
    if re.fullmatch(r"[2-9][0-9]{9}", raw):
        return "+1" + raw
    if re.fullmatch(r"1[2-9][0-9]{9}", raw):
        return "+" + raw
    return raw


def _authentic(request: HttpRequest, token: str) -> bool:
    if not token_is_valid(token):
        return False
    key = settings.SMS_GATEWAY_SIGNING_KEY
    if not key:
        return True
    return signature_is_valid(
        key,
        request.body,
        request.headers.get("X-Timestamp", ""),
        request.headers.get("X-Signature", ""),
    )


def _text(value: object, limit: int) -> str:
    return value.replace("\x00", "")[:limit] if isinstance(value, str) else ""


@public
@csrf_exempt
@require_POST
def gateway_webhook(request: HttpRequest, token: str) -> HttpResponse:
    if len(request.body) > MAX_BODY or not _authentic(request, token):
        return HttpResponseForbidden()
    try:
        event = json.loads(request.body)
    except ValueError:
        return HttpResponseBadRequest()
    if not isinstance(event, dict) or not isinstance(event.get("payload"), dict):
        return HttpResponseBadRequest()
    kind = event.get("event")
    payload = event["payload"]
    if kind == "sms:received":
        _received(event, payload)
    elif kind == "sms:failed":
        message_id = _text(payload.get("messageId"), 64)
        reason = re.sub(r"[^A-Za-z0-9_ ]", "", _text(payload.get("reason"), 60)).strip()
        if _MESSAGE_ID.match(message_id):
            actions.record_provider_status("gateway", message_id, "failed", reason)
    # sms:sent, sms:delivered, system:ping: good news changes nothing.
    return HttpResponse(status=204)


def _received(event: dict[str, object], payload: dict[str, object]) -> None:
    number = e164(_text(payload.get("phoneNumber"), 40))
    if not _PHONE.match(number):
        return
    body = _text(payload.get("message"), 1600)
    # The event id is the gateway's, stable across its retries; the sms messageId is not
    # unique (it is derived from the content). Hashed into the shape handlers expect.
    seed = f"{_text(event.get('deviceId'), 64)}:{_text(event.get('id'), 64)}"
    sid = "GW" + hashlib.sha256(seed.encode()).hexdigest()[:40]
    answer = sms.handle_inbound(number, body[:160])
    if answer.keyword:
        with transaction.atomic():
            actions.queue_message(
                actions.Address(Channel.SMS, number, answer.language),
                sms.REPLY_TEMPLATE,
                {"keyword": answer.keyword},
                priority=Priority.URGENT,
                idempotency_key=f"keyword:{sid}",
            )
        return
    inbound.dispatch(inbound.InboundText(number=number, body=body, sid=sid))
