"""Committees (network -> city -> local), memberships with roles, shifts, invitations, vouches."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.core.classification import (
    ACCOUNT,
    COMMITTEE,
    INTERNAL,
    PUBLIC,
    SECRET,
    SENSITIVE,
    SYSTEM,
    FieldClass,
    c,
)
from defensa.core.languages import LANGUAGE_CODE_LENGTH


class Kind(models.TextChoices):
    NETWORK = "network", _("Network")
    CITY = "city", _("City")
    LOCAL = "local", _("Local committee")
    # Organising at one workplace, or a union's local: committees like the others, under an
    # area committee; their workplaces are organised from them (docs/organising.md).
    WORKPLACE = "workplace", _("Workplace committee")
    UNION_LOCAL = "union_local", _("Union local")


class Committee(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(unique=True, max_length=60)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.LOCAL)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="America/Los_Angeles")
    # The committee's area: ZIP codes and/or h3 cells (any resolution).
    zip_codes = models.JSONField(_("ZIP codes"), default=list, blank=True)
    h3_cells = models.JSONField(_("h3 cells"), default=list, blank=True)
    vouches_required = models.PositiveSmallIntegerField(
        _("vouches needed for full membership"), default=2
    )
    # The languages the committee works in (codes of settings.LANGUAGES).
    languages = models.JSONField(_("languages"), default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # An archived committee keeps its history but holds no area: no report is routed to it.
    archived_at = models.DateTimeField(null=True, blank=True)

    _p = c(INTERNAL, COMMITTEE, "member")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        (
            "id",
            "name",
            "slug",
            "kind",
            "parent",
            "time_zone",
            "zip_codes",
            "h3_cells",
            "vouches_required",
            "languages",
            "created_at",
            "archived_at",
        ),
        _p,
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def ancestors(self) -> list[Committee]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain


class PlaceName(models.Model):
    """The name people use for a ZIP code's neighbourhood ("Boyle Heights"), set by the
    network's administrators; alerts, the console and the public page say it beside the ZIP."""

    zip_code = models.CharField(_("ZIP code"), max_length=5, unique=True)
    name = models.CharField(_("neighbourhood name"), max_length=80)
    updated_at = models.DateTimeField(default=timezone.now)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        "id": c(PUBLIC, SYSTEM),
        "zip_code": c(PUBLIC, SYSTEM),
        "name": c(PUBLIC, SYSTEM),
        "updated_at": c(PUBLIC, SYSTEM),
    }

    class Meta:
        ordering = ["zip_code"]

    def __str__(self) -> str:
        return f"{self.zip_code} {self.name}"


class MemberStatus(models.TextChoices):
    PROBATION = "probation", _("On probation")
    FULL = "full", _("Full member")


def follow_home(sender: Any, user: Any, **kwargs: Any) -> None:
    """A person's home cell moved (accounts.signals.home_cell_moved): their memberships'
    copies follow it."""
    Membership.objects.filter(user_id=user.pk).exclude(area_cell=user.area_cell).update(
        area_cell=user.area_cell
    )


def fill_area_cells(memberships: list[Membership]) -> None:
    """Copy each new membership's person's `User.area_cell` onto it (one query for those
    whose person is not at hand): dispatch finds a committee's responders in a cell by the
    (committee, area_cell) index, where people's cells alone hold every committee's members."""
    missing = []
    for membership in memberships:
        if membership.area_cell:
            continue
        if Membership.user.is_cached(membership):  # type: ignore[attr-defined]
            person = membership.user
            if "area_cell" in person.__dict__:
                membership.area_cell = person.area_cell or ""
                continue
        missing.append(membership)
    ids = {m.user_id for m in missing if m.user_id is not None}
    if not ids:
        return
    from defensa.accounts.models import User

    cells = dict(User.objects.filter(pk__in=ids).values_list("pk", "area_cell"))
    for membership in missing:
        membership.area_cell = cells.get(membership.user_id) or ""


class MembershipQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):  # type: ignore[no-untyped-def]
        objs = list(objs)
        fill_area_cells(objs)
        return super().bulk_create(objs, *args, **kwargs)


class Membership(models.Model):
    """A person in a committee, with that committee's roles."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="memberships")
    status = models.CharField(
        _("status"), max_length=10, choices=MemberStatus.choices, default=MemberStatus.PROBATION
    )
    is_dispatcher = models.BooleanField(_("dispatcher"), default=False)
    is_legal = models.BooleanField(_("legal team"), default=False)
    is_coordinator = models.BooleanField(_("coordinator"), default=False)
    # Intake: types reports from calls (the hotline operator form) and sees the incidents
    # those reports went into; no verification, verdicts or alerts (docs/rapid-response.md).
    is_intake = models.BooleanField(_("intake"), default=False)
    joined_at = models.DateTimeField(default=timezone.now)
    full_since = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A copy of the person's `User.area_cell`, kept in step by User.save and filled on
    # creation (save and bulk_create): the (committee, area_cell) index answers "this
    # committee's people in this cell" without reading every other committee's there.
    area_cell = models.CharField(max_length=16, blank=True, default="", editable=False)

    objects = MembershipQuerySet.as_manager()

    _m = c(INTERNAL, ACCOUNT, "self", "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        (
            "id",
            "user",
            "committee",
            "status",
            "is_dispatcher",
            "is_legal",
            "is_coordinator",
            "is_intake",
            "joined_at",
            "full_since",
            "invited_by",
        ),
        _m,
    )
    DATA_CLASSIFICATION["area_cell"] = c(SENSITIVE, ACCOUNT, "self", "coordinator", "dispatcher")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "committee"], name="one_membership")]
        indexes = [
            models.Index(fields=["committee", "area_cell", "user"], name="membership_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.committee}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self._state.adding:
            fill_area_cells([self])
        super().save(*args, **kwargs)

    @property
    def is_full(self) -> bool:
        return self.status == MemberStatus.FULL

    def roles(self) -> list[str]:
        names = []
        if self.is_coordinator:
            names.append(str(_("coordinator")))
        if self.is_dispatcher:
            names.append(str(_("dispatcher")))
        if self.is_legal:
            names.append(str(_("legal team")))
        if self.is_intake:
            names.append(str(_("intake")))
        return names

    def history_since(self) -> dt.datetime | None:
        """Members on probation see nothing from before they joined (property 6)."""
        return None if self.is_full else self.joined_at

    def is_on_shift(self, at: dt.datetime | None = None) -> bool:
        at = (at or timezone.now()).astimezone(self.committee.tz)
        return any(shift.covers(at) for shift in self.shifts.all())  # type: ignore[attr-defined]


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Shift(models.Model):
    """A weekly availability window, in wall-clock time of the committee's time zone.

    Wall-clock times mean "Tuesday 18:00-22:00" stays 18:00-22:00 across daylight-saving
    changes. An end at or before the start runs past midnight into the next day.
    """

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="shifts")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    _s = c(INTERNAL, ACCOUNT, "self", "coordinator", "dispatcher")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "membership", "weekday", "start", "end"), _s
    )

    class Meta:
        ordering = ["weekday", "start"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    def covers(self, local: dt.datetime) -> bool:
        """True when `local` (aware, in the committee's zone) falls inside this shift."""
        return shift_covers(self.weekday, self.start, self.end, local)


def shift_covers(weekday: int, start: dt.time, end: dt.time, local: dt.datetime) -> bool:
    """`Shift.covers` for a shift's values (a committee's thousands, without a model
    instance each)."""
    t = local.time().replace(tzinfo=None)
    day = local.weekday()
    if start < end:
        return day == weekday and start <= t < end
    # Overnight: from start to midnight on weekday, then to end on the next day.
    if day == weekday and t >= start:
        return True
    return day == (weekday + 1) % 7 and t < end


class Founding(models.TextChoices):
    """What a founding link makes the person who uses it, besides a full member."""

    MEMBER = "member", _("a full member")
    DISPATCHER = "dispatcher", _("a dispatcher")
    VERIFIER = "verifier", _("a verifier")
    COORDINATOR = "coordinator", _("a coordinator")


class Invitation(models.Model):
    """A single-use, expiring link. Only a hash of the token is stored.

    Or a texted code for a member without a smartphone (an *SMS-only* membership,
    docs/accounts.md): `phone_digest` is set, the person joins by texting "JOIN <code>" from
    that number (committees.sms), and `token_hash` is the hash of the code (with a prefix a
    link's token never has). The code is derived from `code_nonce` under the server's secret,
    so the message is written at send time and no working code is stored. The number itself
    is kept only as a keyed digest.
    """

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    note = models.CharField(
        _("note for yourself"),
        max_length=80,
        blank=True,
        help_text=_("Who it is for, so you recognise it later. Kept until the link is used."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # A founding link (a new committee has nobody to vouch): made by someone who sets the
    # committee up, it makes the person a full member at once, starting as this.
    founding = models.CharField(
        _("starts as"), max_length=12, choices=Founding.choices, blank=True, default=""
    )
    # SMS-only invitations: the keyed digest of the invited number, the nonce of the code,
    # the name the coordinator typed (until the code is used), the language of the texts and
    # whether the person joins as a full member rather than on probation.
    phone_digest = models.CharField(max_length=64, blank=True, db_index=True)
    code_nonce = models.CharField(max_length=32, blank=True)
    display_name = models.CharField(_("name"), max_length=80, blank=True)
    language = models.CharField(max_length=LANGUAGE_CODE_LENGTH, blank=True)
    full = models.BooleanField(default=False)
    # A link for an SMS-only member to make a web sign-in on their own account (converting it:
    # email, password and an authenticator app), instead of a new account.
    for_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    _i = c(INTERNAL, dt.timedelta(days=90), "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        "phone_digest": c(SENSITIVE, dt.timedelta(days=90)),
        "code_nonce": c(SECRET, dt.timedelta(days=90)),
        "display_name": _i,
        "language": _i,
        "full": _i,
        "for_user": _i,
        "id": _i,
        "committee": _i,
        "token_hash": c(SECRET, dt.timedelta(days=90)),
        "note": _i,
        "created_by": _i,
        "created_at": _i,
        "expires_at": _i,
        "used_at": _i,
        "used_by": _i,
        "revoked_at": _i,
        "founding": _i,
    }

    def __str__(self) -> str:
        return f"Invitation #{self.pk} to {self.committee}"

    @classmethod
    def build(
        cls, committee: Committee, token_hash: str, *, actor: object, now: dt.datetime
    ) -> Invitation:
        """An unsaved link to the committee, valid for INVITATION_DAYS from `now`."""
        return cls(
            committee=committee,
            token_hash=token_hash,
            created_by=actor,
            created_at=now,
            expires_at=now + dt.timedelta(days=settings.INVITATION_DAYS),
        )

    @property
    def by_text(self) -> bool:
        """An SMS-only invitation: a texted code, not a link."""
        return bool(self.phone_digest)

    @staticmethod
    def usable(now: dt.datetime) -> models.Q:
        """The one rule for a link that still works at `now`: unused, unrevoked, unexpired."""
        return models.Q(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class Vouch(models.Model):
    """A full member vouches for a person on probation."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="vouches")
    voucher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vouches_given"
    )
    created_at = models.DateTimeField(default=timezone.now)

    _v = c(INTERNAL, ACCOUNT, "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "membership", "voucher", "created_at"), _v
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "voucher"], name="one_vouch_each")
        ]

    def __str__(self) -> str:
        return f"Vouch #{self.pk}"


class Announcement(models.Model):
    """A coordinator's note to the committee. Members on probation see only newer ones."""

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="announcements")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(_("message"), max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    _a = c(INTERNAL, dt.timedelta(days=365), "member")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "committee", "author", "body", "created_at"), _a
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Announcement #{self.pk}"


class GrantStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a second coordinator")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class GrantKind(models.TextChoices):
    COORDINATOR = "coordinator", _("To become a coordinator")
    SKILL = "skill", _("A skill")
    DEACTIVATE = "deactivate", _("To switch the account off")
    REACTIVATE = "reactivate", _("To switch the account back on")


class RoleGrant(models.Model):
    """A request that takes effect only when a coordinator other than the one who asked decides
    it (security property 7): making someone a coordinator, switching off an account that
    reaches above or beside the asker, switching an account back on, and a member's request
    for a skill that grants work with consequences (accounts.models.TRUSTED_SKILLS)."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(max_length=20, choices=GrantKind.choices, default=GrantKind.COORDINATOR)
    # For role == "skill": which skill (a SkillKind value); blank otherwise.
    skill = models.CharField(max_length=20, blank=True, default="")
    status = models.CharField(
        max_length=10, choices=GrantStatus.choices, default=GrantStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        (
            "id",
            "membership",
            "role",
            "skill",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
        ),
        c(INTERNAL, ACCOUNT, "coordinator"),
    )

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            # One open request per person, role and skill: asking twice finds the first.
            models.UniqueConstraint(
                fields=["membership", "role", "skill"],
                condition=models.Q(status="pending"),
                name="one_pending_grant",
            )
        ]

    def __str__(self) -> str:
        return f"Role grant #{self.pk}"

    @property
    def skill_label(self) -> str:
        from defensa.accounts.models import SkillKind

        return str(SkillKind(self.skill).label) if self.skill in SkillKind.values else self.skill


class SwapStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a coordinator")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


# The one table of a swap's steps (checked by defensa.core.transitions.check_move).
SWAP_TRANSITIONS: dict[str, frozenset[str]] = {
    SwapStatus.PENDING: frozenset({SwapStatus.APPROVED, SwapStatus.REFUSED}),
    SwapStatus.APPROVED: frozenset(),
    SwapStatus.REFUSED: frozenset(),
}


class ShiftSwap(models.Model):
    """A member asks to hand one of their shifts to another member of the committee; a
    coordinator approves (the shift moves to the other member) or refuses."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="swaps")
    # Who holds the shift when asking, and who would take it.
    giver = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    taker = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=SwapStatus.choices, default=SwapStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    _w = c(INTERNAL, dt.timedelta(days=90), "self", "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "shift", "giver", "taker", "status", "created_at", "decided_by", "decided_at"), _w
    )

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # One open request per shift: asking again finds the first.
            models.UniqueConstraint(
                fields=["shift"], condition=models.Q(status="pending"), name="one_pending_swap"
            )
        ]

    def __str__(self) -> str:
        return f"Shift swap #{self.pk}"


class ShiftReminder(models.Model):
    """That the reminder for one occurrence of a shift was queued: a second pass (or a second
    process) finds the row and sends nothing again."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="reminders")
    starts_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    _r = c(INTERNAL, dt.timedelta(days=30))
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = dict.fromkeys(
        ("id", "shift", "starts_at", "created_at"), _r
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shift", "starts_at"], name="one_reminder_per_shift")
        ]

    def __str__(self) -> str:
        return f"Shift reminder #{self.pk}"


class RecoveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved: link given")
    USED = "used", _("Recovered")
    REFUSED = "refused", _("Refused")


# The one table of a recovery request's steps: two approvals keep it pending until the
# second makes the link (approved); using the link ends it (used). A lapsed request is refused.
RECOVERY_TRANSITIONS: dict[str, frozenset[str]] = {
    RecoveryStatus.PENDING: frozenset({RecoveryStatus.APPROVED, RecoveryStatus.REFUSED}),
    RecoveryStatus.APPROVED: frozenset({RecoveryStatus.USED}),
    RecoveryStatus.USED: frozenset(),
    RecoveryStatus.REFUSED: frozenset(),
}


class RecoveryRequest(models.Model):
    """A person who lost their password or second factor asks to recover their account.

    Two coordinators of one of their committees (for a network administrator: two other
    administrators) approve; the second approval ends every session, removes the old second
    factors and makes a single-use, expiring link (only its hash is kept) that the approver
    hands over in person. Nothing is recovered by email alone.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_requests"
    )
    status = models.CharField(
        max_length=10, choices=RecoveryStatus.choices, default=RecoveryStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    first_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_approved_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    token_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    link_expires_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    _q = c(INTERNAL, dt.timedelta(days=90), "coordinator")
    DATA_CLASSIFICATION: ClassVar[dict[str, FieldClass]] = {
        "id": _q,
        "user": _q,
        "status": _q,
        "created_at": _q,
        "first_approver": _q,
        "first_approved_at": _q,
        "decided_by": _q,
        "decided_at": _q,
        "token_hash": c(SECRET, dt.timedelta(days=90)),
        "link_expires_at": _q,
        "used_at": _q,
    }

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open request per person: asking again finds the first.
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="pending"), name="one_pending_recovery"
            )
        ]

    def __str__(self) -> str:
        return f"Recovery request #{self.pk}"
