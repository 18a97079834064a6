"""Forms of funds: amounts, dates and methods, strictly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.funds.models import MAX_AMOUNT, Method


def _plain(value: str) -> str:
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValidationError(_("Remove the special characters."), code="control")
    return value.strip()


def _amount(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal("0.01"),
        max_value=MAX_AMOUNT,
        max_digits=10,
        decimal_places=2,
        error_messages={"min_value": _("Enter an amount above zero.")},
    )


class FundForm(forms.Form):
    name = forms.CharField(label=_("Name of the fund"), max_length=120)
    person_week_cap = _amount(_("Most one person receives in a week"))
    week_cap = _amount(_("Most the fund pays out in a week"))

    def clean_name(self) -> str:
        return _plain(self.cleaned_data["name"])


class ApplyForm(forms.Form):
    amount = _amount(_("Amount"))
    reason = forms.CharField(
        label=_("Reason, in a few words"),
        max_length=140,
        help_text=_("Only the fund's reviewers see it, and who you are."),
    )

    def clean_reason(self) -> str:
        return _plain(self.cleaned_data["reason"])


def _not_future(day: dt.date) -> dt.date:
    if day > timezone.localdate() + dt.timedelta(days=1):
        raise ValidationError(_("The date cannot be in the future."), code="future")
    return day


class MoneyForm(forms.Form):
    """Money in, or a disbursement (then the amount is the application's)."""

    amount = _amount(_("Amount"))
    on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices)

    def clean_on(self) -> dt.date:
        return _not_future(self.cleaned_data["on"])


class DisburseForm(forms.Form):
    on = forms.DateField(label=_("Date paid"), widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices)

    def clean_on(self) -> dt.date:
        return _not_future(self.cleaned_data["on"])


class ReviewerForm(forms.Form):
    user = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
