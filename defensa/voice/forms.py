"""The numbers page's form: a phone number, the committee it belongs to, its fallback group;
and the recorded prompts page's forms: a language of the menu, and one recording."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from defensa.accounts.models import SkillKind, User
from defensa.committees.models import Committee
from defensa.core.languages import BY_CODE
from defensa.voice.models import Step, VoiceLanguage
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


_CODE = re.compile(r"^[a-z]{2,3}$")


class VoiceLanguageForm(forms.ModelForm):
    """A language for the menu: its code, its name in itself, its key, who speaks it."""

    speakers = forms.ModelMultipleChoiceField(
        label=_("Hotline operators who speak it"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("They ring first when a caller chooses this language."),
    )

    class Meta:
        model = VoiceLanguage
        fields = ("code", "name", "digit")
        labels = {
            "code": _("Code"),
            "name": _("Name in the language itself"),
            "digit": _("Menu key"),
        }
        help_texts = {
            "code": _(
                "Two or three lowercase letters, the language's ISO 639 code: mix (Mixtec), "
                "zap (Zapotec), quc (K'iche'); or one of the site's languages (es) to record "
                "it in a volunteer's voice."
            ),
            "name": _("As its speakers say it: Tu'un savi."),
            "digit": _("The key a caller presses on the language menu: 1 to 9, or 0."),
        }
        error_messages = {
            "code": {"unique": _("This language is on the menu already.")},
            "digit": {"unique": _("Another recorded language is on this key already.")},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["speakers"].queryset = (
            User.objects.filter(is_active=True, skills__kind=SkillKind.HOTLINE)
            .distinct()
            .order_by("display_name", "pk")
        )
        if self.instance.pk:
            self.fields["code"].disabled = True
            self.fields["speakers"].initial = list(self.instance.speakers.all())

    def clean_code(self) -> str:
        code = (self.cleaned_data.get("code") or "").strip().lower()
        if not (_CODE.match(code) or code in BY_CODE):
            raise forms.ValidationError(
                _("Write the language's code: two or three lowercase letters, like mix.")
            )
        return code

    def clean_digit(self) -> str:
        digit = (self.cleaned_data.get("digit") or "").strip()
        if len(digit) != 1 or digit not in "0123456789":
            raise forms.ValidationError(_("The menu key is one digit, 1 to 9 or 0."))
        return digit

    def clean_name(self) -> str:
        name = (self.cleaned_data.get("name") or "").strip()
        if not name:
            raise forms.ValidationError(_("Write the language's name."))
        return name


class PromptForm(forms.Form):
    """One recording: which step it says, and the sound file."""

    step = forms.ChoiceField(label=_("Step"), choices=Step.choices)
    recording = forms.FileField(
        label=_("Recording"),
        help_text=_("A WAV, MP3 or OGG file, longer than a third of a second, at most a minute."),
    )
