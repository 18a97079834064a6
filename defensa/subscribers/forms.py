"""The public sign-up form: phone, ZIP code, language; then the code texted to the phone."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from defensa.core import geo, languages
from defensa.subscribers import actions


class SubscribeForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        help_text=_("We text alerts to this number, and a code now to confirm it."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    zip_code = forms.CharField(
        label=_("ZIP code"),
        max_length=10,
        help_text=_("Alerts are for verified incidents near this ZIP code."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    language = forms.ChoiceField(
        label=_("Language of the alerts"),
        # Each language named in itself, as the chooser of every page names it.
        choices=[(lang.code, lang.name) for lang in languages.ALL],
    )

    def clean_phone(self) -> str:
        try:
            return actions.canonical_phone(self.cleaned_data["phone"])
        except actions.SubscribeError as error:
            raise ValidationError(error.message, code="phone") from None

    def clean_zip_code(self) -> str:
        value = self.cleaned_data["zip_code"].strip()
        if not geo.is_zip_format(value) or not geo.is_real_zip(value):
            raise ValidationError(_("Enter a 5-digit ZIP code, e.g. 90033."), code="zip")
        return value


class CodeForm(forms.Form):
    ticket = forms.CharField(widget=forms.HiddenInput, max_length=200)
    code = forms.CharField(
        label=_("The code we texted you"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def clean_code(self) -> str:
        digits = "".join(ch for ch in self.cleaned_data["code"] if ch.isdigit())
        if len(digits) != 6:
            raise ValidationError(_("The code has 6 digits."), code="code")
        return digits
