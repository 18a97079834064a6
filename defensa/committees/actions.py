"""Committee writes: invitations, joining, vouching, roles, profiles, availability.

Each function is one atomic change with one audit entry (ids and action names only).
Views parse and check access, then call exactly one of these.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from defensa.accounts import mfa
from defensa.accounts.actions import (
    LastNetworkAdminError,
    deactivate_user,
    reactivate_user,
    recover_account,
    reset_for_recovery,
)
from defensa.accounts.models import TRUSTED_SKILLS, Skill, SkillKind, TOTPDevice, User
from defensa.audit.log import record
from defensa.audit.reveals import RevealQuota as RevealQuota  # re-exported for the views
from defensa.audit.reveals import record_reveal
from defensa.committees.access import committee_and_below
from defensa.committees.archiving import archive_blockers
from defensa.committees.models import (
    RECOVERY_TRANSITIONS,
    SWAP_TRANSITIONS,
    Announcement,
    Committee,
    Founding,
    GrantKind,
    GrantStatus,
    Invitation,
    Kind,
    Membership,
    MemberStatus,
    PlaceName,
    RecoveryRequest,
    RecoveryStatus,
    RoleGrant,
    Shift,
    ShiftReminder,
    ShiftSwap,
    SwapStatus,
    Vouch,
)
from defensa.core import geo
from defensa.core.crypto.digests import digest_key, keyed_digest
from defensa.core.tokens import derived_short_code, hash_token, is_plausible
from defensa.core.transitions import check_move
from defensa.notify.actions import Address, normalize_address, queue_message
from defensa.notify.models import Channel, Priority

# secrets.token_urlsafe(32): 256 random bits, 43 URL-safe characters (property 6 wants 128+).
TOKEN_BYTES = 32
MAX_SHIFTS_PER_MEMBERSHIP = 28


class ActionError(Exception):
    """A rule refused the change; nothing was written. The message is for people."""


class InvitationUnusable(ActionError):
    pass


class BadCode(ActionError):
    pass


class EmailTaken(ActionError):
    pass


def find_invitation(token: str) -> Invitation | None:
    """The invitation for a token from a link (usable or not), or None for a tampered one."""
    if not is_plausible(token):
        return None
    # A texted code (SMS-only membership) is never a link: it works only from its number.
    return (
        Invitation.objects.select_related("committee")
        .filter(token_hash=hash_token(token), phone_digest="")
        .first()
    )


# Invitations --------------------------------------------------------------------------


@transaction.atomic
def create_invitation(
    committee: Committee, *, actor: User, note: str = "", for_user: User | None = None
) -> tuple[Invitation, str]:
    """A single-use link valid for INVITATION_DAYS. Returns the token: it is never stored.

    `for_user`: an SMS-only member of the committee, who makes a web sign-in (email, password,
    authenticator app) on their own account with this link; their earlier such links stop
    working."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    if for_user is not None:
        if not for_user.sms_only or not for_user.is_active:
            raise ActionError("not_sms_only")
        Invitation.objects.filter(
            for_user=for_user, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
    invitation = Invitation.build(committee, hash_token(token), actor=actor, now=now)
    invitation.note = note
    invitation.for_user = for_user
    invitation.save()
    record(
        "invitation.created",
        actor=actor,
        obj=invitation,
        committee=committee,
        for_user=for_user.pk if for_user else None,
    )
    return invitation, token


class FoundingClosed(ActionError):
    """The committee already has members enough to vouch: its people join the usual way."""


def founding_open(committee: Committee) -> bool:
    """A committee takes founding links while it is active and has fewer full members than
    the vouches it needs: until then nobody could vouch for a newcomer."""
    if committee.is_archived:
        return False
    full = Membership.objects.filter(
        committee=committee, status=MemberStatus.FULL, user__is_active=True
    ).count()
    return full < max(committee.vouches_required, 1)


@transaction.atomic
def create_founding_invitation(
    committee: Committee, *, actor: User, founding: str, note: str = ""
) -> tuple[Invitation, str]:
    """A founding link to a new committee, made by someone who sets it up (network admins,
    coordinators above it): the person who uses it is a full member at once, and starts as
    `founding` (a Founding value: member, dispatcher, verifier or coordinator). The one who
    makes it vouches for them and grants the role, as the audit log says."""
    if founding not in Founding.values:
        raise ActionError("founding")
    locked = Committee.objects.select_for_update().get(pk=committee.pk)
    if not founding_open(locked):
        raise FoundingClosed("founding_closed")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = Invitation.build(locked, hash_token(token), actor=actor, now=timezone.now())
    invitation.note, invitation.founding = note, founding
    invitation.save()
    record("invitation.created", actor=actor, obj=invitation, committee=locked, founding=founding)
    return invitation, token


@transaction.atomic
def revoke_invitation(invitation: Invitation, *, actor: User) -> bool:
    """Revoke an unused invitation. False (and nothing written) if already used or revoked."""
    now = timezone.now()
    changed = Invitation.objects.filter(
        pk=invitation.pk, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    if not changed:
        return False
    invitation.revoked_at = now
    record("invitation.revoked", actor=actor, obj=invitation, committee=invitation.committee_id)
    return True


@dataclass
class SignUp:
    display_name: str
    email: str
    # Hashed in step 1, so the plain password is never kept between steps.
    password_hash: str
    language: str
    totp_secret: str
    totp_code: str


@transaction.atomic
def accept_invitation(invitation: Invitation, signup: SignUp) -> Membership:
    """Create the account, its TOTP device and a membership on probation; use up the link.

    Raises InvitationUnusable (someone else got there first, or it expired or was revoked),
    BadCode or EmailTaken; in every case the transaction rolls back and nothing is written.
    """
    now = timezone.now()
    _claim(invitation, now)
    email = User.objects.normalize_email(signup.email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise EmailTaken
    converting = invitation.for_user_id is not None
    if converting:
        # An SMS-only member makes a web sign-in on their own account: same person, same
        # memberships, skills and shifts; from now on a password and an authenticator app.
        user = User.objects.select_for_update().get(pk=invitation.for_user_id)
        if not user.sms_only or not user.is_active:
            raise InvitationUnusable
        user.email, user.display_name = email, signup.display_name
        user.language, user.password, user.sms_only = signup.language, signup.password_hash, False
        fields = ["email", "display_name", "language", "password", "sms_only"]
    else:
        user = User(
            email=email,
            display_name=signup.display_name,
            language=signup.language,
            password=signup.password_hash,
            created_at=now,
        )
        fields = None
    try:
        with transaction.atomic():
            user.save(update_fields=fields)
    except IntegrityError:
        raise EmailTaken from None
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, secret=signup.totp_secret)
    # check_totp records the time step used, so the enrolment code cannot be replayed.
    if not mfa.check_totp(device, signup.totp_code):
        raise BadCode
    device.confirmed_at = now
    device.save(update_fields=["confirmed_at"])
    membership = (
        Membership.objects.filter(user=user, committee_id=invitation.committee_id).first()
        if converting
        else None
    )
    if membership is None:
        membership = _new_membership(invitation, user, now)
    else:
        Invitation.objects.filter(pk=invitation.pk).update(used_by=user, note="")
        invitation.used_at, invitation.used_by, invitation.note = now, user, ""
    record(
        "invitation.accepted",
        actor=user,
        obj=membership,
        committee=invitation.committee_id,
        invitation=invitation.pk,
        founding=invitation.founding,
        converted=converting,
    )
    return membership


class AlreadyMember(ActionError):
    pass


def _claim(invitation: Invitation, now: dt.datetime) -> None:
    # The conditional update is the lock: of two people racing one link, one updates a row
    # and the other updates none (PostgreSQL re-checks the condition after the row lock;
    # SQLite runs writers one at a time).
    claimed = Invitation.objects.filter(Invitation.usable(now), pk=invitation.pk).update(
        used_at=now
    )
    if claimed != 1:
        raise InvitationUnusable


def _new_membership(invitation: Invitation, user: User, now: dt.datetime) -> Membership:
    committee = invitation.committee
    # A founding link's maker vouched for the person and grants the role (docs/setup.md).
    founding = invitation.founding
    full = committee.vouches_required == 0 or bool(founding)
    membership = Membership.objects.create(
        user=user,
        committee=committee,
        status=MemberStatus.FULL if full else MemberStatus.PROBATION,
        joined_at=now,
        full_since=now if full else None,
        invited_by_id=invitation.created_by_id,
        is_dispatcher=founding == Founding.DISPATCHER,
        is_coordinator=founding == Founding.COORDINATOR,
    )
    if founding == Founding.VERIFIER:
        Skill.objects.get_or_create(user=user, kind=SkillKind.VERIFIER)
    # The note named who the link was for; once used, it is no longer needed (collect less).
    Invitation.objects.filter(pk=invitation.pk).update(used_by=user, note="")
    invitation.used_at, invitation.used_by, invitation.note = now, user, ""
    return membership


@transaction.atomic
def join_with_account(invitation: Invitation, *, user: User) -> Membership:
    """Someone who already has an account joins another committee, on probation there."""
    now = timezone.now()
    if invitation.for_user_id is not None:
        raise InvitationUnusable  # an SMS-only member's own link: for them alone
    if Membership.objects.filter(user=user, committee_id=invitation.committee_id).exists():
        raise AlreadyMember
    _claim(invitation, now)
    membership = _new_membership(invitation, user, now)
    record(
        "invitation.accepted",
        actor=user,
        obj=membership,
        committee=invitation.committee_id,
        invitation=invitation.pk,
        existing_account=True,
        founding=invitation.founding,
    )
    return membership


# SMS-only members: invited by a texted code, joining by texting it back -----------------

# The texts that carry an SMS-only invitation and answer "JOIN <code>" (committees.messages).
SMS_INVITATION = "committee_sms_invitation"
SMS_JOIN_REPLY = "committee_sms_join_reply"
# 8 characters of a 32-letter alphabet: 40 bits, and a code works only from its own number.
SMS_CODE_LENGTH = 8
_CODE_SALT = "defensa.committees.sms_invitation"
# A link's token is URL-safe base64 and never holds ":", so no link can hash to a code.
_CODE_PREFIX = "sms-join:"
PHONE_DIGEST = "committees.invitation_phone"


def sms_code(invitation: Invitation) -> str:
    """The code of an SMS-only invitation, worked out again from its nonce (never stored)."""
    return derived_short_code(_CODE_SALT, invitation.code_nonce, SMS_CODE_LENGTH)


def code_hash(code: str) -> str:
    """What `token_hash` holds for a texted code (already normal: `core.tokens.normal_code`)."""
    return hash_token(_CODE_PREFIX + code)


def phone_digest(phone: str) -> str:
    """The keyed digest an SMS-only invitation keeps of its number (never the number)."""
    return keyed_digest(digest_key(PHONE_DIGEST), "sms:" + normalize_address(Channel.SMS, phone))


def build_sms_invitation(
    committee: Committee,
    *,
    actor: User,
    phone: str,
    name: str,
    language: str,
    full: bool,
    now: dt.datetime,
    job: int | None = None,
    address_key: object = None,
) -> Invitation:
    """A saved SMS-only invitation for `phone` (E.164) and its text, queued in the caller's
    transaction in the person's language (`job`: the import it came from, for the bulk
    invitations' progress bar; `address_key`: a data key to seal the number under, so it dies
    with the caller's row). No audit entry: the caller records one."""
    while True:
        nonce = secrets.token_hex(16)
        invitation = Invitation.build(committee, "", actor=actor, now=now)
        invitation.code_nonce = nonce
        invitation.token_hash = code_hash(sms_code(invitation))
        if not Invitation.objects.filter(token_hash=invitation.token_hash).exists():
            break
    invitation.phone_digest = phone_digest(phone)
    invitation.display_name = name
    invitation.language = language
    invitation.full = full
    invitation.save()
    queue_message(
        Address(Channel.SMS, phone, language),
        SMS_INVITATION,
        {"invitation": invitation.pk, "committee": committee.pk, "job": job},
        priority=Priority.BULK,
        idempotency_key=f"committees.sms_invite:{invitation.pk}",
        audit=False,
        address_key=address_key,
    )
    return invitation


@transaction.atomic
def invite_by_text(
    committee: Committee,
    *,
    actor: User,
    phone: str,
    name: str,
    language: str,
    full: bool = False,
) -> Invitation:
    """Invite one person without a smartphone as an SMS-only member: a text to `phone` (E.164)
    with a code to text back. Their earlier unused invitations by text here stop working."""
    now = timezone.now()
    digest = phone_digest(phone)
    Invitation.objects.filter(
        committee=committee, phone_digest=digest, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    invitation = build_sms_invitation(
        committee, actor=actor, phone=phone, name=name, language=language, full=full, now=now
    )
    record(
        "invitation.created",
        actor=actor,
        obj=invitation,
        committee=committee,
        by_text=True,
        full=full,
    )
    return invitation


@dataclass(frozen=True)
class TextJoin:
    """What became of a "JOIN <code>" text: `outcome` is joined, already, used, expired or
    unknown (no such code, or not for this number: the same answer, so a stranger learns
    nothing about a code)."""

    outcome: str
    invitation: Invitation | None = None
    membership: Membership | None = None


@transaction.atomic
def join_by_text(phone: str, code: str) -> TextJoin:
    """The person texted the code of their SMS-only invitation from `phone` (E.164): make them
    a member, on probation or full as the invitation said, with an SMS-only account (no
    password, no web sign-in), and use the invitation up. A wrong code, a code from another
    number, or an expired, cancelled or used one changes nothing."""
    now = timezone.now()
    invitation = (
        Invitation.objects.select_related("committee")
        .filter(token_hash=code_hash(code))
        .exclude(phone_digest="")
        .first()
    )
    if invitation is None or not secrets.compare_digest(
        invitation.phone_digest, phone_digest(phone)
    ):
        return TextJoin("unknown")
    if invitation.used_at is not None:
        return TextJoin("used", invitation)
    if invitation.revoked_at is not None or invitation.expires_at <= now:
        return TextJoin("expired", invitation)
    committee = invitation.committee
    user = User.objects.filter(phone=phone, is_active=True, sms_only=True).order_by("pk").first()
    if user is not None and Membership.objects.filter(user=user, committee=committee).exists():
        return TextJoin("already", invitation)
    try:
        _claim(invitation, now)
    except InvitationUnusable:
        return TextJoin("used", invitation)
    existing = user is not None
    if user is None:
        user = User(
            email=None,
            display_name=invitation.display_name or phone[-4:],
            phone=phone,
            language=invitation.language or settings.LANGUAGE_CODE,
            notify_email=False,
            notify_sms=True,
            sms_only=True,
            created_at=now,
        )
        user.set_unusable_password()
        user.save()
    membership = _new_membership(invitation, user, now)
    if invitation.full and not membership.is_full:
        membership.status, membership.full_since = MemberStatus.FULL, now
        membership.save(update_fields=["status", "full_since"])
    Invitation.objects.filter(pk=invitation.pk).update(display_name="")
    record(
        "invitation.accepted",
        actor=user,
        obj=membership,
        committee=committee.pk,
        invitation=invitation.pk,
        by_text=True,
        existing_account=existing,
        status=membership.status,
    )
    return TextJoin("joined", invitation, membership)


def reply_to_join(number: str, language: str, result: TextJoin, sid: str) -> None:
    """Answer a JOIN text by text, in the keyword's language (or the invitation's)."""
    with transaction.atomic():
        queue_message(
            Address(Channel.SMS, number, language),
            SMS_JOIN_REPLY,
            {
                "outcome": result.outcome,
                "committee": result.invitation.committee_id if result.invitation else 0,
                "full": bool(result.membership and result.membership.is_full),
            },
            priority=Priority.URGENT,
            idempotency_key=f"committees.join_reply:{sid}",
            audit=False,
        )


# Vouching -----------------------------------------------------------------------------


@transaction.atomic
def vouch_for(membership: Membership, *, actor: User) -> bool:
    """A full member vouches for a person on probation. Returns True if that made them full.

    The caller has checked that actor is a full member of the committee (access helper);
    here we refuse vouching for oneself and vouching twice.
    """
    if membership.user_id == actor.pk:
        raise ActionError("self")
    # Lock the membership so two vouches arriving together count to the right total.
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.status != MemberStatus.PROBATION:
        raise ActionError("not_on_probation")
    if Vouch.objects.filter(membership=locked, voucher=actor).exists():
        raise ActionError("twice")
    Vouch.objects.create(membership=locked, voucher=actor)
    count = Vouch.objects.filter(membership=locked).count()
    promoted = count >= locked.committee.vouches_required
    if promoted:
        locked.status = MemberStatus.FULL
        locked.full_since = timezone.now()
        locked.save(update_fields=["status", "full_since"])
        membership.status, membership.full_since = locked.status, locked.full_since
    record(
        "member.vouched",
        actor=actor,
        obj=locked,
        committee=locked.committee_id,
        vouches=count,
        promoted=promoted,
    )
    return promoted


# Announcements ------------------------------------------------------------------------


@transaction.atomic
def post_announcement(committee: Committee, *, actor: User, body: str) -> Announcement:
    announcement = Announcement.objects.create(committee=committee, author=actor, body=body)
    record("announcement.posted", actor=actor, obj=announcement, committee=committee)
    return announcement


# Coordinators managing members --------------------------------------------------------


def reveal_phone(membership: Membership, *, actor: User) -> str:
    """The member's full phone number, for this one response; every reveal is audited and
    counted against the hourly quota (defensa.audit.reveals; RevealQuota past it)."""
    record_reveal(
        "member.phone",
        actor=actor,
        obj=membership,
        committee=membership.committee_id,
        user=membership.user_id,
    )
    return membership.user.phone


@transaction.atomic
def change_roles(
    membership: Membership,
    *,
    actor: User,
    is_dispatcher: bool,
    is_legal: bool,
    is_coordinator: bool,
    is_intake: bool = False,
) -> bool:
    """Set the member's roles in this committee. Returns False when nothing changed.

    Making someone a coordinator is not done here: it becomes a pending `RoleGrant` that
    another coordinator must approve (`approve_role_grant`; security property 7). Dispatcher,
    legal and intake roles, and removing the coordinator role, take effect at once. (Intake
    gives no alert power: typing reports, and seeing the incidents they went into.)
    """
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if (
        is_dispatcher or is_legal or is_coordinator or is_intake
    ) and locked.status != MemberStatus.FULL:
        raise ActionError("probation")
    granted = (
        (is_dispatcher and not locked.is_dispatcher)
        or (is_legal and not locked.is_legal)
        # Intake types reports on a web form: someone who takes part by text alone can't.
        or (is_intake and not locked.is_intake and locked.user.sms_only)
    )
    if (granted or (is_coordinator and not locked.is_coordinator)) and not (
        locked.user.signs_in_on_the_web()
    ):
        raise ActionError("no_web_sign_in")
    if (
        locked.is_coordinator
        and not is_coordinator
        and not Membership.objects.filter(committee_id=locked.committee_id, is_coordinator=True)
        .exclude(pk=locked.pk)
        .exists()
    ):
        raise ActionError("last_coordinator")
    escalation = is_coordinator and not locked.is_coordinator
    new = {
        "is_dispatcher": is_dispatcher,
        "is_legal": is_legal,
        "is_coordinator": is_coordinator,
        "is_intake": is_intake,
    }
    if escalation:
        new["is_coordinator"] = False
    changed = [name for name, value in new.items() if getattr(locked, name) != value]
    grant = None
    if escalation:
        grant = RoleGrant.objects.filter(
            membership=locked, role="coordinator", status=GrantStatus.PENDING
        ).first()
        if grant is None:
            grant = RoleGrant.objects.create(membership=locked, requested_by=actor)
        else:
            grant = None  # already asked: nothing new
    if not changed and grant is None:
        return False
    for name in changed:
        setattr(locked, name, new[name])
        setattr(membership, name, new[name])
    if changed:
        locked.save(update_fields=changed)
    record(
        "member.roles_changed",
        actor=actor,
        obj=locked,
        committee=locked.committee_id,
        dispatcher=locked.is_dispatcher,
        legal=locked.is_legal,
        coordinator=locked.is_coordinator,
        intake=locked.is_intake,
        coordinator_requested=grant.pk if grant else None,
        sessions_ended=False,
    )
    return True


def can_decide_grant(grant: RoleGrant, user: User) -> bool:
    """A coordinator (full member) of the grant's committee or of a committee above it, who is
    neither the person who asked nor the person it is for."""
    if user.pk in (grant.requested_by_id, grant.membership.user_id):
        return False
    committee = grant.membership.committee
    allowed = [committee.pk, *(c.pk for c in committee.ancestors())]
    return Membership.objects.filter(
        user=user,
        user__is_active=True,
        committee_id__in=allowed,
        status=MemberStatus.FULL,
        is_coordinator=True,
    ).exists()


@transaction.atomic
def decide_role_grant(grant: RoleGrant, *, actor: User, approve: bool) -> RoleGrant:
    """A second coordinator approves or refuses a pending request; the one who asked cannot.

    Approving takes effect at once: a new coordinator is signed out and must sign in again
    with a passkey; a skill is granted; an account is switched off (everything tied to it
    dies, see `_switch_off`) or back on. Exactly one audit entry: the decision, or for a
    switch off / on the account's own entry naming the request and who asked.
    """
    locked = RoleGrant.objects.select_for_update().select_related("membership").get(pk=grant.pk)
    if locked.status != GrantStatus.PENDING:
        raise ActionError("decided")
    if actor.pk == locked.requested_by_id:
        raise ActionError("own_request")
    if not can_decide_grant(locked, actor):
        raise ActionError("not_allowed")
    membership = Membership.objects.select_for_update().get(pk=locked.membership_id)
    person = User.objects.select_for_update().get(pk=membership.user_id)
    if approve:
        if locked.role == GrantKind.COORDINATOR and (
            membership.status != MemberStatus.FULL or not person.is_active
        ):
            raise ActionError("probation")
        if locked.role == GrantKind.COORDINATOR and not person.signs_in_on_the_web():
            raise ActionError("no_web_sign_in")
        if locked.role in (GrantKind.SKILL, GrantKind.DEACTIVATE) and not person.is_active:
            raise ActionError("stale")
        if locked.role == GrantKind.REACTIVATE and person.is_active:
            raise ActionError("stale")
    locked.status = GrantStatus.APPROVED if approve else GrantStatus.REFUSED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    about = {
        "committee": membership.committee_id,
        "membership": membership.pk,
        "grant": locked.pk,
        "requested_by": locked.requested_by_id,
    }
    if approve and locked.role == GrantKind.DEACTIVATE:
        _switch_off(person, actor=actor, **about)
        return locked
    if approve and locked.role == GrantKind.REACTIVATE:
        reactivate_user(person, actor=actor, **about)
        return locked
    sessions_ended = False
    if approve and locked.role == GrantKind.COORDINATOR and not membership.is_coordinator:
        membership.is_coordinator = True
        membership.save(update_fields=["is_coordinator"])
        # A new coordinator must sign in again, with a passkey.
        person.end_all_sessions()
        sessions_ended = True
    if approve and locked.role == GrantKind.SKILL:
        Skill.objects.get_or_create(user=person, kind=locked.skill)
    record(
        "member.role_grant_approved" if approve else "member.role_grant_refused",
        actor=actor,
        obj=locked,
        committee=membership.committee_id,
        membership=membership.pk,
        role=locked.role,
        skill=locked.skill,
        requested_by=locked.requested_by_id,
        sessions_ended=sessions_ended,
    )
    return locked


@dataclass
class SkillEntry:
    kind: str
    trained_on: dt.date | None = None
    expires_on: dt.date | None = None


def _apply_skills(user: User, entries: list[SkillEntry], *, keep_dates: bool) -> list[str]:
    """Make the user's skills exactly `entries`; returns the kinds now held."""
    wanted = {e.kind: e for e in entries if e.kind in SkillKind.values}
    existing = {s.kind: s for s in Skill.objects.filter(user=user)}
    Skill.objects.filter(user=user).exclude(kind__in=list(wanted)).delete()
    for kind, entry in wanted.items():
        skill = existing.get(kind)
        if skill is None:
            Skill.objects.create(
                user=user, kind=kind, trained_on=entry.trained_on, expires_on=entry.expires_on
            )
        elif not keep_dates and (
            skill.trained_on != entry.trained_on or skill.expires_on != entry.expires_on
        ):
            skill.trained_on, skill.expires_on = entry.trained_on, entry.expires_on
            skill.save(update_fields=["trained_on", "expires_on"])
    return sorted(wanted)


def _close_skill_requests(user: User, kinds: list[str], *, actor: User) -> list[int]:
    """Pending requests for skills the person now holds are answered: granted by `actor`."""
    pending = RoleGrant.objects.filter(
        membership__user=user,
        role=GrantKind.SKILL,
        skill__in=kinds,
        status=GrantStatus.PENDING,
    )
    ids = list(pending.values_list("pk", flat=True))
    if ids:
        RoleGrant.objects.filter(pk__in=ids).update(
            status=GrantStatus.APPROVED, decided_by=actor, decided_at=timezone.now()
        )
    return ids


@transaction.atomic
def change_member_skills(membership: Membership, *, actor: User, kinds: list[str]) -> None:
    """A coordinator sets which skills a member has; training dates are the member's to keep.

    Trusted skills (accounts.models.TRUSTED_SKILLS) come from another person: a coordinator
    cannot give one to themselves here; they ask on /me/ like anyone else.
    """
    held_before = set(Skill.objects.filter(user=membership.user).values_list("kind", flat=True))
    added_trusted = (set(kinds) & TRUSTED_SKILLS) - held_before
    if added_trusted and membership.user_id == actor.pk:
        raise ActionError("own_trusted_skill")
    held = _apply_skills(membership.user, [SkillEntry(kind=k) for k in kinds], keep_dates=True)
    answered = _close_skill_requests(membership.user, held, actor=actor)
    record(
        "member.skills_changed",
        actor=actor,
        obj=membership,
        committee=membership.committee_id,
        skills=held,
        requests_granted=answered,
    )


def _coordinated_scope(actor: User) -> list[int]:
    """Ids of the committees the actor coordinates, and of every committee under them."""
    from defensa.committees.access import committee_and_below

    ids: list[int] = []
    for own in Membership.objects.filter(
        user=actor, user__is_active=True, status=MemberStatus.FULL, is_coordinator=True
    ).select_related("committee"):
        ids.extend(committee_and_below(own.committee))
    return ids


def deactivation_needs_second(membership: Membership, *, actor: User) -> str:
    """Why switching this person off needs a second coordinator ("" when it does not).

    A coordinator (of any committee), a network administrator, or someone who also belongs to
    a committee outside the asker's reach: one coordinator alone must not be able to remove
    people above or beside them (issue "Hardening", point 10).
    """
    user = membership.user
    if user.is_network_admin:
        return "network_admin"
    if Membership.objects.filter(user=user, is_coordinator=True).exists():
        return "coordinator"
    scope = _coordinated_scope(actor)
    if Membership.objects.filter(user=user).exclude(committee_id__in=scope).exists():
        return "other_committee"
    return ""


def _last_admin(user: User) -> bool:
    return (
        user.is_network_admin
        and not User.objects.filter(is_network_admin=True, is_active=True)
        .exclude(pk=user.pk)
        .exists()
    )


def _switch_off(user: User, *, actor: User, **audit_data: object) -> None:
    """Switch the account off with everything it set going: its open invitation links are
    cancelled and its pending requests (asked by it, or about it) are closed. The one audit
    entry is accounts' "user_deactivated", naming what was cancelled."""
    now = timezone.now()
    links = Invitation.objects.filter(
        created_by=user, used_at__isnull=True, revoked_at__isnull=True
    )
    revoked = list(links.values_list("pk", flat=True))
    Invitation.objects.filter(pk__in=revoked).update(revoked_at=now)
    open_requests = RoleGrant.objects.filter(status=GrantStatus.PENDING).filter(
        Q(requested_by=user) | Q(membership__user=user)
    )
    closed = list(open_requests.values_list("pk", flat=True))
    RoleGrant.objects.filter(pk__in=closed).update(status=GrantStatus.REFUSED, decided_at=now)
    try:
        deactivate_user(
            user,
            actor=actor,
            invitations_revoked=revoked,
            requests_closed=closed,
            **audit_data,
        )
    except LastNetworkAdminError:
        raise ActionError("last_admin") from None


@transaction.atomic
def deactivate_member(membership: Membership, *, actor: User) -> RoleGrant | None:
    """Switch the member's account off, or ask a second coordinator to when it must.

    Returns None when the account is off now; the pending request when a second coordinator
    must approve (`deactivation_needs_second`). accounts.actions.deactivate_user is the one
    way to switch an account off and writes the audit entry ("user_deactivated").
    """
    if membership.user_id == actor.pk:
        raise ActionError("self")
    user = User.objects.select_for_update().get(pk=membership.user_id)
    membership.user = user
    if _last_admin(user):
        raise ActionError("last_admin")
    reason = deactivation_needs_second(membership, actor=actor)
    if not reason:
        _switch_off(user, actor=actor, committee=membership.committee_id)
        return None
    grant = RoleGrant.objects.filter(
        membership=membership, role=GrantKind.DEACTIVATE, status=GrantStatus.PENDING
    ).first()
    if grant is not None:
        return grant  # already asked: nothing new
    grant = RoleGrant.objects.create(
        membership=membership, role=GrantKind.DEACTIVATE, requested_by=actor
    )
    record(
        "member.deactivation_requested",
        actor=actor,
        obj=grant,
        committee=membership.committee_id,
        membership=membership.pk,
        reason=reason,
    )
    return grant


@transaction.atomic
def request_reactivation(membership: Membership, *, actor: User) -> RoleGrant:
    """Ask to switch a switched-off account back on; another coordinator must approve."""
    if membership.user.is_active:
        raise ActionError("stale")
    grant = RoleGrant.objects.filter(
        membership=membership, role=GrantKind.REACTIVATE, status=GrantStatus.PENDING
    ).first()
    if grant is not None:
        return grant
    grant = RoleGrant.objects.create(
        membership=membership, role=GrantKind.REACTIVATE, requested_by=actor
    )
    record(
        "member.reactivation_requested",
        actor=actor,
        obj=grant,
        committee=membership.committee_id,
        membership=membership.pk,
    )
    return grant


# Members' own settings ----------------------------------------------------------------


@transaction.atomic
def update_profile(
    user: User,
    *,
    actor: User,
    display_name: str,
    language: str,
    notify_email: bool,
    notify_sms: bool,
    phone: str,
    notify_signal: bool | None = None,
) -> None:
    new = {
        "display_name": display_name,
        "language": language,
        "notify_email": notify_email,
        "notify_sms": notify_sms,
        "phone": phone,
    }
    if notify_signal is not None:  # None: Signal is not offered, the choice stays as it was
        new["notify_signal"] = notify_signal
    changed = [name for name, value in new.items() if getattr(user, name) != value]
    if not changed:
        return
    for name in changed:
        setattr(user, name, new[name])
    user.save(update_fields=changed)
    record("profile.changed", actor=actor, obj=user, fields=sorted(changed))


def pending_skill_requests(user: User) -> dict[str, RoleGrant]:
    """The person's own skill requests still waiting for a coordinator, by skill."""
    return {
        grant.skill: grant
        for grant in RoleGrant.objects.filter(
            membership__user=user, role=GrantKind.SKILL, status=GrantStatus.PENDING
        ).order_by("requested_at")
    }


def _home_membership(user: User) -> Membership | None:
    """Where a member's skill request goes: their oldest full membership, else the oldest."""
    return Membership.objects.filter(user=user).order_by("status", "joined_at", "pk").first()


@transaction.atomic
def update_own_skills(user: User, *, actor: User, entries: list[SkillEntry]) -> None:
    """A member's own skills and training dates.

    Ordinary skills are theirs to tick. A trusted skill (accounts.models.TRUSTED_SKILLS)
    they do not hold yet is not given: ticking it asks the coordinators of their committee,
    whose Requests page shows it to grant or decline. A trusted skill already held stays, with
    its dates; unticking it gives it up.
    """
    held_now = set(Skill.objects.filter(user=user).values_list("kind", flat=True))
    keep = [e for e in entries if e.kind not in TRUSTED_SKILLS or e.kind in held_now]
    wanted = sorted(
        {e.kind for e in entries if e.kind in TRUSTED_SKILLS and e.kind not in held_now}
    )
    held = _apply_skills(user, keep, keep_dates=False)
    asked: list[int] = []
    already = pending_skill_requests(user)
    home = _home_membership(user)
    for kind in wanted:
        if kind in already or home is None:
            continue
        asked.append(
            RoleGrant.objects.create(
                membership=home, role=GrantKind.SKILL, skill=kind, requested_by=user
            ).pk
        )
    record("profile.skills_changed", actor=actor, obj=user, skills=held, skill_requests=asked)


@transaction.atomic
def set_home_area(user: User, *, actor: User, zip_code: str = "", cell: str = "") -> None:
    """A ZIP code or a neighbourhood cell (never both, never a street address)."""
    if zip_code and cell:
        raise ActionError("both")
    user.home_zip, user.home_cell = zip_code, cell
    user.save(update_fields=["home_zip", "home_cell"])
    # Which kind of area, not which area: the audit log holds no locations.
    record(
        "profile.area_changed",
        actor=actor,
        obj=user,
        kind="zip" if zip_code else "cell" if cell else "none",
    )


@transaction.atomic
def set_on_duty(user: User, *, actor: User, on: bool) -> None:
    """Switch on duty, off duty, or (on while already on) renew: the switch turns itself off
    DEFENSA_ON_DUTY_HOURS after it was switched on or last renewed (`expire_on_duty`)."""
    if not on and not user.on_duty:
        return
    renewed = on and user.on_duty
    user.on_duty = on
    user.on_duty_since = timezone.now() if on else None
    user.save(update_fields=["on_duty", "on_duty_since"])
    record("profile.on_duty", actor=actor, obj=user, on=on, renewed=renewed)


@transaction.atomic
def add_shift(
    membership: Membership, *, actor: User, weekday: int, start: dt.time, end: dt.time
) -> Shift:
    # Lock the membership so the per-member cap holds under concurrent posts.
    Membership.objects.select_for_update().filter(pk=membership.pk).first()
    if Shift.objects.filter(membership=membership).count() >= MAX_SHIFTS_PER_MEMBERSHIP:
        raise ActionError("too_many")
    if start == end:
        raise ActionError("empty")
    shift = Shift.objects.create(membership=membership, weekday=weekday, start=start, end=end)
    record("shift.added", actor=actor, obj=shift, committee=membership.committee_id)
    return shift


@transaction.atomic
def remove_shift(shift: Shift, *, actor: User) -> None:
    committee_id = shift.membership.committee_id
    record("shift.removed", actor=actor, obj=shift, committee=committee_id)
    shift.delete()


# Setting up the network: committees, their place in the tree and their areas ------------

# A committee sits below one of a higher tier: network > city > local (or union local) >
# workplace committee.
# A union local sits where a local committee does (below a city or the network); a workplace
# committee sits below any of them (docs/organising.md).
TIER = {Kind.NETWORK: 2, Kind.CITY: 1, Kind.LOCAL: 0, Kind.UNION_LOCAL: 0, Kind.WORKPLACE: -1}


class SetupRefused(ActionError):
    pass


def kinds_below(parent: Committee) -> list[str]:
    """The kinds of committee that may sit directly below this one."""
    kinds = (Kind.CITY, Kind.LOCAL, Kind.UNION_LOCAL, Kind.WORKPLACE)
    return [k for k in kinds if TIER[k] < TIER[parent.kind]]


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50].strip("-") or "committee"
    slug, n = base, 1
    while Committee.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _check_parent(committee_kind: str, parent: Committee) -> None:
    if parent.is_archived:
        raise SetupRefused(_("That committee is archived: choose one that is active."))
    if TIER[committee_kind] >= TIER[parent.kind]:
        raise SetupRefused(
            _('A committee of kind "%(kind)s" cannot sit below one of kind "%(parent)s".')
            % {"kind": Kind(committee_kind).label, "parent": Kind(parent.kind).label}
        )


@transaction.atomic
def create_committee(parent: Committee, *, actor: User, name: str, kind: str) -> Committee:
    """A new committee below `parent`, with no area yet (set it next) and the parent's time
    zone and languages."""
    parent = Committee.objects.select_for_update().get(pk=parent.pk)
    _check_parent(kind, parent)
    committee = Committee.objects.create(
        name=name,
        slug=_unique_slug(name),
        kind=kind,
        parent=parent,
        time_zone=parent.time_zone,
        languages=list(parent.languages),
    )
    record(
        "committee.created",
        actor=actor,
        obj=committee,
        committee=committee,
        parent=parent.pk,
        kind=committee.kind,
    )
    return committee


@transaction.atomic
def rename_committee(committee: Committee, *, actor: User, name: str) -> Committee:
    """A new name; the slug (in links people saved) stays."""
    committee = Committee.objects.select_for_update().get(pk=committee.pk)
    committee.name = name
    committee.save(update_fields=["name"])
    record("committee.renamed", actor=actor, obj=committee, committee=committee)
    return committee


@transaction.atomic
def move_committee(committee: Committee, *, actor: User, parent: Committee) -> Committee:
    """Put the committee (and everything below it) under another parent; no cycles."""
    committee = Committee.objects.select_for_update().get(pk=committee.pk)
    parent = Committee.objects.select_for_update().get(pk=parent.pk)
    if committee.parent_id is None:
        raise SetupRefused(_("The network's top committee stays at the top."))
    if parent.pk == committee.pk or parent.pk in committee_and_below(committee):
        raise SetupRefused(_("A committee cannot sit below itself or below its own committees."))
    _check_parent(committee.kind, parent)
    before = committee.parent_id
    committee.parent = parent
    committee.save(update_fields=["parent"])
    record(
        "committee.moved",
        actor=actor,
        obj=committee,
        committee=committee,
        before=before,
        after=parent.pk,
    )
    return committee


@transaction.atomic
def archive_committee(committee: Committee, *, actor: User) -> Committee:
    """Archive a committee: it keeps its history, but no report is routed to it any more.

    Refused for the top committee, for one with active committees below it, and whenever an
    app above reports open work (open incidents: committees.archiving)."""
    committee = Committee.objects.select_for_update().get(pk=committee.pk)
    if committee.is_archived:
        raise SetupRefused(_("This committee is archived already."))
    if committee.parent_id is None:
        raise SetupRefused(_("The network's top committee cannot be archived."))
    if Committee.objects.filter(parent=committee, archived_at__isnull=True).exists():
        raise SetupRefused(_("Committees still sit below this one. Move or archive them first."))
    reasons = archive_blockers(committee)
    if reasons:
        raise SetupRefused(" ".join(reasons))
    committee.archived_at = timezone.now()
    committee.save(update_fields=["archived_at"])
    record("committee.archived", actor=actor, obj=committee, committee=committee)
    return committee


def area_conflicts(
    committee: Committee, zip_codes: list[str], h3_cells: list[str]
) -> tuple[dict[str, list[Committee]], dict[str, list[Committee]]]:
    """ZIPs and cells of this area that another active committee of the same tier holds."""
    zips: dict[str, list[Committee]] = {}
    cells: dict[str, list[Committee]] = {}
    mine = set(h3_cells)
    others = Committee.objects.filter(kind=committee.kind, archived_at__isnull=True).exclude(
        pk=committee.pk
    )
    for other in others.order_by("name"):
        for zip_code in set(other.zip_codes or []) & set(zip_codes):
            zips.setdefault(zip_code, []).append(other)
        theirs = set(geo.area_cells_from([c for c in other.h3_cells or [] if isinstance(c, str)]))
        for cell in sorted(theirs & mine):
            cells.setdefault(cell, []).append(other)
    return zips, cells


@transaction.atomic
def set_committee_area(
    committee: Committee,
    *,
    actor: User,
    zip_codes: list[str],
    h3_cells: list[str],
    time_zone: str,
    languages: list[str],
) -> Committee:
    """The committee's area (ZIP codes, neighbourhood cells), time zone and languages.

    The caller validates each value (the area form); this refuses an area that overlaps
    another active committee of the same tier, because a report there would have two owners.
    """
    # Lock the tier's committees (a handful of rows, in id order) so that two areas saved at
    # once cannot both take the same place.
    tier = list(
        Committee.objects.select_for_update()
        .filter(kind=committee.kind, archived_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    committee = Committee.objects.select_for_update().get(pk=committee.pk)
    if committee.is_archived or committee.pk not in tier:
        raise SetupRefused(_("This committee is archived: its area cannot change."))
    zips, cells = area_conflicts(committee, zip_codes, h3_cells)
    if zips or cells:
        held = [
            _("%(place)s belongs to %(committee)s")
            % {"place": place, "committee": ", ".join(c.name for c in holders)}
            for place, holders in [*zips.items(), *cells.items()]
        ]
        raise SetupRefused(
            _("Two committees of the same tier cannot share an area: %(list)s.")
            % {"list": "; ".join(held[:5])}
        )
    before = {
        "zip_codes": list(committee.zip_codes or []),
        "h3_cells": list(committee.h3_cells or []),
        "time_zone": committee.time_zone,
        "languages": list(committee.languages or []),
    }
    committee.zip_codes = zip_codes
    committee.h3_cells = h3_cells
    committee.time_zone = time_zone
    committee.languages = languages
    committee.save(update_fields=["zip_codes", "h3_cells", "time_zone", "languages"])
    after = {
        "zip_codes": zip_codes,
        "h3_cells": h3_cells,
        "time_zone": time_zone,
        "languages": languages,
    }
    record(
        "committee.area_set",
        actor=actor,
        obj=committee,
        committee=committee,
        changed=sorted(k for k in after if after[k] != before[k]),
        zips_added=sorted(set(zip_codes) - set(before["zip_codes"])),
        zips_removed=sorted(set(before["zip_codes"]) - set(zip_codes)),
        cells_added=sorted(set(h3_cells) - set(before["h3_cells"])),
        cells_removed=sorted(set(before["h3_cells"]) - set(h3_cells)),
        languages=languages,
    )
    return committee


# The roster: swaps, reminders, the on-duty switch's expiry ------------------------------

SHIFT_REMINDER = "shift_reminder"
ON_DUTY_ENDED = "on_duty_ended"
RECOVERY_REQUESTED = "recovery_requested"
SWAP_ASKED = "shift_swap_asked"
SWAP_DECIDED = "shift_swap_decided"


@transaction.atomic
def ask_shift_swap(shift: Shift, *, actor: User, taker: Membership) -> ShiftSwap:
    """The shift's holder asks to hand it to another full member of the same committee; the
    committee's coordinators are told, and one decides (`decide_shift_swap`). Asking again
    while one waits finds the first."""
    giver = Membership.objects.select_for_update().get(pk=shift.membership_id)
    if giver.user_id != actor.pk:
        raise ActionError("not_yours")
    if (
        taker.committee_id != giver.committee_id
        or taker.pk == giver.pk
        or taker.status != MemberStatus.FULL
        or not taker.user.is_active
    ):
        raise ActionError("bad_taker")
    existing = ShiftSwap.objects.filter(shift=shift, status=SwapStatus.PENDING).first()
    if existing is not None:
        return existing
    swap = ShiftSwap.objects.create(shift=shift, giver=giver, taker=taker)
    coordinators = User.objects.filter(
        memberships__committee_id=giver.committee_id,
        memberships__status=MemberStatus.FULL,
        memberships__is_coordinator=True,
        is_active=True,
    ).exclude(pk=actor.pk)
    for coordinator in coordinators:
        queue_message(
            coordinator,
            SWAP_ASKED,
            {"swap": swap.pk},
            priority=Priority.NORMAL,
            idempotency_key=f"swap-asked:{swap.pk}:{coordinator.pk}",
            audit=False,
        )
    record(
        "shift.swap_asked",
        actor=actor,
        obj=swap,
        committee=giver.committee_id,
        shift=shift.pk,
        taker=taker.pk,
    )
    return swap


@transaction.atomic
def decide_shift_swap(swap: ShiftSwap, *, actor: User, approve: bool) -> ShiftSwap:
    """A coordinator approves (the shift moves to the taker) or refuses a swap; both people
    are told. A swap whose shift changed hands meanwhile, or whose taker left, can only be
    refused."""
    locked = ShiftSwap.objects.select_for_update().get(pk=swap.pk)
    if locked.status != SwapStatus.PENDING:
        raise ActionError("decided")
    shift = Shift.objects.select_for_update().get(pk=locked.shift_id)
    taker = Membership.objects.select_related("user").get(pk=locked.taker_id)
    if approve and (
        shift.membership_id != locked.giver_id
        or taker.status != MemberStatus.FULL
        or not taker.user.is_active
        or Shift.objects.filter(membership=taker).count() >= MAX_SHIFTS_PER_MEMBERSHIP
    ):
        raise ActionError("stale")
    target = SwapStatus.APPROVED if approve else SwapStatus.REFUSED
    check_move(SWAP_TRANSITIONS, locked.status, target)
    locked.status = target
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    if approve:
        shift.membership = taker
        shift.save(update_fields=["membership"])
    giver = Membership.objects.select_related("user").get(pk=locked.giver_id)
    for person in {giver.user, taker.user}:
        queue_message(
            person,
            SWAP_DECIDED,
            {"swap": locked.pk},
            priority=Priority.NORMAL,
            idempotency_key=f"swap-decided:{locked.pk}:{person.pk}",
            audit=False,
        )
    record(
        "shift.swap_approved" if approve else "shift.swap_refused",
        actor=actor,
        obj=locked,
        committee=taker.committee_id,
        shift=shift.pk,
        giver=locked.giver_id,
        taker=locked.taker_id,
    )
    swap.status = locked.status
    return locked


def send_shift_reminders(*, now: dt.datetime | None = None) -> int:
    """One pass: remind each full member whose shift starts within
    DEFENSA_SHIFT_REMINDER_MINUTES, once per occurrence, in their language and on their
    channels. Each reminder is claimed by its ShiftReminder row in its own transaction, and
    its idempotency key names the occurrence, so a second pass sends nothing again."""
    from defensa.committees.roster import next_start

    now = now or timezone.now()
    lead = dt.timedelta(minutes=settings.SHIFT_REMINDER_MINUTES)
    sent = 0
    shifts = Shift.objects.filter(
        membership__status=MemberStatus.FULL, membership__user__is_active=True
    ).select_related("membership__committee", "membership__user")
    for shift in shifts.iterator(chunk_size=500):
        starts = next_start(shift, shift.membership.committee.tz, now)
        if starts - now > lead:
            continue
        with transaction.atomic():
            _reminder, created = ShiftReminder.objects.get_or_create(shift=shift, starts_at=starts)
            if not created:
                continue
            queue_message(
                shift.membership.user,
                SHIFT_REMINDER,
                {"shift": shift.pk, "starts": int(starts.timestamp())},
                priority=Priority.NORMAL,
                idempotency_key=f"shift-reminder:{shift.pk}:{int(starts.timestamp())}",
                audit=False,
            )
            record(
                "shift.reminded",
                obj=shift,
                committee=shift.membership.committee_id,
                starts=int(starts.timestamp()),
            )
        sent += 1
    return sent


def expire_on_duty(*, now: dt.datetime | None = None) -> int:
    """One pass: switch off every on-duty switch older than DEFENSA_ON_DUTY_HOURS (switched on
    or renewed that long ago), and tell the person how to switch it on again."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=settings.ON_DUTY_HOURS)
    due = list(
        User.objects.filter(on_duty=True, on_duty_since__lte=cutoff).values_list(
            "pk", "on_duty_since"
        )
    )
    expired = 0
    for pk, since in due:
        with transaction.atomic():
            # Claim it: a renewal in between (a newer since) or another pass wins.
            if not User.objects.filter(pk=pk, on_duty=True, on_duty_since=since).update(
                on_duty=False, on_duty_since=None
            ):
                continue
            user = User.objects.get(pk=pk)
            queue_message(
                user,
                ON_DUTY_ENDED,
                {"hours": settings.ON_DUTY_HOURS},
                priority=Priority.NORMAL,
                idempotency_key=f"on-duty-ended:{pk}:{int(since.timestamp())}",
                audit=False,
            )
            record("profile.on_duty_expired", obj=user, hours=settings.ON_DUTY_HOURS)
        expired += 1
    return expired


# Recovery (two coordinators, or two other admins) ---------------------------------------


def _recovery_committees(user: User) -> set[int]:
    """The person's committees and every committee above them."""
    allowed: set[int] = set()
    for membership in Membership.objects.filter(user=user).select_related("committee"):
        allowed.add(membership.committee_id)
        allowed.update(c.pk for c in membership.committee.ancestors())
    return allowed


def recovery_approvers(user: User) -> QuerySet[User]:
    """Who may approve recovering this account: for a network administrator, the other active
    administrators; for anyone else, the coordinators (full members, active) of the person's
    committees and of the committees above them. Never the person."""
    if user.is_network_admin:
        return User.objects.filter(is_network_admin=True, is_active=True).exclude(pk=user.pk)
    coordinators = Membership.objects.filter(
        committee_id__in=_recovery_committees(user), status=MemberStatus.FULL, is_coordinator=True
    ).values("user_id")
    return User.objects.filter(pk__in=coordinators, is_active=True).exclude(pk=user.pk)


def _where_to_decide(user: User, approvers: list[User]) -> dict[int, int]:
    """For each approver, the committee whose recovery page shows them the request (0 for
    the administrators' page)."""
    if user.is_network_admin:
        return dict.fromkeys((a.pk for a in approvers), 0)
    found: dict[int, int] = {}
    for user_id, committee_id in (
        Membership.objects.filter(
            committee_id__in=_recovery_committees(user),
            user_id__in=[a.pk for a in approvers],
            status=MemberStatus.FULL,
            is_coordinator=True,
        )
        .order_by("committee_id")
        .values_list("user_id", "committee_id")
    ):
        found.setdefault(user_id, committee_id)
    return found


def recovery_lapsed(request: RecoveryRequest, now: dt.datetime) -> bool:
    return request.created_at + dt.timedelta(days=settings.RECOVERY_REQUEST_DAYS) <= now


def can_decide_recovery(request: RecoveryRequest, user: User) -> bool:
    return (
        user.pk != request.first_approver_id
        and recovery_approvers(request.user).filter(pk=user.pk).exists()
    )


def _find_account(identifier: str) -> User | None:
    """The active account with this email address or E.164 phone number (as the form
    cleaned it), or None. An SMS-only member has no web sign-in to recover: to sign in on
    the web they get an invitation link instead (docs/accounts.md)."""
    if not identifier:
        return None
    people = User.objects.filter(is_active=True, sms_only=False)
    if "@" in identifier:
        return people.filter(email__iexact=identifier).first()
    return people.filter(phone=identifier).order_by("pk").first()


@transaction.atomic
def request_recovery(identifier: str) -> None:
    """Someone asks to recover the account with this email address or phone number.

    Returns nothing, whatever happened: the public form answers alike for an unknown address,
    a switched-off account and a request already waiting. A new request is put before the
    people who may approve it (`recovery_approvers`), who are told.
    """
    user = _find_account(identifier)
    if user is None:
        return
    # Lock the person: two requests at once find one another, not the unique constraint.
    User.objects.select_for_update().filter(pk=user.pk).first()
    now = timezone.now()
    waiting = RecoveryRequest.objects.filter(user=user, status=RecoveryStatus.PENDING).first()
    if waiting is not None and not recovery_lapsed(waiting, now):
        return
    if waiting is not None:  # lapsed: closed, so a fresh one can wait in its place
        check_move(RECOVERY_TRANSITIONS, waiting.status, RecoveryStatus.REFUSED)
        RecoveryRequest.objects.filter(pk=waiting.pk).update(
            status=RecoveryStatus.REFUSED, decided_at=now
        )
    request = RecoveryRequest.objects.create(user=user, created_at=now)
    approvers = list(recovery_approvers(user))
    where = _where_to_decide(user, approvers)
    for approver in approvers:
        queue_message(
            approver,
            RECOVERY_REQUESTED,
            {"request": request.pk, "committee": where.get(approver.pk, 0)},
            priority=Priority.NORMAL,
            idempotency_key=f"recovery-requested:{request.pk}:{approver.pk}",
            audit=False,
        )
    record("recovery.requested", obj=request, user=user.pk, told=len(approvers))


@transaction.atomic
def decide_recovery(request: RecoveryRequest, *, actor: User, approve: bool) -> str | None:
    """An approver's answer. The first approval waits for a second approver; the second ends
    every session, removes the lost factors (accounts.actions.reset_for_recovery, whose audit
    entry names both approvers) and returns the single-use link's token, shown once to the
    second approver to hand over in person. A refusal closes the request. Returns None unless
    a link was made."""
    locked = RecoveryRequest.objects.select_for_update().select_related("user").get(pk=request.pk)
    now = timezone.now()
    if (
        locked.status != RecoveryStatus.PENDING
        or recovery_lapsed(locked, now)
        or not locked.user.is_active
    ):
        raise ActionError("decided")
    if actor.pk == locked.user_id:
        raise ActionError("self")
    if actor.pk == locked.first_approver_id:
        raise ActionError("twice")
    approvers = recovery_approvers(locked.user)
    if not approvers.filter(pk=actor.pk).exists():
        raise ActionError("not_allowed")
    if not approve:
        check_move(RECOVERY_TRANSITIONS, locked.status, RecoveryStatus.REFUSED)
        locked.status = RecoveryStatus.REFUSED
        locked.decided_by, locked.decided_at = actor, now
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        record("recovery.refused", actor=actor, obj=locked, user=locked.user_id)
        request.status = locked.status
        return None
    if (
        locked.first_approver_id is not None
        and not approvers.filter(pk=locked.first_approver_id).exists()
    ):
        # The first approver lost the right meanwhile (switched off, no longer a
        # coordinator there): their approval no longer counts, this one is the first.
        locked.first_approver = None
    if locked.first_approver_id is None:
        locked.first_approver, locked.first_approved_at = actor, now
        locked.save(update_fields=["first_approver", "first_approved_at"])
        record("recovery.first_approval", actor=actor, obj=locked, user=locked.user_id)
        request.first_approver_id = actor.pk
        return None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    check_move(RECOVERY_TRANSITIONS, locked.status, RecoveryStatus.APPROVED)
    locked.status = RecoveryStatus.APPROVED
    locked.decided_by, locked.decided_at = actor, now
    locked.token_hash = hash_token(token)
    locked.link_expires_at = now + dt.timedelta(hours=settings.RECOVERY_LINK_HOURS)
    locked.save(
        update_fields=["status", "decided_by", "decided_at", "token_hash", "link_expires_at"]
    )
    request.status = locked.status
    reset_for_recovery(
        locked.user,
        actor=actor,
        request=locked.pk,
        first_approver=locked.first_approver_id,
    )
    return token


def find_recovery(token: str) -> RecoveryRequest | None:
    """The approved, unused, unexpired recovery for a link's token, or None."""
    if not is_plausible(token):
        return None
    return (
        RecoveryRequest.objects.select_related("user")
        .filter(
            token_hash=hash_token(token),
            status=RecoveryStatus.APPROVED,
            used_at__isnull=True,
            link_expires_at__gt=timezone.now(),
            user__is_active=True,
        )
        .first()
    )


@transaction.atomic
def complete_recovery(
    request: RecoveryRequest, *, password: str, secret: str, code: str
) -> list[str]:
    """The person opens the link, sets a new password and a new authenticator app. The link
    is used up in the same transaction; a wrong code (BadCode) or a link used meanwhile
    (InvitationUnusable) writes nothing. Returns the new recovery codes, to show once."""
    now = timezone.now()
    check_move(RECOVERY_TRANSITIONS, RecoveryStatus.APPROVED, RecoveryStatus.USED)
    # The conditional update is the guard: of two uses at once, one updates the row.
    claimed = RecoveryRequest.objects.filter(
        pk=request.pk,
        status=RecoveryStatus.APPROVED,
        used_at__isnull=True,
        link_expires_at__gt=now,
    ).update(status=RecoveryStatus.USED, used_at=now)
    if claimed != 1:
        raise InvitationUnusable
    step = mfa.matching_step(secret, code)
    if step is None:
        raise BadCode
    return recover_account(
        request.user, password=password, secret=secret, used_step=step, request=request.pk
    )


# Neighbourhood names ------------------------------------------------------------------------


@transaction.atomic
def set_place_names(*, actor: User, names: dict[str, str]) -> None:
    """The network's names for its ZIP codes' neighbourhoods, replacing the list as a whole
    (a ZIP left out loses its name). Only network administrators may call this."""
    if not actor.is_network_admin:
        raise PermissionError("only network administrators name neighbourhoods")
    before = dict(PlaceName.objects.values_list("zip_code", "name"))
    PlaceName.objects.exclude(zip_code__in=names).delete()
    now = timezone.now()
    for zip_code, name in names.items():
        if before.get(zip_code) != name:
            PlaceName.objects.update_or_create(
                zip_code=zip_code, defaults={"name": name, "updated_at": now}
            )
    record(
        "network.place_names",
        actor=actor,
        named=len(names),
        changed=sorted(z for z in names if before.get(z) != names[z]),
        removed=sorted(set(before) - set(names)),
    )
