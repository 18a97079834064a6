"""Forms for signing in and for the security page. All work without JavaScript."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from defensa.accounts.models import User

# Long enough for any passphrase, short enough that hashing it costs nothing unusual.
MAX_PASSWORD = 256


_PHONE_LIKE = re.compile(r"[+0-9 ().\-]+")


class SignInForm(forms.Form):
    # Checked in clean_email, so a phone number gets its own answer before the email rules.
    email = forms.CharField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=MAX_PASSWORD,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_email(self) -> str:
        value = self.cleaned_data["email"].strip()
        if _PHONE_LIKE.fullmatch(value) and sum(ch.isdigit() for ch in value) >= 7:
            # Whoever typed it: the same answer, so it says nothing about any account.
            raise ValidationError(
                _(
                    "Sign in with your email, not a phone number. Members who take part by "
                    "text message have no web sign-in: to use the website, ask your "
                    "coordinator for an invitation link."
                ),
                code="phone",
            )
        validate_email(value)
        return value.lower()


class RecoveryCodeForm(forms.Form):
    recovery_code = forms.CharField(
        label=_("Recovery code"),
        max_length=40,
        help_text=_("One of the codes you wrote down, like k3mfa-9qrtx. Each works once."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )


class ConfirmPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        max_length=MAX_PASSWORD,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            raise forms.ValidationError(_("Enter the 6 digits shown in your app."))
        return code


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("Current password"),
        max_length=MAX_PASSWORD,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label=_("New password"),
        max_length=MAX_PASSWORD,
        strip=False,
        help_text=_("At least 10 characters. A few unusual words together work well."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        max_length=MAX_PASSWORD,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any):
        self.user = user
        # A wrong current password counts against the account's lockout, as at sign-in
        # (the view does the counting; issue 9).
        self.wrong_old_password = False
        super().__init__(*args, **kwargs)

    def clean_old_password(self) -> str:
        old = self.cleaned_data["old_password"]
        if self.user.is_locked:  # not even checked while locked
            raise forms.ValidationError(
                ngettext(
                    "Too many failed tries. Your account is locked for %(minutes)d minute.",
                    "Too many failed tries. Your account is locked for %(minutes)d minutes.",
                    settings.LOCKOUT_MINUTES,
                )
                % {"minutes": settings.LOCKOUT_MINUTES}
            )
        if not self.user.check_password(old):
            self.wrong_old_password = True
            raise forms.ValidationError(_("Your current password is not right."))
        return old

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        new1, new2 = cleaned.get("new_password1"), cleaned.get("new_password2")
        if new1 and new2:
            if new1 != new2:
                self.add_error("new_password2", _("The two new passwords are not the same."))
            else:
                try:
                    password_validation.validate_password(new1, self.user)
                except forms.ValidationError as error:
                    self.add_error("new_password1", error)
        return cleaned


class PasskeyNameForm(forms.Form):
    name = forms.CharField(
        label=_("Passkey name"),
        max_length=60,
        help_text=_("So you can tell your passkeys apart, e.g. “My phone”."),
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Give the passkey a name."))
        return name
