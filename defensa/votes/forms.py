"""Forms of votes: every field validates strictly, errors in plain words."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from defensa.committees import own_words
from defensa.committees.models import Committee
from defensa.core.languages import BY_CODE, OTHER
from defensa.organising.models import Workplace
from defensa.votes.actions import OPTION_WORDS, VOTE_WORDS, VoteData, voting_workplaces
from defensa.votes.models import MAX_OPTIONS, Kind, Rule


def _clean_text(value: str) -> str:
    if any((ord(ch) < 0x20 and ch not in "\r\n") or ord(ch) == 0x7F for ch in value):
        raise ValidationError(_("Remove the special characters."), code="control")
    return value.strip()


def _lines(value: str) -> list[str]:
    return [line.strip() for line in _clean_text(value).splitlines() if line.strip()]


class VoteForm(own_words.OtherLanguagesForm):
    other_words = VOTE_WORDS

    kind = forms.ChoiceField(
        label=_("Kind of vote"),
        choices=Kind.choices,
        widget=forms.RadioSelect,
        initial=Kind.YES_NO,
    )
    question_en = forms.CharField(label=_("The question in English"), max_length=300)
    question_es = forms.CharField(label=_("The question in Spanish"), max_length=300)
    options_en = forms.CharField(
        label=_("Options in English, one per line"),
        required=False,
        max_length=1500,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Only for a choice between options: 2 to 12 lines."),
    )
    options_es = forms.CharField(
        label=_("Options in Spanish, one per line, in the same order"),
        required=False,
        max_length=1500,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    rule = forms.ChoiceField(
        label=_("What passes"),
        choices=Rule.choices,
        widget=forms.RadioSelect,
        initial=Rule.MAJORITY,
    )
    share = forms.IntegerField(
        label=_("Share of everyone eligible (%)"),
        required=False,
        min_value=1,
        max_value=100,
        help_text=_("Only for “a share of everyone eligible”, e.g. 50."),
    )
    quorum = forms.IntegerField(
        label=_("Quorum: share of the roll who must vote (%)"),
        min_value=0,
        max_value=100,
        initial=0,
    )
    opens_date = forms.DateField(
        label=_("Opens: date (empty: now)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    opens_time = forms.TimeField(
        label=_("Opens: time"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    closes_date = forms.DateField(
        label=_("Closes: date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    closes_time = forms.TimeField(
        label=_("Closes: time"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    practice = forms.BooleanField(
        label=_("A practice vote (marked as practice everywhere)"), required=False
    )
    workplace = forms.ModelChoiceField(
        label=_("Workplace roll"),
        queryset=Workplace.objects.none(),
        required=False,
        empty_label=_("No: the committee's members in good standing"),
        help_text=_("The workers recorded at this workplace vote instead of the committee."),
        error_messages={"invalid_choice": _("Choose a workplace this committee organises.")},
    )
    include_contacts = forms.BooleanField(
        label=_("The workplace's contacts vote too (each gets a code by text)"), required=False
    )

    def __init__(self, *args: Any, committee: Committee, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.committee = committee
        places = voting_workplaces(committee)
        if places.exists():
            self.fields["workplace"].queryset = places  # type: ignore[attr-defined]
        else:
            del self.fields["workplace"], self.fields["include_contacts"]
        self.add_other_languages()

    def clean_question_en(self) -> str:
        return _clean_text(self.cleaned_data["question_en"])

    def clean_question_es(self) -> str:
        return _clean_text(self.cleaned_data["question_es"])

    def _other_languages(self, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The question and options typed in other languages; options only on a choice
        between options (a yes-or-no vote's answers are fixed), one per English option."""
        if data.get("kind") != Kind.OPTIONS:
            # Ignored like the English and Spanish options boxes: not checked, not kept.
            for language in OTHER:
                data[own_words.field_name(OPTION_WORDS, language)] = ""
        found = self.other_languages()
        for code, given in found.items():
            options = given.pop(OPTION_WORDS.key, None)
            if options is None or data.get("kind") != Kind.OPTIONS:
                continue
            try:
                own_words.check_lines(
                    {code: {OPTION_WORDS.key: options}}, OPTION_WORDS, len(data["options"])
                )
            except ValidationError as error:
                language = BY_CODE[code]
                self.add_error(own_words.field_name(OPTION_WORDS, language), error)
            else:
                given[OPTION_WORDS.key] = options
        return {code: given for code, given in found.items() if given}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == Kind.OPTIONS:
            try:
                en = _lines(data.get("options_en") or "")
                es = _lines(data.get("options_es") or "")
            except ValidationError as error:
                self.add_error("options_en", error)
                en, es = [], []
            if not 2 <= len(en) <= MAX_OPTIONS:
                self.add_error("options_en", _("Give between 2 and 12 options, one per line."))
            elif len(es) != len(en):
                self.add_error(
                    "options_es", _("Give each option in Spanish too, in the same order.")
                )
            elif any(len(x) > 120 for x in en + es):
                self.add_error("options_en", _("Keep each option under 120 characters."))
            data["options"] = list(zip(en, es, strict=False))
        else:
            data["options"] = []
        data["translations"] = self._other_languages(data)
        if data.get("include_contacts") and not data.get("workplace"):
            self.add_error("include_contacts", _("Only a workplace vote can let contacts vote."))
        if data.get("rule") == Rule.SHARE and not data.get("share"):
            self.add_error("share", _("Say which share of everyone eligible must vote yes."))
        now = timezone.now()
        tz = self.committee.tz
        day, time = data.get("opens_date"), data.get("opens_time")
        if day and time:
            data["opens_at"] = dt.datetime.combine(day, time, tzinfo=tz)
            if data["opens_at"] < now:
                self.add_error(
                    "opens_date", _("The opening must be in the future, or empty for now.")
                )
        elif day or time:
            self.add_error("opens_date", _("Give both the date and the time, or neither."))
        else:
            data["opens_at"] = now
        day, time = data.get("closes_date"), data.get("closes_time")
        if day and time:
            data["closes_at"] = dt.datetime.combine(day, time, tzinfo=tz)
            if "opens_at" in data and data["closes_at"] <= data["opens_at"]:
                self.add_error("closes_date", _("The vote must close after it opens."))
        return data

    def vote_data(self) -> VoteData:
        d = self.cleaned_data
        return VoteData(
            kind=d["kind"],
            question_en=d["question_en"],
            question_es=d["question_es"],
            options=d["options"],
            rule=d["rule"],
            share=d.get("share") or 0,
            quorum=d["quorum"],
            opens_at=d["opens_at"],
            closes_at=d["closes_at"],
            practice=bool(d.get("practice")),
            workplace=d.get("workplace"),
            include_contacts=bool(d.get("include_contacts")),
            translations=d.get("translations", {}),
        )


class BallotForm(forms.Form):
    code = forms.CharField(
        label=_("Your one-time code"),
        max_length=20,
        help_text=_("From the message we sent you."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "characters"}
        ),
    )
    choice = forms.TypedChoiceField(
        label=_("Your vote"), coerce=int, widget=forms.RadioSelect, choices=()
    )

    def __init__(self, *args: Any, options: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["choice"].choices = options

    def clean_code(self) -> str:
        return _clean_text(self.cleaned_data["code"])


class ReceiptForm(forms.Form):
    receipt = forms.CharField(label=_("Your receipt code"), max_length=20)

    def clean_receipt(self) -> str:
        return _clean_text(self.cleaned_data["receipt"])
