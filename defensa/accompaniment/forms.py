"""Forms of the legal team's calendar. Every field validates strictly, errors in plain words."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from defensa.accompaniment.models import NEEDED_LANGUAGES, Kind, Place, PlaceKind
from defensa.accounts.models import Language
from defensa.committees.models import Committee

DURATIONS = (1, 2, 3, 4, 6, 8)
MAX_DAYS_AHEAD = 2 * 365
A_NUMBER = re.compile(r"^A?\d{8,9}$")
PHONE = re.compile(r"^\+?[0-9 ().-]{7,20}$")


def _no_controls(value: str) -> str:
    value = " ".join(value.split())
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValidationError(_("Remove the special characters."), code="control")
    return value


class AppointmentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What"), choices=Kind.choices, widget=forms.RadioSelect, initial=Kind.HEARING
    )
    place = forms.ModelChoiceField(
        label=_("Where"), queryset=Place.objects.all(), empty_label=_("Choose a place")
    )
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}))
    hours = forms.TypedChoiceField(label=_("Expected to last"), choices=(), coerce=int, initial=3)
    languages = forms.MultipleChoiceField(
        label=_("Languages needed"),
        choices=NEEDED_LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    companions_needed = forms.TypedChoiceField(
        label=_("Companions needed"), choices=[(n, n) for n in range(1, 7)], coerce=int, initial=2
    )
    case_reference = forms.CharField(
        label=_("Case reference (optional)"),
        max_length=12,
        required=False,
        help_text=_("Link an open case, like C7K2M9Q. Check-ins then appear on its timeline."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    person_name = forms.CharField(
        label=_("Name of the person accompanied"),
        max_length=120,
        required=False,
        help_text=_("Only the legal team sees it. Volunteers never do."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    a_number = forms.CharField(
        label=_("A-number (optional)"),
        max_length=14,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, committee: Committee, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.committee = committee
        self.fields["hours"].choices = [  # type: ignore[attr-defined]
            (h, ngettext("%(n)s hour", "%(n)s hours", h) % {"n": h}) for h in DURATIONS
        ]
        for n in (1, 2):
            self.fields[f"contact{n}_name"] = forms.CharField(
                label=_("Emergency contact %(n)s: name") % {"n": n}, max_length=80, required=False
            )
            self.fields[f"contact{n}_address"] = forms.CharField(
                label=_("Phone or email"),
                max_length=254,
                required=False,
                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "email"}),
            )
            self.fields[f"contact{n}_language"] = forms.ChoiceField(
                label=_("Their language"), choices=Language.choices, initial=Language.ES
            )

    def clean_person_name(self) -> str:
        return _no_controls(self.cleaned_data.get("person_name", ""))

    def clean_a_number(self) -> str:
        value = re.sub(r"[\s-]", "", self.cleaned_data.get("a_number", "")).upper()
        if value and not A_NUMBER.match(value):
            raise ValidationError(_("An A-number has 8 or 9 digits."), code="a_number")
        if value and not value.startswith("A"):
            value = "A" + value
        return value

    def clean_case_reference(self) -> str:
        return self.cleaned_data.get("case_reference", "").strip().upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        day, at = data.get("date"), data.get("time")
        if day and at:
            tz: zoneinfo.ZoneInfo = self.committee.tz
            starts = dt.datetime.combine(day, at, tzinfo=tz)
            now = timezone.now()
            if starts <= now:
                self.add_error("date", _("Give a date and time that have not passed."))
            elif starts > now + dt.timedelta(days=MAX_DAYS_AHEAD):
                self.add_error("date", _("That is too far ahead."))
            else:
                data["starts_at"] = starts
                data["ends_at"] = starts + dt.timedelta(hours=data.get("hours") or 3)
        contacts = []
        for n in (1, 2):
            address = (data.get(f"contact{n}_address") or "").strip()
            name = _no_controls(data.get(f"contact{n}_name") or "")
            if not address:
                if name:
                    self.add_error(f"contact{n}_address", _("Give a phone number or an email."))
                continue
            if "@" in address:
                try:
                    validate_email(address)
                except ValidationError:
                    self.add_error(f"contact{n}_address", _("That email does not look right."))
                    continue
                channel = "email"
            elif PHONE.match(address) and 7 <= sum(ch.isdigit() for ch in address) <= 15:
                channel = "sms"
            else:
                self.add_error(
                    f"contact{n}_address", _("Give a phone number (with area code) or an email.")
                )
                continue
            contacts.append(
                {
                    "name": name,
                    "address": address,
                    "channel": channel,
                    "language": data.get(f"contact{n}_language") or "es",
                }
            )
        data["contacts"] = contacts
        return data


class PlaceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=PlaceKind.choices)
    address = forms.CharField(label=_("Street address"), max_length=200, required=False)

    def clean_name(self) -> str:
        name = _no_controls(self.cleaned_data["name"])
        if not name:
            raise ValidationError(_("Please write a name."), code="required")
        return name

    def clean_address(self) -> str:
        return _no_controls(self.cleaned_data.get("address", ""))
