"""Conditional pledges: "I will walk out if N of us (or N% of us) pledge by Friday".

A Campaign belongs to the committee whose coordinators run it; its scope says whose pledges
it counts: that committee and the committees under it, or (opened in the network committee)
the whole network, or (from organising) one workplace of the committee's, one department of
it, or every workplace of a sector; such a campaign counts per workplace too (per unit).

Secret until it counts: a Pledge row holds no identity in the clear. The pledger's phone and
member id are sealed under the campaign's own data key; the row keeps only a keyed digest of
the number (one pledge per phone), how the pledge came (web, SMS, signed in), how far it is
vouched for (member, confirmed, unconfirmed), the language to answer in and hours, not
minutes. When a campaign fails, is cancelled, or succeeded IDENTITY_RETENTION ago, its key is
shredded and its pledge rows deleted: the counts and the trend stay on the campaign.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import (
    INTERNAL,
    PUBLIC,
    SENSITIVE,
    FieldClass,
    c,
)
from defensa.core.crypto.fields import EncryptedField
from defensa.core.languages import LANGUAGE_CODE_LENGTH, Language, own_words

# After the threshold, organisers need the names to organise the walk-out; then they go.
IDENTITY_RETENTION = dt.timedelta(days=30)
# Counts and the trend chart outlive the identities: they are the campaign's record.
CAMPAIGN_RETENTION = dt.timedelta(days=365 * 2)
# The longest a pledge row can live: a deadline at most a year out, then IDENTITY_RETENTION
# after success. pledges_tick shreds far sooner; purge_expired is the backstop.
MAX_DEADLINE = dt.timedelta(days=365)
PLEDGE_RETENTION = MAX_DEADLINE + IDENTITY_RETENTION

CODE_LENGTH = 6


def coarse(moment: dt.datetime) -> dt.datetime:
    """The hour, not the minute: a pledge's time must not line up with a provider's log."""
    return moment.replace(minute=0, second=0, microsecond=0)


class Scope(models.TextChoices):
    COMMITTEE = "committee", _("This committee and the committees under it")
    NETWORK = "network", _("The whole network")
    WORKPLACE = "workplace", _("One workplace")
    DEPARTMENT = "department", _("One department of a workplace")
    SECTOR = "sector", _("Every workplace of a sector")


WORKPLACE_SCOPES = (Scope.WORKPLACE, Scope.DEPARTMENT, Scope.SECTOR)


class ThresholdKind(models.TextChoices):
    COUNT = "count", _("A number of pledges")
    PERCENT = "percent", _("A percentage of an eligible count")


class State(models.TextChoices):
    OPEN = "open", _("Open")
    REACHED = "reached", _("Threshold reached")
    FAILED = "failed", _("Deadline passed")
    CANCELLED = "cancelled", _("Cancelled")


class Campaign(models.Model):
    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.PROTECT, related_name="pledge_campaigns"
    )
    scope = models.CharField(_("who may pledge"), max_length=12, choices=Scope.choices)
    # A workplace or department scope names the workplace; a sector scope names the sector.
    workplace = models.ForeignKey(
        "organising.Workplace",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pledge_campaigns",
    )
    department = models.CharField(_("department"), max_length=80, blank=True)
    sector = models.CharField(_("sector"), max_length=80, blank=True)
    code = models.CharField(max_length=12, unique=True)
    title_en = models.CharField(_("title in English"), max_length=120)
    title_es = models.CharField(_("title in Spanish"), max_length=120)
    text_en = models.TextField(_("the pledge in English"), max_length=600)
    text_es = models.TextField(_("the pledge in Spanish"), max_length=600)
    # The title and the pledge in the network's other languages, each optional:
    # {"vi": {"title": "...", "text": "..."}, ...} (committees.own_words checks it).
    translations = models.JSONField(default=dict, blank=True)
    threshold_kind = models.CharField(
        _("threshold"), max_length=8, choices=ThresholdKind.choices, default=ThresholdKind.COUNT
    )
    threshold = models.PositiveIntegerField(_("number or percentage"))
    eligible_count = models.PositiveIntegerField(_("eligible count"), null=True, blank=True)
    eligible_source = models.CharField(
        _("source of the eligible count"), max_length=200, blank=True
    )
    needed = models.PositiveIntegerField()  # pledges that reach the threshold, fixed at opening
    deadline = models.DateTimeField(_("deadline"))
    require_confirmation = models.BooleanField(
        _("pledges from unknown numbers count only once confirmed by a text"), default=True
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    reached_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The campaign's own key: every pledger's identity is sealed under it; shredding it erases
    # them all at once (and their SMS replies' and messages' addresses, sealed under it too).
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shredded_at = models.DateTimeField(null=True, blank=True)
    # What remains after the shredding: {"counted": n, "member": n, ...} and [[iso, n], ...].
    final_counts = models.JSONField(default=dict, blank=True)
    final_trend = models.JSONField(default=list, blank=True)

    _c = c(INTERNAL, CAMPAIGN_RETENTION, "coordinator")
    _pub = c(PUBLIC, CAMPAIGN_RETENTION)
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "code",
                "title_en",
                "title_es",
                "text_en",
                "text_es",
                "translations",
                "threshold_kind",
                "threshold",
                "eligible_count",
                "eligible_source",
                "needed",
                "deadline",
                "state",
                "reached_at",
                "final_counts",
                "final_trend",
            ),
            _pub,
        ),
        **dict.fromkeys(
            (
                "committee",
                "scope",
                "workplace",
                "department",
                "sector",
                "require_confirmation",
                "opened_by",
                "opened_at",
                "closed_at",
                "shredded_at",
            ),
            _c,
        ),
        # Shredded by pledges_tick at failure, cancellation or success + IDENTITY_RETENTION;
        # classified with the row so purge_expired never shreds an open campaign's key.
        "data_key": c(SENSITIVE, CAMPAIGN_RETENTION, "coordinator-reveal-after-threshold"),
    }
    RETENTION_ANCHOR = "opened_at"

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"Pledge campaign {self.code}"

    @staticmethod
    def needed_for(kind: str, threshold: int, eligible: int | None) -> int:
        if kind == ThresholdKind.PERCENT:
            return max(1, math.ceil(threshold * (eligible or 0) / 100))
        return threshold

    def title(self, language: str | None = None) -> str:
        """The title in `language` (the active one when None): English when not given in it."""
        return self.title_in(language)[0]

    def text(self, language: str | None = None) -> str:
        return self.text_in(language)[0]

    def title_in(self, language: str | None = None) -> tuple[str, Language]:
        """The title and the language it is in (for a page's lang attribute)."""
        return own_words(
            language, "title", en=self.title_en, es=self.title_es, others=self.translations
        )

    def text_in(self, language: str | None = None) -> tuple[str, Language]:
        return own_words(
            language, "text", en=self.text_en, es=self.text_es, others=self.translations
        )

    @property
    def is_open(self) -> bool:
        return self.state == State.OPEN and timezone.now() < self.deadline

    @property
    def accepts_pledges(self) -> bool:
        """Pledges are taken until the deadline, also after the threshold (they bind at once)."""
        return self.state in (State.OPEN, State.REACHED) and timezone.now() < self.deadline

    def counted(self) -> models.QuerySet[Pledge]:
        """The pledges that count toward the threshold."""
        qs = self.pledges.filter(withdrawn_at__isnull=True)  # type: ignore[attr-defined]
        if self.require_confirmation:
            qs = qs.exclude(standing=Standing.UNCONFIRMED)
        return qs


class Origin(models.TextChoices):
    WEB = "web", _("Web page, with a phone number")
    SMS = "sms", _("Text message")
    MEMBER = "member", _("Signed-in member")


class Standing(models.TextChoices):
    MEMBER = "member", _("From a known member")
    CONFIRMED = "confirmed", _("Confirmed by a text from the number")
    UNCONFIRMED = "unconfirmed", _("Unknown, not confirmed")


class Pledge(models.Model):
    """One pledge: counted, never edited by anyone but the pledger (withdrawal, confirmation)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="pledges")
    # Keyed digest of the normalised number (or of the member id when there is no number):
    # one pledge per phone, without the phone.
    digest = models.CharField(max_length=64)
    origin = models.CharField(max_length=8, choices=Origin.choices)
    standing = models.CharField(max_length=12, choices=Standing.choices)
    language = models.CharField(max_length=LANGUAGE_CODE_LENGTH, default="en")
    # The workplace the pledge is counted for, when the organisers know the pledger works
    # there (per-unit counts); unknown stays blank.
    unit = models.ForeignKey(
        "organising.Workplace", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pledged_at = models.DateTimeField()  # the hour (see coarse())
    withdrawn_at = models.DateTimeField(null=True, blank=True)  # the hour
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    phone = EncryptedField(key_field="data_key")
    member = EncryptedField(key_field="data_key")  # the user id, as text

    # pledges_tick deletes these rows when the campaign's key is shredded; PLEDGE_RETENTION is
    # purge_expired's backstop.
    _i = c(INTERNAL, PLEDGE_RETENTION, "coordinator")
    _s = c(SENSITIVE, PLEDGE_RETENTION, "coordinator-reveal-after-threshold")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(("id", "campaign", "origin", "standing", "pledged_at", "withdrawn_at"), _i),
        "language": _i,
        "unit": _i,
        **dict.fromkeys(("digest", "data_key", "phone", "member"), _s),
    }

    RETENTION_ANCHOR = "pledged_at"

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["campaign", "digest"], name="one_pledge_per_phone")
        ]

    def __str__(self) -> str:
        return f"Pledge #{self.pk}"
