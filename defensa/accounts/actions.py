"""Writes about accounts: sign-in bookkeeping, lockout, credentials, deactivation.

Each function is atomic and leaves one audit entry (ids and machine words only).
Any credential change ends every session of the account; the view that called it keeps
the current one alive with update_session_auth_hash().
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from webauthn.registration.verify_registration_response import VerifiedRegistration

from defensa.accounts import mfa
from defensa.accounts.models import Passkey, RecoveryCode, TOTPDevice, User
from defensa.audit.log import record


class LastPasskeyError(Exception):
    """Removing this passkey would leave the account without a factor it needs."""


@transaction.atomic
def fail_login(user: User) -> bool:
    """Count one failed password or second factor; lock the account at the threshold.

    Returns True when this failure locked the account. Nothing about the request (no IP)
    is stored: lockout is per account only.
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.is_locked:
        return True
    locked.failed_logins += 1
    fields = ["failed_logins"]
    just_locked = locked.failed_logins >= settings.LOCKOUT_THRESHOLD
    if just_locked:
        locked.failed_logins = 0
        locked.locked_until = timezone.now() + dt.timedelta(minutes=settings.LOCKOUT_MINUTES)
        fields.append("locked_until")
    locked.save(update_fields=fields)
    user.failed_logins, user.locked_until = locked.failed_logins, locked.locked_until
    if just_locked:
        record("account_locked", actor=None, obj=locked, minutes=settings.LOCKOUT_MINUTES)
    return just_locked


@transaction.atomic
def sign_in_user(request: HttpRequest, user: User, *, factor: str) -> None:
    """Finish a sign-in after both factors: log in, reset the failure count, audit."""
    if user.failed_logins or user.locked_until:
        user.failed_logins = 0
        user.locked_until = None
        user.save(update_fields=["failed_logins", "locked_until"])
    mfa.complete_login(request, user, factor)
    record("sign_in", actor=user, obj=user, factor=factor)


@transaction.atomic
def confirm_password(user: User) -> None:
    """The signed-in person typed their password again, to add or replace a second factor."""
    if user.failed_logins:
        user.failed_logins = 0
        user.save(update_fields=["failed_logins"])
    record("password_confirmed", actor=user, obj=user)


@transaction.atomic
def change_password(user: User, new_password: str, *, actor: User) -> None:
    """Set a new password and end every session of the account.

    The current password was just typed right: earlier failures are forgotten, as when it
    is confirmed (confirm_password)."""
    user.set_password(new_password)
    user.failed_logins = 0
    user.save(update_fields=["password", "failed_logins"])
    user.end_all_sessions()
    record("password_changed", actor=actor, obj=user)


@transaction.atomic
def replace_totp(user: User, secret: str, used_step: int, *, actor: User) -> TOTPDevice:
    """Make a confirmed secret the account's TOTP device, replacing any old one.

    `used_step` is the time step of the confirming code, so that code cannot sign in too.
    """
    device, created = TOTPDevice.objects.update_or_create(
        user=user,
        defaults={"secret": secret, "confirmed_at": timezone.now(), "last_counter": used_step},
    )
    user.end_all_sessions()
    record("totp_set" if created else "totp_replaced", actor=actor, obj=user)
    return device


@transaction.atomic
def add_passkey(user: User, verified: VerifiedRegistration, name: str, *, actor: User) -> Passkey:
    """Store a verified passkey and end every session of the account."""
    passkey = Passkey.objects.create(
        user=user,
        name=name,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
    )
    user.end_all_sessions()
    record("passkey_added", actor=actor, obj=passkey)
    return passkey


@transaction.atomic
def rename_passkey(passkey: Passkey, name: str, *, actor: User) -> None:
    passkey.name = name
    passkey.save(update_fields=["name"])
    record("passkey_renamed", actor=actor, obj=passkey)


@transaction.atomic
def remove_passkey(passkey: Passkey, *, actor: User) -> None:
    """Delete a passkey, unless it is the last factor the account needs."""
    user = User.objects.select_for_update().get(pk=passkey.user_id)
    others = Passkey.objects.filter(user=user).exclude(pk=passkey.pk).exists()
    has_totp = TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()
    if not others and (user.requires_passkey or not has_totp):
        raise LastPasskeyError
    passkey_id = passkey.pk
    passkey.delete()
    user.end_all_sessions()
    record("passkey_removed", actor=actor, obj=user, passkey=passkey_id)


class LastNetworkAdminError(Exception):
    """Switching this account off would leave the network without an active administrator."""


@transaction.atomic
def deactivate_user(user: User, *, actor: User, **audit_data: object) -> None:
    """Switch an account off; every one of its sessions ends at its next request.

    Everything tied to the person dies with it: one-tap links answer like expired ones (they
    check `is_active`), device subscriptions are deleted (notify.transports.webpush.signals),
    the calendar feed stops. The last active network administrator can never be switched
    off. `audit_data` adds the caller's ids to the one audit entry ("user_deactivated").
    """
    if user.is_network_admin:
        # Lock every active admin row, so two switch-offs at once cannot leave none.
        admins = list(
            User.objects.select_for_update()
            .filter(is_network_admin=True, is_active=True)
            .values_list("pk", flat=True)
        )
        if [pk for pk in admins if pk != user.pk] == []:
            raise LastNetworkAdminError
    user.is_active = False
    user.on_duty = False
    user.save(update_fields=["is_active", "on_duty"])
    user.end_all_sessions()
    record("user_deactivated", actor=actor, obj=user, **audit_data)


@transaction.atomic
def reactivate_user(user: User, *, actor: User, **audit_data: object) -> None:
    """Switch an account back on (after two coordinators agreed; committees.actions).

    Old sessions stay ended and deleted device subscriptions stay deleted: the person signs
    in again and subscribes again. The lockout count starts from zero.
    """
    user.is_active = True
    user.failed_logins = 0
    user.locked_until = None
    user.save(update_fields=["is_active", "failed_logins", "locked_until"])
    user.end_all_sessions()
    record("user_reactivated", actor=actor, obj=user, **audit_data)


# Recovery ---------------------------------------------------------------------------------


@transaction.atomic
def make_recovery_codes(user: User, *, actor: User) -> list[str]:
    """Replace the account's recovery codes with a fresh batch; returns them to show once.

    Only keyed hashes are stored; older codes, used or not, stop working.
    """
    codes = _replace_recovery_codes(user)
    record("recovery_codes_made", actor=actor, obj=user, count=len(codes))
    return codes


def _replace_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [mfa.new_recovery_code() for _ in range(mfa.RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=mfa.recovery_code_hash(user.pk, code)) for code in codes
    )
    return codes


def unused_recovery_codes(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


@transaction.atomic
def use_recovery_code(user: User, code: str) -> bool:
    """Spend one of the account's unused recovery codes. False (nothing written) if none
    matches; the caller counts that as a failed second factor."""
    if not mfa.looks_like_recovery_code(code):
        return False
    spent = RecoveryCode.objects.filter(
        user=user, code_hash=mfa.recovery_code_hash(user.pk, code), used_at__isnull=True
    ).update(used_at=timezone.now())
    if spent != 1:
        return False
    left = unused_recovery_codes(user)
    record("recovery_code_used", actor=user, obj=user, left=left)
    return True


@transaction.atomic
def reset_for_recovery(user: User, *, actor: User, **audit_data: object) -> None:
    """The second approval of a recovery: the lost credentials stop working at once.

    The password becomes unusable, the authenticator app, passkeys and recovery codes are
    removed, a lockout is lifted, and every session ends. The person sets a new password and
    second factor through the single-use link (`recover_account`). `audit_data` adds the
    caller's ids to the one audit entry ("account_recovery_approved").
    """
    user.set_unusable_password()
    user.failed_logins = 0
    user.locked_until = None
    user.on_duty = False
    user.save(update_fields=["password", "failed_logins", "locked_until", "on_duty"])
    TOTPDevice.objects.filter(user=user).delete()
    Passkey.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    user.end_all_sessions()
    record("account_recovery_approved", actor=actor, obj=user, **audit_data)


@transaction.atomic
def recover_account(
    user: User, *, password: str, secret: str, used_step: int, **audit_data: object
) -> list[str]:
    """Through the recovery link: a new password and a new authenticator app, confirmed by a
    code from it (`used_step`, so that code cannot sign in too), and a fresh batch of
    recovery codes, returned to be shown once. Every session ends."""
    user.set_password(password)
    user.failed_logins = 0
    user.save(update_fields=["password", "failed_logins"])
    TOTPDevice.objects.update_or_create(
        user=user,
        defaults={"secret": secret, "confirmed_at": timezone.now(), "last_counter": used_step},
    )
    codes = _replace_recovery_codes(user)
    user.end_all_sessions()
    record("account_recovered", actor=user, obj=user, recovery_codes=len(codes), **audit_data)
    return codes
