"""Alert subscribers: people without an account who asked for verified alerts near a ZIP code.

A Subscription holds no number in the clear: the phone is sealed under the subscription's own
data key (shredded when it ends) and the row keeps a keyed digest of it (one subscription per
phone and ZIP code, found again without the number). Coordinators see counts per ZIP code,
never a number. A subscription made on the web form waits, unconfirmed, for the code texted
to the phone; only confirmed ones get alerts.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import INTERNAL, SECRET, SENSITIVE, FieldClass, c
from defensa.core.crypto.fields import EncryptedField
from defensa.core.languages import LANGUAGE_CODE_LENGTH

# An unconfirmed web subscription and its code live a day; then the row goes.
PENDING_RETENTION = dt.timedelta(days=1)
# A confirmed subscription lives until STOP. A year without renewal is the backstop: alerts
# stop and the number goes unless the person texts the keyword again (which renews it).
SUBSCRIPTION_RETENTION = dt.timedelta(days=365)
CODE_LIFETIME = dt.timedelta(minutes=30)
MAX_CODES = 3  # codes texted to one pending subscription (a form cannot flood a phone)
MAX_CODE_ATTEMPTS = 5


class Subscription(models.Model):
    # The committee whose area holds the ZIP code: whose coordinators see it counted.
    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.CASCADE, related_name="alert_subscriptions"
    )
    zip_code = models.CharField(_("ZIP code"), max_length=5)
    # The neighbourhood cell of the ZIP code's centre (defensa/core/geo.py), as members'
    # area alerts use: an incident alerts the subscriptions in its cell and the ring around.
    cell = models.CharField(max_length=16)
    language = models.CharField(max_length=LANGUAGE_CODE_LENGTH, default="en")
    digest = models.CharField(max_length=64)
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    phone = EncryptedField(key_field="data_key")
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The web form's code: only its keyed digest, its expiry, and the counters that stop a
    # form from flooding a phone or guessing a code.
    code_digest = models.CharField(max_length=64, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    codes_sent = models.PositiveSmallIntegerField(default=0)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    # When we last answered this number about this subscription: a keyword texted twenty
    # times gets one answer a day, not twenty.
    answered_at = models.DateTimeField(null=True, blank=True)

    _i = c(INTERNAL, SUBSCRIPTION_RETENTION, "coordinator")
    _s = c(SENSITIVE, SUBSCRIPTION_RETENTION)
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        # Counted per ZIP code for the committee's coordinators, never listed.
        **dict.fromkeys(("id", "committee", "zip_code", "confirmed_at"), _i),
        **dict.fromkeys(("cell", "language", "created_at", "answered_at"), _s),
        **dict.fromkeys(("digest", "data_key", "phone"), _s),
        **dict.fromkeys(
            ("code_digest", "code_expires_at", "codes_sent", "code_attempts"),
            c(SECRET, PENDING_RETENTION),
        ),
    }
    RETENTION_ANCHOR = "created_at"

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["digest", "zip_code"], name="one_subscription_per_zip")
        ]
        indexes: ClassVar = [models.Index(fields=["cell"], name="subscribers_by_cell")]

    def __str__(self) -> str:
        return f"Alert subscription #{self.pk}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None
