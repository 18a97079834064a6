"""People: accounts, skills and trainings, second factors."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from defensa.accounts.signals import home_cell_moved
from defensa.core import geo, languages
from defensa.core.classification import (
    ACCOUNT,
    INTERNAL,
    SECRET,
    SENSITIVE,
    FieldClass,
    c,
)
from defensa.core.languages import LANGUAGE_CODE_LENGTH


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **fields) -> User:  # type: ignore[no-untyped-def]
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class AreaCellField(models.CharField):
    """The home area as one indexed neighbourhood cell, derived from `home_cell`/`home_zip`.

    Computed on every save and bulk_create (Django calls pre_save for both), so dispatch can
    ask the database for the responders in a ring of cells. A queryset.update() of the home
    fields bypasses it: save the person instead.
    """

    def pre_save(self, model_instance, add):  # type: ignore[no-untyped-def]
        value = geo.home_area_cell(model_instance.home_cell, model_instance.home_zip)
        setattr(model_instance, self.attname, value)
        return value


# The languages of core/languages.py (the one list): Language.EN, Language.ES, Language.ZH_HANS ...
Language = models.TextChoices(
    "Language",
    [(lang.code.replace("-", "_").upper(), (lang.code, lang.english)) for lang in languages.ALL],
)


class User(AbstractBaseUser):
    """A person with an account. There is no self-signup: accounts come from invitations."""

    # Empty (NULL) only for a member who takes part by text message alone (`sms_only`).
    email = models.EmailField(_("email"), unique=True, max_length=254, null=True, blank=True)
    display_name = models.CharField(
        _("name others see"),
        max_length=80,
        help_text=_("A first name or a nickname is enough."),
    )
    phone = models.CharField(
        _("mobile phone"),
        max_length=20,
        blank=True,
        help_text=_("For text messages. Coordinators see it masked unless they reveal it."),
    )
    language = models.CharField(
        _("language"),
        max_length=LANGUAGE_CODE_LENGTH,
        choices=Language.choices,
        default=Language.EN,
    )
    notify_email = models.BooleanField(_("send me email"), default=True)
    notify_sms = models.BooleanField(_("send me text messages"), default=False)
    notify_signal = models.BooleanField(_("send me Signal messages"), default=False)
    notify_push = models.BooleanField(_("send me notifications on this device"), default=False)
    # A coarse home area only: a ZIP code or an h3 cell of neighbourhood size. Never a street.
    home_zip = models.CharField(_("home ZIP code"), max_length=5, blank=True)
    home_cell = models.CharField(_("home area"), max_length=16, blank=True)
    area_cell = AreaCellField(max_length=16, blank=True, editable=False)
    on_duty = models.BooleanField(_("on duty"), default=False)
    on_duty_since = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_network_admin = models.BooleanField(default=False)
    # A member without a smartphone: offers, alerts and replies by text message only. No
    # password, no second factor, no web sign-in at all (docs/accounts.md); a texted code is
    # never a second factor here (security property 8).
    sms_only = models.BooleanField(default=False)
    # Bumped on deactivation or any credential change: every session of the account ends.
    session_epoch = models.PositiveIntegerField(default=0)
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    _acct = c(INTERNAL, ACCOUNT, "self", "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        "id": _acct,
        "email": c(SENSITIVE, ACCOUNT, "self", "coordinator"),
        "display_name": _acct,
        "phone": c(SENSITIVE, ACCOUNT, "self", "coordinator-reveal"),
        "language": _acct,
        "notify_email": _acct,
        "notify_sms": _acct,
        "notify_signal": _acct,
        "notify_push": _acct,
        "home_zip": c(SENSITIVE, ACCOUNT, "self", "coordinator", "dispatcher"),
        "home_cell": c(SENSITIVE, ACCOUNT, "self", "coordinator", "dispatcher"),
        "area_cell": c(SENSITIVE, ACCOUNT, "self", "coordinator", "dispatcher"),
        "on_duty": _acct,
        "on_duty_since": _acct,
        "is_active": _acct,
        "is_network_admin": _acct,
        "sms_only": _acct,
        "session_epoch": c(SECRET, ACCOUNT),
        "failed_logins": c(INTERNAL, ACCOUNT, "admin"),
        "locked_until": c(INTERNAL, ACCOUNT, "admin"),
        "created_at": _acct,
        "password": c(SECRET, ACCOUNT),
        "last_login": c(INTERNAL, ACCOUNT, "self", "admin"),
    }

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        # Dispatch walks one area cell's people in id order and stops at the first few.
        indexes = [
            models.Index(fields=["area_cell", "id"], name="user_area_cell_id"),
            # A committee's members page walks people in name order, a page at a time (keyset).
            models.Index(fields=["display_name", "id"], name="user_name_id"),
            # The few switched-off accounts, counted apart from a committee's members.
            models.Index(fields=["id"], condition=Q(is_active=False), name="user_switched_off"),
        ]

    def __str__(self) -> str:
        return self.display_name or f"#{self.pk}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        fields = kwargs.get("update_fields")
        if fields is not None and {"home_cell", "home_zip"} & set(fields):
            kwargs["update_fields"] = fields = {*fields, "area_cell"}  # kept in step with the home
        deferred = self.get_deferred_fields()
        if fields is None and "area_cell" in deferred and not {"home_cell", "home_zip"} & deferred:
            # Read without its cell: Django would save the loaded fields only, the home
            # without the cell that follows it.
            kwargs["update_fields"] = fields = {
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.attname not in deferred
            } | {"area_cell"}
        adding = self._state.adding
        before = self.__dict__.get("area_cell")  # absent when deferred: unknown
        super().save(*args, **kwargs)
        if adding or (fields is not None and "area_cell" not in fields):
            return
        if before is None or before != self.area_cell:
            # The memberships' copy (committees.models.Membership.area_cell) follows the home.
            home_cell_moved.send(sender=User, user=self)

    def get_session_auth_hash(self) -> str:
        # The password hash alone would miss a new passkey or a deactivation.
        return salted_hmac(
            "defensa.accounts.session",
            f"{self.password}:{self.session_epoch}:{self.is_active}",
            algorithm="sha256",
        ).hexdigest()

    def end_all_sessions(self) -> None:
        self.session_epoch += 1
        self.save(update_fields=["session_epoch"])

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def signs_in_on_the_web(self) -> bool:
        """A password and a confirmed second factor (an authenticator app or a passkey).

        The dispatcher, coordinator and legal roles and network administration require it
        (docs/accounts.md): a person who takes part by text message only cannot hold them.
        """
        if self.sms_only or not self.has_usable_password():
            return False
        confirmed = TOTPDevice.objects.filter(user=self, confirmed_at__isnull=False).exists()
        return confirmed or self.passkeys.exists()  # type: ignore[attr-defined]

    @property
    def requires_passkey(self) -> bool:
        """Coordinators and network admins must sign in with a passkey (property 8)."""
        if self.is_network_admin:
            return True
        return self.memberships.filter(is_coordinator=True).exists()  # type: ignore[attr-defined]


def mask_phone(phone: str) -> str:
    digits = [ch for ch in phone if ch.isdigit()]
    if not digits:
        return ""
    return "•••-•••-" + "".join(digits[-2:]).rjust(4, "•")


class SkillKind(models.TextChoices):
    VERIFIER = "verifier", _("Verifier")
    LEGAL_OBSERVER = "legal_observer", _("Legal observer")
    ACCOMPANIER = "accompanier", _("Accompanier")
    INTERPRETER = "interpreter", _("Interpreter")
    DRIVER = "driver", _("Driver")
    ATTORNEY = "attorney", _("Attorney")
    HOTLINE = "hotline", _("Hotline operator")
    # Sees and assesses the workers of the workplaces their committees organise.
    ORGANISER = "organiser", _("Organiser")


# Skills that open work with consequences: confirming or dismissing a raid, taking hotline
# calls, going to court with someone, seeing a legal case, being alerted as a legal observer.
# A coordinator grants them; a member can only ask (committees.actions.update_own_skills).
# Mark a new skill here when it grants such work: this set is the one place that says so.
TRUSTED_SKILLS: frozenset[str] = frozenset(
    {
        SkillKind.VERIFIER,
        SkillKind.HOTLINE,
        SkillKind.ACCOMPANIER,
        SkillKind.ATTORNEY,
        SkillKind.LEGAL_OBSERVER,
        SkillKind.ORGANISER,
    }
)


class Skill(models.Model):
    """A responder skill, with the training behind it (date and expiry)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skills"
    )
    kind = models.CharField(_("skill"), max_length=20, choices=SkillKind.choices)
    trained_on = models.DateField(_("trained on"), null=True, blank=True)
    expires_on = models.DateField(_("training expires on"), null=True, blank=True)

    _s = c(INTERNAL, ACCOUNT, "self", "coordinator", "dispatcher")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "user", "kind", "trained_on", "expires_on"), _s
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_skill_per_kind")]
        # Everyone with one skill (the verifiers of a committee, a broadcast's segment).
        indexes = [models.Index(fields=["kind", "user"], name="skill_kind_user")]

    def __str__(self) -> str:
        return self.get_kind_display()

    def is_current(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.expires_on is None or self.expires_on >= today


class TOTPDevice(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp"
    )
    secret = models.CharField(max_length=64)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last time step accepted, so one code cannot be replayed.
    last_counter = models.BigIntegerField(default=0)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        "id": c(INTERNAL, ACCOUNT),
        "user": c(INTERNAL, ACCOUNT),
        "secret": c(SECRET, ACCOUNT),
        "confirmed_at": c(INTERNAL, ACCOUNT, "self"),
        "last_counter": c(SECRET, ACCOUNT),
    }

    def __str__(self) -> str:
        return f"TOTP for #{self.user_id}"


class Passkey(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys"
    )
    name = models.CharField(_("name"), max_length=60, default="Passkey")
    credential_id = models.BinaryField(unique=True)
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        "id": c(INTERNAL, ACCOUNT),
        "user": c(INTERNAL, ACCOUNT),
        "name": c(INTERNAL, ACCOUNT, "self"),
        "credential_id": c(SECRET, ACCOUNT),
        "public_key": c(SECRET, ACCOUNT),
        "sign_count": c(SECRET, ACCOUNT),
        "created_at": c(INTERNAL, ACCOUNT, "self"),
        "last_used_at": c(INTERNAL, ACCOUNT, "self"),
    }

    def __str__(self) -> str:
        return self.name


class RecoveryCode(models.Model):
    """A one-time code to sign in when the second factor is lost; only its keyed hash is kept.

    Made in a batch (accounts.recovery), shown once; using one marks it used for good.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        "id": c(INTERNAL, ACCOUNT),
        "user": c(INTERNAL, ACCOUNT),
        "code_hash": c(SECRET, ACCOUNT),
        "created_at": c(INTERNAL, ACCOUNT, "self"),
        "used_at": c(INTERNAL, ACCOUNT, "self"),
    }

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="one_recovery_code_each")
        ]

    def __str__(self) -> str:
        return f"Recovery code #{self.pk}"
