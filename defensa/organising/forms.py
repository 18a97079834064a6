"""Forms of organising: every field validates strictly, errors in plain words."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.accounts.models import Language
from defensa.committees.models import Committee, Membership
from defensa.organising.actions import ContactData, TestData, WorkplaceData
from defensa.organising.models import (
    MAX_CONTACT_RETENTION_DAYS,
    SCALE,
    ActionKind,
    Policy,
    Workplace,
)

MAX_LIST_ITEMS = 40


def _no_controls(value: str) -> str:
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValidationError(_("Remove the special characters."), code="control")
    return value.strip()


def _names(value: str) -> list[str]:
    """One name a line (departments, shifts), without repeats or empty lines."""
    found: list[str] = []
    for line in (value or "").splitlines():
        name = _no_controls(line)
        if len(name) > 80:
            raise ValidationError(_("Keep each name under 80 characters."), code="long")
        if name and name not in found:
            found.append(name)
    if len(found) > MAX_LIST_ITEMS:
        raise ValidationError(_("Name at most 40, one a line."), code="many")
    return found


class CleanText(forms.CharField):
    def clean(self, value: Any) -> str:
        return _no_controls(super().clean(value) or "")


class WorkplaceForm(forms.Form):
    employer = CleanText(label=_("Employer"), max_length=120)
    site = CleanText(label=_("Site"), max_length=120, required=False)
    sector = CleanText(label=_("Sector"), max_length=80, required=False)
    area = CleanText(
        label=_("Address or area"),
        max_length=200,
        required=False,
        help_text=_("Where it is, as precisely as the committee needs."),
    )
    headcount = forms.IntegerField(
        label=_("Estimated headcount"),
        min_value=1,
        max_value=100_000,
        error_messages={
            "min_value": _("The estimated headcount must be between 1 and 100,000."),
            "max_value": _("The estimated headcount must be between 1 and 100,000."),
        },
    )
    departments = forms.CharField(
        label=_("Departments"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line, e.g. Kitchen."),
    )
    shifts = forms.CharField(
        label=_("Shifts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line, e.g. Night."),
    )
    union = CleanText(label=_("Union, if any"), max_length=120, required=False)

    def clean_departments(self) -> list[str]:
        return _names(self.cleaned_data.get("departments", ""))

    def clean_shifts(self) -> list[str]:
        return _names(self.cleaned_data.get("shifts", ""))

    def workplace_data(self) -> WorkplaceData:
        d = self.cleaned_data
        return WorkplaceData(
            employer=d["employer"],
            site=d["site"],
            sector=d["sector"],
            area=d["area"],
            headcount=d["headcount"],
            departments=d["departments"],
            shifts=d["shifts"],
            union=d["union"],
        )


def _unit_choices(values: list[str]) -> list[tuple[str, str]]:
    return [("", _("(none)")), *((v, v) for v in values)]


class ContactForm(forms.Form):
    name = CleanText(label=_("Name or nickname"), max_length=80)
    phone = CleanText(
        label=_("Mobile phone"),
        max_length=32,
        required=False,
        help_text=_("For their own link and texts; kept sealed."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices, initial="en")
    department = forms.ChoiceField(label=_("Department"), required=False)
    shift = forms.ChoiceField(label=_("Shift"), required=False)

    def __init__(self, *args: Any, workplace: Workplace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = _unit_choices(workplace.departments)
        self.fields["shift"].choices = _unit_choices(workplace.shifts)

    def contact_data(self) -> ContactData:
        d = self.cleaned_data
        return ContactData(
            name=d["name"],
            phone=d["phone"],
            language=d["language"],
            department=d["department"],
            shift=d["shift"],
        )


class MemberWorkerForm(forms.Form):
    membership = forms.ModelChoiceField(label=_("Member"), queryset=Membership.objects.none())
    department = forms.ChoiceField(label=_("Department"), required=False)
    shift = forms.ChoiceField(label=_("Shift"), required=False)

    def __init__(self, *args: Any, workplace: Workplace, members: list[Membership], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["membership"]
        field.queryset = Membership.objects.filter(pk__in=[m.pk for m in members])  # type: ignore[attr-defined]
        field.label_from_instance = lambda m: f"{m.user.display_name} ({m.committee.name})"  # type: ignore[attr-defined]
        self.fields["department"].choices = _unit_choices(workplace.departments)
        self.fields["shift"].choices = _unit_choices(workplace.shifts)


class AssessmentForm(forms.Form):
    value = forms.TypedChoiceField(label=_("Assessment"), coerce=int)
    reason = CleanText(
        label=_("Why"),
        max_length=280,
        help_text=_("A short reason: what they said or did."),
    )

    def __init__(self, *args: Any, policy: Policy, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value"].choices = [  # type: ignore[attr-defined]
            (v, f"{v} – {policy.label(v, language)}") for v in SCALE
        ]
        self.fields["value"].error_messages["invalid_choice"] = _(
            "An assessment is a number from 1 to 5."
        )


class StructureTestForm(forms.Form):
    title = CleanText(label=_("Title"), max_length=120)
    kind = forms.ChoiceField(label=_("Action"), choices=ActionKind.choices)
    workplaces = forms.ModelMultipleChoiceField(
        label=_("Workplaces"),
        queryset=Workplace.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    departments = forms.MultipleChoiceField(
        label=_("Only these departments"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked for the whole unit."),
    )
    goal_percent = forms.IntegerField(
        label=_("Goal (% of the unit)"),
        min_value=1,
        max_value=100,
        initial=65,
        error_messages={
            "min_value": _("The goal is a percentage from 1 to 100."),
            "max_value": _("The goal is a percentage from 1 to 100."),
        },
    )
    deadline_date = forms.DateField(
        label=_("Deadline: date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    deadline_time = forms.TimeField(
        label=_("Deadline: time"), widget=forms.TimeInput(attrs={"type": "time"})
    )

    def __init__(self, *args: Any, committee: Committee, workplaces: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.committee = committee
        self.fields["workplaces"].queryset = workplaces  # type: ignore[attr-defined]
        departments = sorted({d for w in workplaces for d in w.departments})
        self.fields["departments"].choices = [(d, d) for d in departments]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, time = data.get("deadline_date"), data.get("deadline_time")
        if day and time:
            try:
                deadline = dt.datetime.combine(day, time).replace(tzinfo=self.committee.tz)
            except (OverflowError, ValueError):
                deadline = None
            if deadline is None or deadline <= timezone.now():
                self.add_error("deadline_date", _("The deadline must be in the future."))
            else:
                data["deadline"] = deadline
        return data

    def test_data(self) -> TestData:
        d = self.cleaned_data
        return TestData(
            title=d["title"],
            kind=d["kind"],
            workplaces=list(d["workplaces"]),
            departments=list(d["departments"]),
            goal_percent=d["goal_percent"],
            deadline=d["deadline"],
        )


class PolicyForm(forms.Form):
    contact_retention_days = forms.IntegerField(
        label=_("Days to keep contacts after a campaign ends"),
        min_value=1,
        max_value=MAX_CONTACT_RETENTION_DAYS,
    )

    def __init__(self, *args: Any, policy: Policy, locked: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locked = locked
        for v in SCALE:
            for lang, own in (("en", policy.labels_en), ("es", policy.labels_es)):
                name = f"label_{lang}_{v}"
                self.fields[name] = CleanText(
                    label=_("%(value)s in %(language)s")
                    % {"value": v, "language": _("English") if lang == "en" else _("Spanish")},
                    max_length=60,
                    required=False,
                    disabled=locked,
                    initial=own.get(str(v), ""),
                    help_text=policy.label(v, lang),
                )
        self.fields["contact_retention_days"].initial = policy.contact_retention_days

    def labels(self, lang: str) -> dict[str, str]:
        return {str(v): self.cleaned_data.get(f"label_{lang}_{v}", "") for v in SCALE}
