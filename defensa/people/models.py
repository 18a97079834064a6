"""People brought in from a spreadsheet (invitees) and exports of a committee's members."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import (
    INTERNAL,
    SECRET,
    SENSITIVE,
    FieldClass,
    c,
)
from defensa.core.crypto.fields import EncryptedField
from defensa.core.languages import LANGUAGE_CODE_LENGTH

# An invitee who never joined is forgotten after this long (their contact with them).
INVITEE_RETENTION = dt.timedelta(days=180)
EXPORT_RETENTION = dt.timedelta(days=365)


class Invitee(models.Model):
    """A person on a committee's list who has no account yet: a pending invitation.

    Their name, phone, email and ZIP are sealed (`details`) under their own data key (shredding it
    forgets them); only keyed digests of the phone and email are in the clear, so a second
    import recognises them without anyone reading the numbers. When they are invited, an
    Invitation (committees) is made whose link is derived from `link_nonce` under the
    server's secret, so the message is written at send time and no working link is stored.
    """

    RETENTION_ANCHOR = "created_at"

    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.CASCADE, related_name="invitees"
    )
    import_job = models.ForeignKey(
        "imports.ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # {"name", "phone", "email", "zip"} as one sealed JSON value: one ciphertext per person.
    details = EncryptedField(key_field="data_key")
    phone_digest = models.CharField(max_length=64, blank=True, db_index=True)
    email_digest = models.CharField(max_length=64, blank=True, db_index=True)
    language = models.CharField(_("language"), max_length=LANGUAGE_CODE_LENGTH)
    # Skills the coordinator noted on the list (SkillKind values); granted only by a
    # coordinator once the person has joined, never by joining.
    skills = models.JSONField(default=list, blank=True)
    invitation = models.OneToOneField(
        "committees.Invitation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitee",
    )
    link_nonce = models.CharField(max_length=32, blank=True)
    channel = models.CharField(max_length=10, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    times_invited = models.PositiveSmallIntegerField(default=0)

    _i = c(INTERNAL, INVITEE_RETENTION, "coordinator")
    _s = c(SENSITIVE, INVITEE_RETENTION, "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "committee",
                "import_job",
                "created_at",
                "language",
                "skills",
                "invitation",
                "channel",
                "invited_at",
                "times_invited",
            ),
            _i,
        ),
        **dict.fromkeys(("data_key", "details"), _s),
        # Pseudonyms: recognise a number again, reveal nothing without the master key.
        **dict.fromkeys(("phone_digest", "email_digest"), c(SENSITIVE, INVITEE_RETENTION)),
        # With SECRET_KEY it makes a working invitation link.
        "link_nonce": c(SECRET, INVITEE_RETENTION),
    }

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "phone_digest"],
                condition=~models.Q(phone_digest=""),
                name="one_invitee_per_phone",
            ),
            models.UniqueConstraint(
                fields=["committee", "email_digest"],
                condition=~models.Q(email_digest=""),
                name="one_invitee_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitee #{self.pk}"

    def detail(self, name: str) -> str:
        """One of the sealed details ("name", "phone", "email", "zip"); "" once forgotten."""
        from defensa.core import crypto

        try:
            return str((crypto.unseal_json(self, "details") or {}).get(name) or "")
        except crypto.KeyShredded:
            return ""

    @property
    def joined(self) -> bool:
        return self.invitation is not None and self.invitation.used_at is not None


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a second coordinator")
    APPROVED = "approved", _("Approved: ready to download")
    REFUSED = "refused", _("Refused")
    DOWNLOADED = "downloaded", _("Downloaded")


class MemberExport(models.Model):
    """A coordinator's export of their committee's members. Full phone numbers only after
    a second coordinator approved (security property 7); the file is made at download,
    downloadable once, and never stored."""

    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.CASCADE, related_name="member_exports"
    )
    columns = models.JSONField(default=list)
    full_phones = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)

    RETENTION_ANCHOR = "requested_at"
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        (
            "id",
            "committee",
            "columns",
            "full_phones",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "downloaded_at",
        ),
        c(INTERNAL, EXPORT_RETENTION, "coordinator"),
    )

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Export #{self.pk}"
