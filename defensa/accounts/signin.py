"""The half-finished sign-in: a password was right, the second factor is still to come.

Until the second factor passes the person is not logged in; the session only remembers
who is trying and since when, for five minutes.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from defensa.accounts.models import User

PENDING_TTL_S = 300
# Adding a passkey or an authenticator app needs the password typed within this many seconds
# (signing in counts): a stolen session alone cannot plant a second factor of its own.
REAUTH_TTL_S = 300
SESSION_REAUTH_AT = "defensa_reauth_at"
_PENDING_UID = "defensa_pending_uid"
_PENDING_AT = "defensa_pending_at"
_PENDING_NEXT = "defensa_pending_next"


def start_pending(request: HttpRequest, user: User, next_url: str = "") -> None:
    # A fresh session key: whatever an attacker planted before the password is now useless.
    request.session.cycle_key()
    request.session[_PENDING_UID] = user.pk
    request.session[_PENDING_AT] = time.time()
    request.session[_PENDING_NEXT] = safe_next(request, next_url)


def pending_user(request: HttpRequest) -> User | None:
    """The person who passed the password step less than five minutes ago, if any."""
    uid = request.session.get(_PENDING_UID)
    at = request.session.get(_PENDING_AT)
    if not isinstance(uid, int) or not isinstance(at, int | float):
        return None
    if time.time() - at > PENDING_TTL_S:
        clear_pending(request)
        return None
    user = User.objects.filter(pk=uid, is_active=True).first()
    if user is None:
        clear_pending(request)
    return user


def pending_next(request: HttpRequest) -> str:
    return request.session.get(_PENDING_NEXT) or ""


def clear_pending(request: HttpRequest) -> None:
    for key in (_PENDING_UID, _PENDING_AT, _PENDING_NEXT):
        request.session.pop(key, None)


def safe_next(request: HttpRequest, next_url: str) -> str:
    """Only a path on this site: never send a person on to somewhere else after sign-in."""
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return ""


def totp_allowed(user: User) -> bool:
    """A person whose role needs a passkey, and who has one, must use it (except in demos)."""
    if settings.DEMO:
        return True
    return not (user.requires_passkey and user.passkeys.exists())  # type: ignore[attr-defined]


def recently_authenticated(request: HttpRequest) -> bool:
    """True when the password was typed in this session within REAUTH_TTL_S (sign-in counts)."""
    from defensa.accounts.middleware import SESSION_AUTH_AT

    times = [request.session.get(SESSION_AUTH_AT), request.session.get(SESSION_REAUTH_AT)]
    latest = max((t for t in times if isinstance(t, int | float)), default=0)
    return 0 <= time.time() - latest <= REAUTH_TTL_S


def mark_reauthenticated(request: HttpRequest) -> None:
    request.session[SESSION_REAUTH_AT] = time.time()
