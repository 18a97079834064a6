"""Forms of pledge campaigns: every field validates strictly, errors in plain words."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from defensa.committees import own_words
from defensa.committees.access import committee_and_below
from defensa.committees.forms import normalize_phone
from defensa.committees.models import Committee, Kind
from defensa.organising.models import Workplace
from defensa.pledges.actions import CAMPAIGN_WORDS, CampaignData, known_workers, scope_workplaces
from defensa.pledges.models import MAX_DEADLINE, WORKPLACE_SCOPES, Scope, ThresholdKind

MAX_THRESHOLD = 10_000_000


def _no_controls(value: str, *, keep_lines: bool = False) -> str:
    if any(
        (ord(ch) < 0x20 and not (keep_lines and ch in "\r\n")) or ord(ch) == 0x7F for ch in value
    ):
        raise ValidationError(_("Remove the special characters."), code="control")
    return value.strip()


class CampaignForm(own_words.OtherLanguagesForm):
    other_words = CAMPAIGN_WORDS

    title_en = forms.CharField(label=_("Title in English"), max_length=120)
    title_es = forms.CharField(label=_("Title in Spanish"), max_length=120)
    text_en = forms.CharField(
        label=_("The pledge in English"),
        max_length=600,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            # A percent sign, not a placeholder: the string is never %-formatted.
            # xgettext:no-python-format
            "What each person promises, e.g. “I will walk out on Monday if 65% of us pledge.”"
        ),
    )
    text_es = forms.CharField(
        label=_("The pledge in Spanish"), max_length=600, widget=forms.Textarea(attrs={"rows": 4})
    )
    scope = forms.ChoiceField(
        label=_("Who may pledge"), choices=Scope.choices, widget=forms.RadioSelect
    )
    workplace = forms.ModelChoiceField(
        label=_("Workplace"),
        queryset=Workplace.objects.none(),
        required=False,
        help_text=_("For a workplace or department scope."),
        error_messages={"invalid_choice": _("Choose a workplace this committee organises.")},
    )
    department = forms.CharField(
        label=_("Department"),
        max_length=80,
        required=False,
        help_text=_("For a department scope: one of the workplace's departments."),
    )
    sector = forms.CharField(
        label=_("Sector"),
        max_length=80,
        required=False,
        help_text=_("For a sector scope: every workplace of this sector counts, each apart."),
    )
    threshold_kind = forms.ChoiceField(
        label=_("Threshold"),
        choices=ThresholdKind.choices,
        widget=forms.RadioSelect,
        initial=ThresholdKind.COUNT,
    )
    threshold = forms.IntegerField(
        label=_("Number of pledges, or percentage"),
        min_value=1,
        max_value=MAX_THRESHOLD,
        error_messages={"min_value": _("The threshold must be at least 1.")},
    )
    eligible_count = forms.IntegerField(
        label=_("Eligible count"),
        required=False,
        min_value=1,
        max_value=MAX_THRESHOLD,
        help_text=_(
            "How many people could pledge (needed for a percentage). For a workplace scope, "
            "left blank it is the number of workers the organisers know there."
        ),
    )
    eligible_source = forms.CharField(
        label=_("Where the eligible count comes from"),
        max_length=200,
        required=False,
        help_text=_("E.g. “the union's roll, March”, so everyone can judge the number."),
    )
    deadline_date = forms.DateField(
        label=_("Deadline: date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    deadline_time = forms.TimeField(
        label=_("Deadline: time"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    require_confirmation = forms.BooleanField(
        label=_(
            "Pledges typed on the web from unknown numbers count only once confirmed by a text"
        ),
        required=False,
        initial=True,
    )

    def __init__(self, *args: Any, committee: Committee, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.committee = committee
        all_places = Workplace.objects.filter(
            committee_id__in=committee_and_below(committee), ended_at__isnull=True
        )
        self.fields["workplace"].queryset = all_places  # type: ignore[attr-defined]
        choices = [(Scope.COMMITTEE, Scope.COMMITTEE.label)]
        if committee.kind == Kind.NETWORK:
            choices.append((Scope.NETWORK, Scope.NETWORK.label))
        if all_places.exists():
            choices += [(s, s.label) for s in WORKPLACE_SCOPES]
        self.fields["scope"].choices = choices
        self.fields["scope"].initial = Scope.COMMITTEE
        self.add_other_languages()

    def clean_title_en(self) -> str:
        return _no_controls(self.cleaned_data["title_en"])

    def clean_title_es(self) -> str:
        return _no_controls(self.cleaned_data["title_es"])

    def clean_text_en(self) -> str:
        return _no_controls(self.cleaned_data["text_en"], keep_lines=True)

    def clean_text_es(self) -> str:
        return _no_controls(self.cleaned_data["text_es"], keep_lines=True)

    def clean_eligible_source(self) -> str:
        return _no_controls(self.cleaned_data["eligible_source"])

    def clean_department(self) -> str:
        return _no_controls(self.cleaned_data["department"])

    def clean_sector(self) -> str:
        return _no_controls(self.cleaned_data["sector"])

    def _clean_scope(self, data: dict[str, Any]) -> None:
        scope, place = data.get("scope"), data.get("workplace")
        department, sector = data.get("department", ""), data.get("sector", "")
        if scope not in WORKPLACE_SCOPES:
            data["workplace"], data["department"], data["sector"] = None, "", ""
            return
        if scope == Scope.SECTOR:
            data["workplace"], data["department"] = None, ""
            found = scope_workplaces(self.committee, scope, workplace=None, sector=sector)
            if not sector or not found.exists():
                self.add_error("sector", _("No workplace of this committee is in that sector."))
                return
        else:
            data["sector"] = ""
            if place is None:
                if "workplace" not in self.errors:
                    self.add_error("workplace", _("Choose a workplace this committee organises."))
                return
            if scope == Scope.WORKPLACE:
                data["department"] = ""
            elif department not in place.departments:
                self.add_error("department", _("Choose one of the workplace's departments."))
                return
        if data.get("eligible_count") is None:
            known = known_workers(
                self.committee,
                scope,
                workplace=data["workplace"],
                department=data["department"],
                sector=data["sector"],
            )
            if known:
                data["eligible_count"] = known

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["translations"] = self.other_languages()
        self._clean_scope(data)
        kind, threshold = data.get("threshold_kind"), data.get("threshold")
        eligible, source = data.get("eligible_count"), data.get("eligible_source")
        if kind == ThresholdKind.PERCENT and threshold is not None:
            if threshold > 100:
                self.add_error("threshold", _("A percentage cannot be above 100."))
            if eligible is None:
                self.add_error("eligible_count", _("A percentage needs the eligible count."))
            if not source:
                self.add_error("eligible_source", _("Say where the eligible count comes from."))
        over = threshold is not None and eligible is not None and threshold > eligible
        if kind == ThresholdKind.COUNT and over:
            self.add_error(
                "threshold",
                ngettext(
                    "The threshold cannot be above the eligible count (%(count)d person).",
                    "The threshold cannot be above the eligible count (%(count)d people).",
                    eligible,
                )
                % {"count": eligible},
            )
        if eligible is not None and not source and kind == ThresholdKind.COUNT:
            self.add_error("eligible_source", _("Say where the eligible count comes from."))
        day, time = data.get("deadline_date"), data.get("deadline_time")
        if day and time:
            deadline = dt.datetime.combine(day, time, tzinfo=self.committee.tz)
            now = timezone.now()
            if deadline <= now:
                self.add_error("deadline_date", _("The deadline must be in the future."))
            elif deadline > now + MAX_DEADLINE:
                self.add_error("deadline_date", _("The deadline must be within a year."))
            data["deadline"] = deadline
        return data

    def campaign_data(self) -> CampaignData:
        d = self.cleaned_data
        return CampaignData(
            scope=d["scope"],
            title_en=d["title_en"],
            title_es=d["title_es"],
            text_en=d["text_en"],
            text_es=d["text_es"],
            translations=d.get("translations", {}),
            threshold_kind=d["threshold_kind"],
            threshold=d["threshold"],
            eligible_count=d.get("eligible_count"),
            eligible_source=d.get("eligible_source", ""),
            deadline=d["deadline"],
            require_confirmation=bool(d.get("require_confirmation")),
            workplace=d.get("workplace"),
            department=d.get("department", ""),
            sector=d.get("sector", ""),
        )


class PhonePledgeForm(forms.Form):
    phone = forms.CharField(
        label=_("Your mobile number"),
        max_length=24,
        help_text=_("Sealed: nobody sees it unless the threshold is reached."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )

    def clean_phone(self) -> str:
        # The form accounts use (E.164), so a member's number is recognised as theirs.
        return normalize_phone(self.cleaned_data["phone"])
