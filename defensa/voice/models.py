"""The voice hotline: which number belongs to which committee, and the voicemails left on it.

A call itself leaves no row while operators ring: the language and the stage travel in the
(signed) webhook URLs. Only a caller who reaches voicemail is written down, because a
voicemail is a report that someone must call back.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import (
    ACCOUNT,
    COMMITTEE,
    INTERNAL,
    SECRET,
    SENSITIVE,
    SYSTEM,
    FieldClass,
    c,
)
from defensa.core.crypto.fields import EncryptedField
from defensa.core.languages import LANGUAGE_CODE_LENGTH

# A voicemail is the caller's own voice and number: the most identifying thing the hotline
# holds. Kept a short time (DEFENSA_VOICE_RETENTION_DAYS); the report it made keeps its own,
# longer lifetime without either.
VOICEMAIL_RETENTION = dt.timedelta(days=settings.VOICE_RETENTION_DAYS)
# A caller who reached voicemail but left nothing: the pending row goes within a day.
PENDING_RETENTION = dt.timedelta(days=1)


class Hotline(models.Model):
    """A phone number whose calls belong to a committee (matched on the number called, `To`)."""

    committee = models.ForeignKey(
        "committees.Committee", on_delete=models.CASCADE, related_name="hotlines"
    )
    # E.164, exactly as the provider sends it in `To` ("+12135550100").
    number = models.CharField(_("hotline number"), max_length=20, unique=True)
    # Rung when no operator is on shift or none answers: numbers, and members (their phones).
    fallback_numbers = models.JSONField(_("fallback numbers"), default=list, blank=True)
    fallback_members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("fallback members")
    )
    created_at = models.DateTimeField(default=timezone.now)

    _h = c(INTERNAL, COMMITTEE, "coordinator", "dispatcher")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(("id", "committee", "number", "fallback_members", "created_at"), _h),
        # Fallback numbers may be a volunteer's own phone.
        "fallback_numbers": c(SENSITIVE, COMMITTEE, "coordinator"),
    }

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class VoicemailStatus(models.TextChoices):
    RECORDING = "recording", _("Being recorded")
    FETCHING = "fetching", _("Waiting for the recording")
    STORED = "stored", _("Stored")


class Voicemail(models.Model):
    """A message left on the hotline when nobody answered; it becomes a callback report."""

    hotline = models.ForeignKey(Hotline, on_delete=models.CASCADE, related_name="voicemails")
    # SHA-256 of the provider's call id: finds the row again from the recording callback.
    call_key = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=LANGUAGE_CODE_LENGTH, default="en")
    status = models.CharField(
        max_length=10, choices=VoicemailStatus.choices, default=VoicemailStatus.RECORDING
    )
    # The caller's number and the recording are sealed under this voicemail's own data key
    # (defensa.core.crypto): shredding it, or purging the row, makes both unreadable.
    data_key = models.ForeignKey(
        "crypto.DataKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    caller_number = EncryptedField(key_field="data_key")
    # What the page shows without a reveal: the last two digits, masked.
    caller_hint = models.CharField(max_length=24, blank=True)
    recording_sid = models.CharField(max_length=64, blank=True)
    duration_s = models.PositiveIntegerField(null=True, blank=True)
    # Under MEDIA_ROOT, a random name; the audio in it is sealed with the data key (aad
    # `voice.voicemail.file#<pk>`) and opened only by the access-checked audio view.
    file = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=40, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    fetch_attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    deleted_from_provider_at = models.DateTimeField(null=True, blank=True)
    report = models.OneToOneField(
        "reports.Report",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="voicemail",
    )
    created_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(null=True, blank=True)

    _i = c(INTERNAL, VOICEMAIL_RETENTION, "dispatcher", "coordinator")
    _s = c(SENSITIVE, VOICEMAIL_RETENTION, "dispatcher", "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(
            (
                "id",
                "hotline",
                "language",
                "status",
                "duration_s",
                "content_type",
                "sha256",
                "size",
                "fetch_attempts",
                "last_error",
                "deleted_from_provider_at",
                "report",
                "created_at",
                "received_at",
                "caller_hint",
            ),
            _i,
        ),
        # The recording is the caller's voice: need to know, served only to the committee's
        # dispatchers and coordinators.
        "file": _s,
        **dict.fromkeys(
            ("caller_number", "data_key"),
            c(SENSITIVE, VOICEMAIL_RETENTION, "dispatcher-reveal", "coordinator-reveal"),
        ),
        "call_key": c(SECRET, VOICEMAIL_RETENTION),
        "recording_sid": c(SECRET, VOICEMAIL_RETENTION),
    }

    MEDIA_FIELDS = ("file",)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Voicemail {self.pk}"

    @property
    def has_caller_number(self) -> bool:
        return self.caller_number is not None

    @property
    def masked_caller(self) -> str:
        return self.caller_hint


# Recorded prompts ------------------------------------------------------------------------


class Step(models.TextChoices):
    """Each thing the hotline says to a caller, in the order a call meets them."""

    MENU = "menu", _('Language menu: this language\'s choice ("for Mixtec, press 4")')
    CONNECTING = "connecting", _("Connecting to a hotline volunteer")
    WAITING = "waiting", _("Still trying to reach someone")
    VOICEMAIL = "voicemail", _("Nobody can answer: leave a message after the tone")
    THANKS = "thanks", _("Thanks: a volunteer will call back")
    NO_MESSAGE = "no_message", _("No message was left: goodbye")
    UNAVAILABLE = "unavailable", _("Nobody can answer: please call again")


class VoiceLanguage(models.Model):
    """A language the hotline menu offers with the network's own recordings: one the provider
    cannot speak (Mixtec, Zapotec, K'iche'), or one it speaks, recorded in a human voice."""

    # What the admin types: an ISO 639 code ("mix", "zap", "quc") or one of ours ("es").
    code = models.CharField(_("code"), max_length=LANGUAGE_CODE_LENGTH, unique=True)
    name = models.CharField(_("name in the language itself"), max_length=60)
    # The key the caller presses on the language menu (1-9, 0).
    digit = models.CharField(_("menu key"), max_length=1, unique=True)
    # Hotline operators who speak it: rung first when a caller chooses it.
    speakers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("speakers")
    )
    created_at = models.DateTimeField(default=timezone.now)

    # The network's own set-up (recorded prompts hold no caller's data).
    _v = c(INTERNAL, SYSTEM, "admin")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        **dict.fromkeys(("id", "code", "name", "digit", "created_at"), _v),
        "speakers": c(INTERNAL, ACCOUNT, "admin", "coordinator"),
    }

    class Meta:
        ordering = ["digit"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class VoicePrompt(models.Model):
    """One step of the menu, recorded in one language. The audio is re-encoded as telephone
    WAV (voice/audio.py) and kept in the file store; it is never public: only the voice
    provider fetches it, at a signed link that expires (voice/prompts.py)."""

    language = models.ForeignKey(VoiceLanguage, on_delete=models.CASCADE, related_name="prompts")
    step = models.CharField(max_length=20, choices=Step.choices)
    file = models.CharField(max_length=200)
    duration_ms = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    _p = c(INTERNAL, SYSTEM, "admin")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "language", "step", "file", "duration_ms", "size", "sha256", "created_at"), _p
    )

    MEDIA_FIELDS = ("file",)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["language", "step"], name="one_prompt_per_step")
        ]

    def __str__(self) -> str:
        return f"{self.language.code} {self.step}"

    @property
    def seconds(self) -> str:
        return f"{self.duration_ms / 1000:.1f}"
