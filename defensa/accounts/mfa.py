"""Second factors: TOTP codes and the session bookkeeping of a completed sign-in.

Passkeys (WebAuthn) live in passkeys.py. There is no SMS factor (security property 8).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

import pyotp
import segno
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from defensa.accounts.middleware import SESSION_AUTH_AT, SESSION_FACTOR, SESSION_SEEN_AT
from defensa.accounts.models import TOTPDevice, User

ISSUER = "Defensa"
# Recovery codes: ten of them, each ten characters of an alphabet without look-alikes
# (50 random bits; guessing is also capped by the account lockout).
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10
# Accept the code of the previous and next 30-second step too: phones' clocks drift.
VALID_WINDOW = 1


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def totp_qr_svg(user: User, secret: str) -> str:
    """The enrolment QR code as inline SVG markup (no external image, no script)."""
    return segno.make(totp_uri(user, secret), error="m").svg_inline(scale=4, title="QR")


def check_totp(device: TOTPDevice, code: str) -> bool:
    """True for a valid, not yet used code; records its time step so it cannot be replayed."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return False
    totp = pyotp.TOTP(device.secret)
    now = time.time()
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        counter = totp.timecode(dt.datetime.fromtimestamp(now, tz=dt.UTC)) + offset
        if counter <= device.last_counter:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(counter), code):
            updated = TOTPDevice.objects.filter(pk=device.pk, last_counter__lt=counter).update(
                last_counter=counter
            )
            device.last_counter = counter
            return updated == 1
    return False


def matching_step(secret: str, code: str) -> int | None:
    """The time step a code is valid for near now, or None; records nothing.

    For confirming a new secret before it is saved; sign-in uses check_totp().
    """
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(dt.datetime.fromtimestamp(time.time(), tz=dt.UTC))
    for counter in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(counter), code):
            return counter
    return None


def complete_login(request: HttpRequest, user: User, factor: str) -> None:
    """Log the user in after both factors, and start the session clocks."""
    if user.sms_only:
        # A member who takes part by text alone has no web sign-in (docs/accounts.md).
        raise PermissionDenied("an SMS-only member has no web sign-in")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    now = time.time()
    request.session[SESSION_AUTH_AT] = now
    request.session[SESSION_SEEN_AT] = now
    request.session[SESSION_FACTOR] = factor
    # The person's own language follows them to a new device (see SignInLanguageMiddleware).
    request.defensa_language = user.language  # type: ignore[attr-defined]


def new_recovery_code() -> str:
    """A fresh recovery code, shown as two groups of five: "k3mfa-9qrtx"."""
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def recovery_code_hash(user_id: int, code: str) -> str:
    """The keyed hash stored for one account's recovery code (spaces, dashes and case do not
    matter). The account's id is in it, so two accounts may draw the same code."""
    normal = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    return salted_hmac(
        "defensa.accounts.recovery_code", f"{user_id}:{normal}", algorithm="sha256"
    ).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    normal = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    return len(normal) == _RECOVERY_LENGTH and all(ch in _RECOVERY_ALPHABET for ch in normal)
