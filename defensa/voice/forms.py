"""The numbers page's form: a phone number, the committee it belongs to, its fallback group."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from defensa.committees.models import Committee
from defensa.voice.routing import MAX_NUMBERS, e164


class HotlineForm(forms.Form):
    number = forms.CharField(
        label=_("Phone number"),
        max_length=30,
        help_text=_("As your provider shows it, with the country code: +12135550100."),
    )
    committee = forms.ModelChoiceField(
        label=_("Committee"),
        queryset=Committee.objects.filter(archived_at__isnull=True).order_by("name"),
        empty_label=None,
    )
    fallback = forms.CharField(
        label=_("Fallback numbers"),
        required=False,
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Rung when no hotline operator is on a shift or none answers. One per line or "
            "separated by commas; may be empty."
        ),
    )

    def clean_number(self) -> str:
        number = e164(self.cleaned_data["number"])
        if not number:
            raise forms.ValidationError(
                _("This is not a phone number. Write it with its country code: +12135550100.")
            )
        return number

    def clean_fallback(self) -> list[str]:
        found: list[str] = []
        for raw in re.split(r"[,;\n]+", self.cleaned_data.get("fallback") or ""):
            if not raw.strip():
                continue
            number = e164(raw)
            if not number:
                raise forms.ValidationError(
                    _("%(value)s is not a phone number.") % {"value": raw.strip()[:30]}
                )
            if number not in found:
                found.append(number)
        if len(found) > MAX_NUMBERS:
            raise forms.ValidationError(
                _("At most %(count)d fallback numbers are rung at once.") % {"count": MAX_NUMBERS}
            )
        return found

    def clean(self) -> dict[str, Any]:
        return super().clean() or {}
