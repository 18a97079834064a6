"""Session limits and the passkey requirement (security properties 8 and 11)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from defensa.accounts.hashers import PasswordBusy

SESSION_AUTH_AT = "defensa_auth_at"
SESSION_SEEN_AT = "defensa_seen_at"
SESSION_FACTOR = "defensa_factor"  # "totp" or "passkey": how this session proved itself
# Writing the session on every request would make every page a database write.
SEEN_RESOLUTION_S = 60


class SessionLimitsMiddleware:
    """End sessions that were idle too long or have lived past the absolute limit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            auth_at = session.get(SESSION_AUTH_AT, 0)
            seen_at = session.get(SESSION_SEEN_AT, auth_at)
            idle = now - seen_at > settings.SESSION_IDLE_MINUTES * 60
            too_old = now - auth_at > settings.SESSION_ABSOLUTE_HOURS * 3600
            if idle or too_old:
                logout(request)
                messages.info(request, _("You were signed out to keep your account safe."))
                return redirect(settings.LOGIN_URL)
            if now - seen_at >= SEEN_RESOLUTION_S:
                session[SESSION_SEEN_AT] = now
        return self.get_response(request)


# Paths a coordinator without a passkey may still use: to add one, or to leave.
_PASSKEY_FREE_PREFIXES = (
    "/accounts/security/",
    "/accounts/passkeys/",
    "/accounts/logout/",
    "/static/",
    "/i18n/",
)


class RequireStrongFactorMiddleware:
    """Coordinators and admins must have signed in with a passkey.

    One who signed in with a code (before a role made a passkey necessary) is sent to add a
    passkey before anything else. In demo mode this is relaxed so personas can sign in with
    the printed codes; the page says so.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not settings.DEMO
            and request.session.get(SESSION_FACTOR) != "passkey"
            and not request.path.startswith(_PASSKEY_FREE_PREFIXES)
            and user.requires_passkey
        ):
            messages.warning(request, _("Your role needs a passkey. Add one to continue."))
            return redirect("accounts:security")
        return self.get_response(request)


class SignInLanguageMiddleware:
    """On the response that completes a sign-in, switch the page language to the person's own.

    Afterwards the language switcher works as for anyone (it sets the same cookie), and the
    member's settings page changes both.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        language = getattr(request, "defensa_language", None)
        if language in dict(settings.LANGUAGES):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response


class PasswordBusyMiddleware:
    """Answer 503 "try again in a minute" when the password-check cap refuses (hashers.py).

    Any view that checks or sets a password (sign-in, the password re-check, changing it,
    joining) may meet the cap; this answers for all of them, in the person's language.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, PasswordBusy):
            return None
        response = render(request, "accounts/busy.html", status=503)
        response["Retry-After"] = "60"
        return response
