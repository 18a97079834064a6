"""Sign-in in two steps, the security page, and the person's own landing page."""

from __future__ import annotations

import functools
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.hashers import check_password, make_password
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from defensa.accounts import actions, mfa, passkeys, signin
from defensa.accounts.forms import (
    CodeForm,
    ConfirmPasswordForm,
    PasskeyNameForm,
    PasswordChangeForm,
    RecoveryCodeForm,
    SignInForm,
)
from defensa.accounts.middleware import SESSION_FACTOR
from defensa.accounts.models import TOTPDevice, User
from defensa.core.access import public, signed_in

_TOTP_SETUP = "defensa_totp_setup_secret"


def _generic_failure() -> str:
    # One message for an unknown email, a wrong password and a locked account alike, so
    # neither the message nor the lockout tells a stranger which emails have accounts.
    return ngettext(
        "That email and password did not work. After several failed tries an account is "
        "locked for %(minutes)d minute: if that happened, wait and try again.",
        "That email and password did not work. After several failed tries an account is "
        "locked for %(minutes)d minutes: if that happened, wait and try again.",
        settings.LOCKOUT_MINUTES,
    ) % {"minutes": settings.LOCKOUT_MINUTES}


def _locked_message() -> str:
    return ngettext(
        "Too many failed tries. Your account is locked for %(minutes)d minute.",
        "Too many failed tries. Your account is locked for %(minutes)d minutes.",
        settings.LOCKOUT_MINUTES,
    ) % {"minutes": settings.LOCKOUT_MINUTES}


def _after_sign_in(request: HttpRequest) -> str:
    return signin.pending_next(request) or reverse("accounts:home")


def _confirm_url(next_url: str) -> str:
    return f"{reverse('accounts:confirm_password')}?{urlencode({'next': next_url})}"


@functools.cache
def _stand_in_hash() -> str:
    """A hash of a random password, made once per process, to check unknown emails against."""
    return make_password(secrets.token_urlsafe(24))


@public
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Step 1: email and password."""
    if request.user.is_authenticated:
        return redirect("accounts:home")
    if request.method == "POST":
        form = SignInForm(request.POST)
        if form.is_valid():
            user = User.objects.filter(email=form.cleaned_data["email"]).first()
            password = form.cleaned_data["password"]
            if user is None or not user.is_active:
                # Check anyway, so an unknown email takes as long as a known one and meets
                # the same cap on password checks (a 503 then says nothing about the email).
                check_password(password, _stand_in_hash())
            elif user.check_password(password) and not user.is_locked:
                signin.start_pending(request, user, request.POST.get("next", ""))
                return redirect("accounts:second_factor")
            elif not user.is_locked:
                actions.fail_login(user)
            form.add_error(None, _generic_failure())
    else:
        form = SignInForm()
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": signin.safe_next(request, request.GET.get("next", ""))},
    )


@public
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    """Step 2: a code from the authenticator app, or a passkey (with JavaScript)."""
    user = signin.pending_user(request)
    if user is None:
        messages.error(request, _("Your sign-in took too long or was not started. Start again."))
        return redirect("accounts:login")
    if user.is_locked:
        signin.clear_pending(request)
        messages.error(request, _locked_message())
        return redirect("accounts:login")
    device = TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    totp_allowed = device is not None and signin.totp_allowed(user)
    form = CodeForm(
        request.POST if request.method == "POST" and "recovery_code" not in request.POST else None
    )
    recovery_form = RecoveryCodeForm(
        request.POST if request.method == "POST" and "recovery_code" in request.POST else None
    )
    refusal = ""
    if request.method == "POST" and "recovery_code" in request.POST:
        # A recovery code stands in for a lost phone or passkey, once. A coordinator who
        # signs in with one is sent on to add a passkey before anything else.
        if recovery_form.is_valid() and actions.use_recovery_code(
            user, recovery_form.cleaned_data["recovery_code"]
        ):
            actions.sign_in_user(request, user, factor="recovery_code")
            messages.warning(
                request,
                _("You used a recovery code. Set up your authenticator app or passkey again now."),
            )
            return redirect("accounts:security")
        if actions.fail_login(user):
            signin.clear_pending(request)
            messages.error(request, _locked_message())
            return redirect("accounts:login")
        if recovery_form.is_valid():
            recovery_form.add_error(
                "recovery_code", _("That recovery code did not work, or it was used already.")
            )
    elif request.method == "POST":
        if not totp_allowed:
            form = CodeForm()
            if device is None:
                refusal = _("This account has no authenticator app. Use your passkey.")
            else:
                refusal = _("Your role needs your passkey to sign in. Use it below.")
        elif form.is_valid() and mfa.check_totp(device, form.cleaned_data["code"]):  # type: ignore[arg-type]
            next_url = _after_sign_in(request)
            actions.sign_in_user(request, user, factor="totp")
            return redirect(next_url)
        else:
            if actions.fail_login(user):
                signin.clear_pending(request)
                messages.error(request, _locked_message())
                return redirect("accounts:login")
            if form.is_valid():
                form.add_error("code", _("That code did not work. Codes change every 30 seconds."))
    return render(
        request,
        "accounts/second_factor.html",
        {
            "form": form,
            "recovery_form": recovery_form,
            "refusal": refusal,
            "totp_allowed": totp_allowed,
            "has_passkey": user.passkeys.exists(),  # type: ignore[attr-defined]
            "no_factor": device is None and not user.passkeys.exists(),  # type: ignore[attr-defined]
        },
    )


def _json_error(message: str, status: int = 400, **extra: str) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


@public
@require_POST
def passkey_login_options(request: HttpRequest) -> JsonResponse:
    user = signin.pending_user(request)
    if user is None or user.is_locked:
        return _json_error(
            _("Your sign-in took too long or was not started. Start again."),
            redirect=reverse("accounts:login"),
        )
    return JsonResponse({"options": passkeys.authentication_options(request, user)})


@public
@require_POST
def passkey_login_verify(request: HttpRequest) -> JsonResponse:
    user = signin.pending_user(request)
    if user is None or user.is_locked:
        signin.clear_pending(request)
        return _json_error(
            _("Your sign-in took too long or was not started. Start again."),
            redirect=reverse("accounts:login"),
        )
    try:
        data = passkeys.read_json(request)
        passkeys.verify_authentication(request, user, data.get("credential"))
    except passkeys.PasskeyError as error:
        if actions.fail_login(user):
            signin.clear_pending(request)
            # Said again on the sign-in page the script sends the person back to.
            messages.error(request, _locked_message())
            return _json_error(_locked_message(), redirect=reverse("accounts:login"))
        return _json_error(error.message)
    next_url = _after_sign_in(request)
    actions.sign_in_user(request, user, factor="passkey")
    return JsonResponse({"redirect": next_url})


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    response = redirect("pages:home")
    response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@signed_in
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """My page: the person's committees and where to go from here."""
    memberships = request.user.memberships.select_related("committee").order_by(  # type: ignore[union-attr]
        "committee__name"
    )
    return render(request, "accounts/home.html", {"memberships": memberships})


@signed_in
@require_GET
def security(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    return render(
        request,
        "accounts/security.html",
        {
            "passkeys": user.passkeys.order_by("created_at"),  # type: ignore[attr-defined]
            "totp": TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first(),
            "requires_passkey": user.requires_passkey,
            "max_passkeys": passkeys.MAX_PASSKEYS,
            "recent": signin.recently_authenticated(request),
            "confirm_url": _confirm_url(reverse("accounts:security")),
            "recovery_codes_left": actions.unused_recovery_codes(user),
        },
    )


@signed_in
@never_cache  # the page shows the new codes: no browser or proxy may keep it
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Make a fresh batch of recovery codes (the old ones stop working) and show them once."""
    user: User = request.user  # type: ignore[assignment]
    if not signin.recently_authenticated(request):
        return redirect(_confirm_url(reverse("accounts:security")))
    codes = actions.make_recovery_codes(user, actor=user)
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@signed_in
@require_http_methods(["GET", "POST"])
def confirm_password(request: HttpRequest) -> HttpResponse:
    """Type the password again before adding a passkey or an authenticator app."""
    user: User = request.user  # type: ignore[assignment]
    raw_next = request.POST.get("next") if request.method == "POST" else request.GET.get("next")
    next_url = signin.safe_next(request, raw_next or "") or reverse("accounts:security")
    form = ConfirmPasswordForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if user.is_locked:
            form.add_error("password", _locked_message())
        elif user.check_password(form.cleaned_data["password"]):
            actions.confirm_password(user)
            signin.mark_reauthenticated(request)
            return redirect(next_url)
        elif actions.fail_login(user):
            # Wrong passwords count as at sign-in; the one that locks the account also ends
            # this session (someone guessing in a session that is not theirs loses it).
            logout(request)
            messages.error(request, _locked_message())
            return redirect("accounts:login")
        else:
            form.add_error("password", _("That is not your password."))
    return render(
        request,
        "accounts/confirm_password.html",
        {"form": form, "next": next_url, "minutes": signin.REAUTH_TTL_S // 60},
        status=400 if form.errors else 200,
    )


@signed_in
@require_http_methods(["GET", "POST"])
def change_password(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.change_password(user, form.cleaned_data["new_password1"], actor=user)
        update_session_auth_hash(request, user)
        messages.success(request, _("Password changed. You were signed out everywhere else."))
        return redirect("accounts:security")
    if form.wrong_old_password and actions.fail_login(user):
        # Counted as at sign-in: the failure that locks the account also ends this session
        # (someone guessing in a session that is not theirs loses it).
        logout(request)
        messages.error(request, _locked_message())
        return redirect("accounts:login")
    return render(request, "accounts/password.html", {"form": form})


@signed_in
@require_http_methods(["GET", "POST"])
def setup_totp(request: HttpRequest) -> HttpResponse:
    """Show a new secret; it only replaces the old one once a code from it is confirmed."""
    user: User = request.user  # type: ignore[assignment]
    secret = request.session.get(_TOTP_SETUP)
    if request.method == "GET" or not isinstance(secret, str):
        # A new secret is shown only to someone who typed the password just now; a posted
        # code is checked only against a secret shown that way.
        if not signin.recently_authenticated(request):
            return redirect(_confirm_url(reverse("accounts:setup_totp")))
        secret = mfa.new_totp_secret()
        request.session[_TOTP_SETUP] = secret
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        step = mfa.matching_step(secret, form.cleaned_data["code"])
        if step is not None:
            actions.replace_totp(user, secret, step, actor=user)
            del request.session[_TOTP_SETUP]
            update_session_auth_hash(request, user)
            messages.success(
                request, _("Authenticator app set up. You were signed out everywhere else.")
            )
            return redirect("accounts:security")
        form.add_error("code", _("That code did not work. Check the app shows this account."))
    return render(
        request,
        "accounts/totp.html",
        {
            "form": form,
            "secret": secret,
            # In blocks of four so it can be read out and typed, and wraps on small screens.
            "secret_blocks": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "qr": mfa.totp_qr_svg(user, secret),
            "replacing": TOTPDevice.objects.filter(user=user).exists(),
        },
    )


@signed_in
@require_POST
def rename_passkey(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    passkey = passkeys.get_passkey_for(user, pk)
    form = PasskeyNameForm(request.POST)
    if form.is_valid():
        actions.rename_passkey(passkey, form.cleaned_data["name"], actor=user)
        messages.success(request, _("Passkey renamed."))
    else:
        messages.error(request, form.errors["name"][0])
    return redirect("accounts:security")


@signed_in
@require_POST
def remove_passkey(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    passkey = passkeys.get_passkey_for(user, pk)
    try:
        actions.remove_passkey(passkey, actor=user)
    except actions.LastPasskeyError:
        messages.error(
            request,
            _("This is your last passkey and you need it. Add another before removing this one."),
        )
        return redirect("accounts:security")
    user.refresh_from_db()
    update_session_auth_hash(request, user)
    messages.success(request, _("Passkey removed. You were signed out everywhere else."))
    return redirect("accounts:security")


def _reauth_error() -> JsonResponse:
    return _json_error(
        _("Type your password again to add a passkey."),
        status=403,
        redirect=_confirm_url(reverse("accounts:security")),
    )


@signed_in
@require_POST
def passkey_register_options(request: HttpRequest) -> JsonResponse:
    user: User = request.user  # type: ignore[assignment]
    if not signin.recently_authenticated(request):
        return _reauth_error()
    if user.passkeys.count() >= passkeys.MAX_PASSKEYS:  # type: ignore[attr-defined]
        return _json_error(_("You have the most passkeys allowed. Remove one first."))
    return JsonResponse({"options": passkeys.registration_options(request, user)})


@signed_in
@require_POST
def passkey_register_verify(request: HttpRequest) -> JsonResponse:
    user: User = request.user  # type: ignore[assignment]
    if not signin.recently_authenticated(request):
        return _reauth_error()
    try:
        data = passkeys.read_json(request)
        form = PasskeyNameForm({"name": data.get("name") or _("Passkey")})
        if not form.is_valid():
            raise passkeys.PasskeyError(form.errors["name"][0])
        if user.passkeys.count() >= passkeys.MAX_PASSKEYS:  # type: ignore[attr-defined]
            raise passkeys.PasskeyError(_("You have the most passkeys allowed. Remove one first."))
        verified = passkeys.verify_registration(request, user, data.get("credential"))
    except passkeys.PasskeyError as error:
        return _json_error(error.message)
    actions.add_passkey(user, verified, form.cleaned_data["name"], actor=user)
    update_session_auth_hash(request, user)
    # Proving a passkey just now is as strong as signing in with it.
    request.session[SESSION_FACTOR] = "passkey"
    messages.success(request, _("Passkey added. You were signed out everywhere else."))
    return JsonResponse({"redirect": reverse("accounts:security")})
