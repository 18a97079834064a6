"""Writes of alert subscriptions: subscribe by text or on the web form, confirm a code, end.

Every action is atomic and records one audit entry, with ids and counts only: never a number
or a ZIP code. The phone is sealed under the subscription's own key; ending a subscription
shreds that key and deletes the row, so the number is gone from it at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.audit.log import record
from defensa.committees.forms import normalize_phone
from defensa.committees.models import Committee
from defensa.core import crypto, geo
from defensa.core.crypto.digests import digest_key, keyed_digest
from defensa.core.languages import BY_CODE
from defensa.incidents.areas import committee_for
from defensa.notify.actions import Address, queue_message
from defensa.notify.models import Channel, Delivery, Priority
from defensa.subscribers.models import (
    CODE_LIFETIME,
    MAX_CODE_ATTEMPTS,
    MAX_CODES,
    PENDING_RETENTION,
    Subscription,
)

DIGEST_KEY = "subscribers.phone"
CODE_DIGEST_KEY = "subscribers.code"
REPLY_TEMPLATE = "subscriber_reply"
CODE_TEMPLATE = "subscriber_code"
# A subscriber hears alerts in the language of their keyword or form: any Defensa speaks.
LANGUAGES = tuple(BY_CODE)
# A number asking again for a subscription it has gets one answer a day.
ANSWER_EVERY = PENDING_RETENTION


class SubscribeError(Exception):
    """Bad input: `code` names it for the text reply; str() is the form's translated words."""

    def __init__(self, message: Any, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Outcome:
    subscription: Subscription | None
    word: str  # "subscribed", "already", "pending", "confirmed"


def canonical_phone(number: str) -> str:
    try:
        return normalize_phone(number)
    except ValidationError:
        raise SubscribeError(_("Enter a mobile number, e.g. (213) 555-0123."), "phone") from None


def phone_digest(number: str) -> str:
    """A keyed hash of the normalised number (defensa/core/crypto/digests.py)."""
    return keyed_digest(digest_key(DIGEST_KEY), canonical_phone(number))


def _code_digest(subscription: Subscription, code: str) -> str:
    return keyed_digest(digest_key(CODE_DIGEST_KEY), f"{subscription.pk}:{code}")


def place_of(zip_code: str) -> tuple[Committee, str]:
    """The committee whose area holds the ZIP code and the code's neighbourhood cell, or
    SubscribeError ("zip": not a ZIP code we know; "outside": no committee's area)."""
    zip_code = (zip_code or "").strip()
    if not geo.is_zip_format(zip_code) or not geo.is_real_zip(zip_code):
        raise SubscribeError(_("Enter a 5-digit ZIP code, e.g. 90033."), "zip")
    committee = committee_for(None, None, zip_code)
    centre = geo.zip_centroid(zip_code)
    if committee is None or centre is None:
        raise SubscribeError(
            _("No defense committee covers this ZIP code yet, so there are no alerts for it."),
            "outside",
        )
    return committee, geo.cell_for(*centre)


def _language(language: str) -> str:
    """A language the site speaks (core/languages.py), else English."""
    return language if language in LANGUAGES else "en"


def _new(committee: Committee, zip_code: str, cell: str, phone: str, digest: str, language: str):
    subscription = Subscription.objects.create(
        committee=committee, zip_code=zip_code, cell=cell, language=language, digest=digest
    )
    crypto.seal(subscription, "phone", phone)
    subscription.save(update_fields=["data_key", "phone"])
    return subscription


@transaction.atomic
def subscribe_by_text(number: str, zip_code: str, *, language: str) -> Outcome:
    """A text proves the number: the subscription is confirmed at once. Texting again renews
    it (and its language) and makes no second one."""
    phone = canonical_phone(number)
    committee, cell = place_of(zip_code)
    digest = phone_digest(phone)
    language = _language(language)
    now = timezone.now()
    found = (
        Subscription.objects.select_for_update()
        .filter(digest=digest, zip_code=zip_code.strip())
        .first()
    )
    if found is not None and found.is_confirmed:
        found.language, found.created_at = language, now
        found.save(update_fields=["language", "created_at"])
        record("subscribers.renew_subscription", obj=found, committee=found.committee)
        return Outcome(found, "already")
    if found is None:
        found = _new(committee, zip_code.strip(), cell, phone, digest, language)
    found.confirmed_at, found.language, found.code_digest = now, language, ""
    found.save(update_fields=["confirmed_at", "language", "code_digest"])
    record("subscribers.subscribe", obj=found, committee=found.committee, by="sms")
    return Outcome(found, "subscribed")


@transaction.atomic
def start_web_subscription(number: str, zip_code: str, *, language: str) -> Outcome:
    """The web form: a pending subscription and a code texted to the phone (at most MAX_CODES
    per pending subscription, so the form cannot flood someone's phone). A number already
    subscribed for the ZIP code gets nothing: the page says the same either way."""
    phone = canonical_phone(number)
    committee, cell = place_of(zip_code)
    zip_code = zip_code.strip()
    digest = phone_digest(phone)
    language = _language(language)
    now = timezone.now()
    # Unconfirmed sign-ups older than a day go: nobody confirmed them.
    stale = list(
        Subscription.objects.filter(
            confirmed_at__isnull=True, created_at__lt=now - PENDING_RETENTION
        ).select_related("data_key")
    )
    _erase(stale)
    found = (
        Subscription.objects.select_for_update().filter(digest=digest, zip_code=zip_code).first()
    )
    if found is not None and found.is_confirmed:
        record("subscribers.start_web_subscription", obj=found, sent=False)
        return Outcome(found, "already")
    if found is None:
        found = _new(committee, zip_code, cell, phone, digest, language)
    sent = found.codes_sent < MAX_CODES
    if sent:
        code = f"{secrets.randbelow(1_000_000):06d}"
        found.code_digest = _code_digest(found, code)
        found.code_expires_at = now + CODE_LIFETIME
        found.codes_sent += 1
        found.code_attempts = 0
        found.language = language
        found.save(
            update_fields=[
                "code_digest",
                "code_expires_at",
                "codes_sent",
                "code_attempts",
                "language",
            ]
        )
        queue_message(
            Address(Channel.SMS, phone, language),
            CODE_TEMPLATE,
            {"code": code},
            priority=Priority.URGENT,
            idempotency_key=f"subscriber_code:{found.pk}:{found.codes_sent}",
            audit=False,
            address_key=found.data_key,
        )
        _hide_hint(found)
    record("subscribers.start_web_subscription", obj=found, sent=sent)
    return Outcome(found, "pending")


@transaction.atomic
def confirm_web_subscription(subscription: Subscription, code: str) -> Outcome:
    """Check the code texted to the phone. MAX_CODE_ATTEMPTS wrong codes end the code."""
    found = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if found.is_confirmed:
        return Outcome(found, "already")
    now = timezone.now()
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    usable = (
        bool(found.code_digest)
        and found.code_expires_at is not None
        and found.code_expires_at > now
        and found.code_attempts < MAX_CODE_ATTEMPTS
    )
    if not usable:
        raise SubscribeError(_("This code has expired. Start again to get a new one."), "expired")
    if not secrets.compare_digest(found.code_digest, _code_digest(found, code)):
        found.code_attempts += 1
        found.save(update_fields=["code_attempts"])
        # The failed attempt is kept: raising would roll it back.
        record("subscribers.confirm_failed", obj=found, attempts=found.code_attempts)
        return Outcome(found, "wrong")
    found.confirmed_at, found.code_digest, found.code_expires_at = now, "", None
    found.save(update_fields=["confirmed_at", "code_digest", "code_expires_at"])
    record("subscribers.subscribe", obj=found, committee=found.committee, by="web")
    return Outcome(found, "confirmed")


def _erase(subscriptions: list[Subscription]) -> int:
    for subscription in subscriptions:
        if subscription.data_key is not None:
            crypto.shred(subscription.data_key)
    Subscription.objects.filter(pk__in=[s.pk for s in subscriptions]).delete()
    return len(subscriptions)


def end_for_address(channel: str, address: str) -> None:
    """STOP / ALTO from a number ends every subscription of that number at once (called inside
    notify's opt-out, whose audit entry names the change): the keys are shredded and the rows
    deleted, so queued alerts to it cannot be sent either."""
    if channel != Channel.SMS:
        return
    try:
        digest = phone_digest(address)
    except SubscribeError:
        return
    _erase(list(Subscription.objects.filter(digest=digest).select_related("data_key")))


def should_answer(outcome: Outcome) -> bool:
    """A repeated keyword gets one answer a day (ALERTA twenty times: one answer)."""
    subscription = outcome.subscription
    if outcome.word != "already" or subscription is None:
        return True
    return subscription.answered_at is None or (
        subscription.answered_at < timezone.now() - ANSWER_EVERY
    )


@transaction.atomic
def answer_text(
    subscription: Subscription | None, number: str, language: str, word: str, sid: str
) -> None:
    """Answer a keyword text, once per text (the provider's id names it). The number is
    sealed under the subscription's key when there is one; the deliveries page shows none
    of it."""
    live = subscription is not None and Subscription.objects.filter(pk=subscription.pk).exists()
    queue_message(
        Address(Channel.SMS, number, _language(language)),
        REPLY_TEMPLATE,
        {"outcome": word, "zip": subscription.zip_code if live else ""},  # type: ignore[union-attr]
        priority=Priority.URGENT,
        idempotency_key=f"subscriber_reply:{sid}",
        audit=False,
        address_key=subscription.data_key if live else None,  # type: ignore[union-attr]
    )
    Delivery.objects.filter(
        idempotency_key__startswith=f"subscriber_reply:{sid}:", recipient__isnull=True
    ).update(address_hint="•••")
    if live:
        Subscription.objects.filter(pk=subscription.pk).update(answered_at=timezone.now())  # type: ignore[union-attr]
    record("subscribers.answer_text", obj=subscription if live else None, outcome=word)


def _hide_hint(subscription: Subscription) -> None:
    Delivery.objects.filter(
        idempotency_key__startswith=f"subscriber_code:{subscription.pk}:", recipient__isnull=True
    ).update(address_hint="•••")
