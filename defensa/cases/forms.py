"""Forms of the legal team's case pages and of members' emergency plans.

Each rejects bad input with a translated message next to the field and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.validators import validate_email
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.accounts.models import Language, User
from defensa.cases.models import (
    BondStatus,
    Case,
    ContactChannel,
    Facility,
    HearingKind,
    Source,
    TriggerVia,
)
from defensa.committees.models import Committee
from defensa.incidents.codes import normalise_code
from defensa.incidents.models import Incident
from defensa.reports.models import Report

A_NUMBER = re.compile(r"^A?(\d{8,9})$")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
MAX_PLAN_CONTACTS = 3


def clean_a_number(value: str) -> str:
    """An A-number as written on papers: A + 8 or 9 digits (dashes and spaces forgiven)."""
    compact = re.sub(r"[\s-]", "", value or "").upper()
    if not compact:
        return ""
    match = A_NUMBER.match(compact)
    if not match:
        raise forms.ValidationError(
            _("An A-number is the letter A and 8 or 9 digits, like A012345678.")
        )
    return "A" + match.group(1)


def clean_contact_address(channel: str, value: str) -> str:
    value = (value or "").strip()
    if channel == ContactChannel.EMAIL:
        try:
            validate_email(value)
        except forms.ValidationError:
            raise forms.ValidationError(
                _("Write an email address, like name@example.org.")
            ) from None
        return value.lower()
    digits = re.sub(r"\D", "", value)
    if not 10 <= len(digits) <= 15 or re.search(r"[^\d\s()+.-]", value):
        raise forms.ValidationError(
            _("Write a phone number with its area code, like 213 555 0123.")
        )
    if len(digits) == 10:
        digits = "1" + digits
    return "+" + digits


class PersonFields(forms.Form):
    person_name = forms.CharField(label=_("Full name"), max_length=120, required=False)
    a_number = forms.CharField(
        label=_("A-number"),
        max_length=14,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    birth_date = forms.DateField(label=_("Date of birth"), required=False, widget=DATE)
    birth_country = forms.CharField(label=_("Country of birth"), max_length=60, required=False)

    def clean_a_number(self) -> str:
        return clean_a_number(self.cleaned_data.get("a_number", ""))

    def clean_birth_date(self) -> dt.date | None:
        value = self.cleaned_data.get("birth_date")
        if value and not dt.date(1900, 1, 1) <= value <= timezone.localdate():
            raise forms.ValidationError(_("That date of birth is not possible."))
        return value


class OpenCaseForm(PersonFields):
    committee = forms.ModelChoiceField(
        label=_("Committee"), queryset=Committee.objects.none(), empty_label=None
    )
    source = forms.ChoiceField(
        label=_("Opened from"),
        choices=[
            (s, label) for s, label in Source.choices if s in ("incident", "hotline", "other")
        ],
        widget=forms.RadioSelect,
        initial=Source.INCIDENT,
    )
    reference = forms.CharField(
        label=_("Incident or report reference"),
        max_length=12,
        required=False,
        help_text=_("The code on the incident or the hotline report, like K7M2QX."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    facility = forms.ModelChoiceField(
        label=_("Where the person is held, if known"),
        queryset=Facility.objects.all(),
        required=False,
    )
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    field_order = ["committee", "source", "reference", "person_name", "a_number", "birth_date",
                   "birth_country", "facility", "note"]  # fmt: skip

    def __init__(self, *args: Any, committees: QuerySet[Committee], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["committee"].queryset = committees
        if committees.count() == 1:
            self.fields["committee"].initial = committees.first()
            self.fields["committee"].widget = forms.HiddenInput()
        self.incident: Incident | None = None
        self.report: Report | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        committee, source = data.get("committee"), data.get("source")
        code = normalise_code(data.get("reference", ""))
        if committee is None or source is None:
            return data
        if source == Source.INCIDENT:
            self.incident = Incident.objects.filter(committee=committee, reference=code).first()
            if not code or self.incident is None:
                self.add_error("reference", _("No incident of this committee has that reference."))
        elif source == Source.HOTLINE:
            self.report = (
                Report.objects.filter(reference=code, incident__committee=committee)
                .select_related("incident")
                .first()
            )
            if not code or self.report is None:
                self.add_error("reference", _("No report of this committee has that reference."))
            else:
                self.incident = self.report.incident
        return data


class PersonForm(PersonFields):
    pass


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=())
    note = forms.CharField(
        label=_("Note (optional)"), max_length=2000, required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = case.next_statuses()


class TransferForm(forms.Form):
    facility = forms.ModelChoiceField(label=_("Facility"), queryset=Facility.objects.all())
    since = forms.DateField(label=_("Since"), widget=DATE, initial=timezone.localdate)

    def clean_since(self) -> dt.date:
        value = self.cleaned_data["since"]
        if value > timezone.localdate() or value.year < 2000:
            raise forms.ValidationError(_("Give a date that has already come."))
        return value


class FacilityForm(forms.Form):
    name = forms.CharField(label=_("Facility name"), max_length=120)
    city = forms.CharField(label=_("City"), max_length=80, required=False)


class AttorneyForm(forms.Form):
    attorney = forms.ModelChoiceField(
        label=_("Attorney in the network"), queryset=User.objects.none(), required=False
    )
    outside = forms.CharField(
        label=_("Or an attorney outside the network"), max_length=120, required=False,
        help_text=_("Name and organisation, e.g. 'J. Ruiz, legal aid clinic'."),
    )  # fmt: skip

    def __init__(self, *args: Any, people: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attorney"].queryset = people


class HearingForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=HearingKind.choices)
    at = forms.DateTimeField(label=_("When"), widget=DATETIME)
    place = forms.CharField(label=_("Court or office"), max_length=160, required=False)

    def clean_at(self) -> dt.datetime:
        value = self.cleaned_data["at"]
        if value.year < 2000 or value.year > timezone.now().year + 5:
            raise forms.ValidationError(_("That date is not possible."))
        return value


class BondForm(forms.Form):
    amount = forms.IntegerField(
        label=_("Bond amount (dollars)"), required=False, min_value=0, max_value=10_000_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )  # fmt: skip
    status = forms.ChoiceField(label=_("Bond status"), choices=BondStatus.choices, required=False)
    fund = forms.CharField(label=_("Bond fund"), max_length=120, required=False)


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    relation = forms.CharField(
        label=_("Relation"), max_length=60, required=False,
        help_text=_("e.g. sister, partner, neighbour"),
    )  # fmt: skip
    channel = forms.ChoiceField(
        label=_("How to reach them"), choices=ContactChannel.choices, initial=ContactChannel.SMS
    )
    address = forms.CharField(
        label=_("Phone or email"), max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )  # fmt: skip
    language = forms.ChoiceField(label=_("Their language"), choices=Language.choices, initial="es")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "address" in data and data.get("channel"):
            try:
                data["address"] = clean_contact_address(data["channel"], data["address"])
            except forms.ValidationError as error:
                self.add_error("address", error)
        return data


class TaskForm(forms.Form):
    title = forms.CharField(label=_("What to do"), max_length=160)
    owner = forms.ModelChoiceField(label=_("Who"), queryset=User.objects.none(), required=False)
    due_at = forms.DateTimeField(label=_("Due"), widget=DATETIME)

    def __init__(self, *args: Any, people: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people

    def clean_due_at(self) -> dt.datetime:
        value = self.cleaned_data["due_at"]
        if value.year < 2000 or value.year > timezone.now().year + 5:
            raise forms.ValidationError(_("That date is not possible."))
        return value


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


# Emergency plans ----------------------------------------------------------------------


class PlanForm(PersonFields):
    """The plan: who to tell, what to do, and the identifiers the legal team will need."""

    committee = forms.ModelChoiceField(
        label=_("Committee whose legal team takes your case"),
        queryset=Committee.objects.none(),
        empty_label=None,
    )
    instructions = forms.CharField(
        label=_("Instructions for your contacts"),
        max_length=600,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Who picks up the children, which attorney to call, where your documents are."),
    )

    def __init__(self, *args: Any, committees: QuerySet[Committee], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["committee"].queryset = committees
        if committees.count() == 1:
            self.fields["committee"].widget = forms.HiddenInput()
            self.fields["committee"].initial = committees.first()
        for i in range(1, MAX_PLAN_CONTACTS + 1):
            self.fields[f"name_{i}"] = forms.CharField(
                label=_("Name"), max_length=80, required=False
            )
            self.fields[f"channel_{i}"] = forms.ChoiceField(
                label=_("How to reach them"), choices=ContactChannel.choices, initial="sms"
            )
            self.fields[f"address_{i}"] = forms.CharField(
                label=_("Phone or email"), max_length=120, required=False,
                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
            )  # fmt: skip
            self.fields[f"language_{i}"] = forms.ChoiceField(
                label=_("Their language"), choices=Language.choices, initial="es"
            )

    def contact_rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"{name}_{i}"] for name in ("name", "channel", "address", "language")]
            for i in range(1, MAX_PLAN_CONTACTS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        contacts = []
        for i in range(1, MAX_PLAN_CONTACTS + 1):
            address, name = data.get(f"address_{i}", ""), data.get(f"name_{i}", "")
            if not address and not name:
                continue
            if not address:
                self.add_error(
                    f"address_{i}", _("Add how to reach this person, or clear the name.")
                )
                continue
            try:
                address = clean_contact_address(data.get(f"channel_{i}", "sms"), address)
            except forms.ValidationError as error:
                self.add_error(f"address_{i}", error)
                continue
            contacts.append(
                {
                    "name": name.strip(),
                    "channel": data.get(f"channel_{i}", "sms"),
                    "address": address,
                    "language": data.get(f"language_{i}", "es"),
                }
            )
        if not contacts and not self.errors:
            self.add_error("address_1", _("A plan needs at least one contact to tell."))
        data["contacts"] = contacts
        return data

    @staticmethod
    def initial_from(plan_contacts: list[dict[str, str]], identity: dict[str, str],
                     instructions: str, committee: Committee) -> dict[str, Any]:  # fmt: skip
        initial: dict[str, Any] = {"committee": committee, "instructions": instructions, **identity}
        for i, contact in enumerate(plan_contacts[:MAX_PLAN_CONTACTS], start=1):
            for name in ("name", "channel", "address", "language"):
                initial[f"{name}_{i}"] = contact.get(name, "")
        return initial


class TriggerForm(forms.Form):
    via = forms.ChoiceField(
        label=_("Who asked"),
        choices=[(v, label) for v, label in TriggerVia.choices if v != TriggerVia.SELF],
        widget=forms.RadioSelect,
        initial=TriggerVia.HOTLINE,
    )
    confirm = forms.BooleanField(
        label=_("Yes: tell their contacts and the legal team now"),
        error_messages={"required": _("Tick the box to confirm.")},
    )


class SelfTriggerForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes: I am being detained, or I am in danger of it"),
        error_messages={"required": _("Tick the box to confirm.")},
    )


class MemberSearchForm(forms.Form):
    q = forms.CharField(label=_("Member's name"), max_length=80, required=False)
