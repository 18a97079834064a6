"""Strike and hardship funds: a committee's fund, members' applications, two reviewers'
approvals, disbursements and contributions in one ledger.

Need to know: everyone in the committee sees a fund's totals (balance, money in, money out,
how many applications); only its reviewers see who applied and why, each view audited. An
application's applicant and reason are sealed under the application's own data key; the row
keeps a keyed digest of the applicant (for the caps, without the name). Disbursements are an
amount, a date and a method, never bank details.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import INTERNAL, SENSITIVE, FieldClass, c
from defensa.core.crypto.fields import EncryptedField

# The ledger is the committee's accounts: kept like its minutes.
LEDGER_RETENTION = dt.timedelta(days=365 * 7)
# Who applied and why: long enough to settle the strike's accounts, then shredded.
APPLICANT_RETENTION = dt.timedelta(days=365)
MAX_AMOUNT = Decimal("100000.00")


class Fund(models.Model):
    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.PROTECT, related_name="funds"
    )
    name = models.CharField(_("name"), max_length=120)
    # Per person per week, and for the whole fund per week (weeks start on Monday).
    person_week_cap = models.DecimalField(
        _("most one person receives in a week"), max_digits=10, decimal_places=2
    )
    week_cap = models.DecimalField(
        _("most the fund pays out in a week"), max_digits=12, decimal_places=2
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    _i = c(INTERNAL, LEDGER_RETENTION, "member")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "committee", "name", "person_week_cap", "week_cap", "created_by", "created_at"), _i
    )
    RETENTION_ANCHOR = "created_at"

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"Fund {self.pk}"


class Reviewer(models.Model):
    """Named by a coordinator of the fund's committee; never by oneself."""

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="reviewers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="fund_reviews"
    )
    named_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    named_at = models.DateTimeField(default=timezone.now)

    _i = c(INTERNAL, LEDGER_RETENTION, "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "fund", "user", "named_by", "named_at"), _i
    )
    RETENTION_ANCHOR = "named_at"

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["fund", "user"], name="one_reviewer_row_per_person")
        ]

    def __str__(self) -> str:
        return f"Reviewer #{self.pk}"


class AppState(models.TextChoices):
    PENDING = "pending", _("Waiting for two reviewers")
    APPROVED = "approved", _("Approved")
    PAID = "paid", _("Paid")
    DECLINED = "declined", _("Declined")


APP_TRANSITIONS = {
    AppState.PENDING: (AppState.APPROVED, AppState.DECLINED),
    AppState.APPROVED: (AppState.PAID, AppState.DECLINED),
    AppState.PAID: (),
    AppState.DECLINED: (),
}


class Application(models.Model):
    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="applications")
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    state = models.CharField(max_length=10, choices=AppState.choices, default=AppState.PENDING)
    applied_at = models.DateTimeField(default=timezone.now)
    # Keyed digest of the applicant's account, per fund: the caps, and no two reviewers'
    # approvals from the applicant themself, without the name.
    applicant_digest = models.CharField(max_length=64)
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    applicant = EncryptedField(key_field="data_key")  # the user id, as text
    reason = EncryptedField(key_field="data_key")  # a few words

    _i = c(INTERNAL, LEDGER_RETENTION, "member")
    _s = c(SENSITIVE, APPLICANT_RETENTION, "fund-reviewer")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(("id", "fund", "amount", "state", "applied_at"), _i),
        **dict.fromkeys(("applicant_digest", "data_key", "applicant", "reason"), _s),
    }
    RETENTION_ANCHOR = "applied_at"

    class Meta:
        ordering = ["-applied_at"]

    def __str__(self) -> str:
        return f"Application #{self.pk}"


class Approval(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="approvals")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(default=timezone.now)

    _i = c(INTERNAL, LEDGER_RETENTION, "fund-reviewer")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "application", "reviewer", "approved_at"), _i
    )
    RETENTION_ANCHOR = "approved_at"

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["application", "reviewer"], name="one_approval_per_reviewer"
            )
        ]

    def __str__(self) -> str:
        return f"Approval #{self.pk}"


class Method(models.TextChoices):
    CASH = "cash", _("Cash")
    CHECK = "check", _("Check")
    TRANSFER = "transfer", _("Bank transfer")
    APP = "app", _("Payment app")
    CARD = "card", _("Prepaid or gift card")
    OTHER = "other", _("Other")


class EntryKind(models.TextChoices):
    IN = "in", _("Money in")
    OUT = "out", _("Disbursement")


class Entry(models.Model):
    """One line of a fund's ledger: money in, or a disbursement (amount, date, method only)."""

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=4, choices=EntryKind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    on = models.DateField()
    method = models.CharField(max_length=10, choices=Method.choices)
    # A disbursement's application; who it paid is on the application, sealed.
    application = models.OneToOneField(
        Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="payment"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    _i = c(INTERNAL, LEDGER_RETENTION, "member")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(("id", "fund", "kind", "amount", "on", "method", "recorded_at"), _i),
        **dict.fromkeys(
            ("application", "recorded_by"), c(INTERNAL, LEDGER_RETENTION, "fund-reviewer")
        ),
    }
    RETENTION_ANCHOR = "recorded_at"

    class Meta:
        ordering = ["on", "pk"]

    def __str__(self) -> str:
        return f"Entry #{self.pk}"
